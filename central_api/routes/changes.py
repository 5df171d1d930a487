"""`GET /v1/changes`: the change feed, paged by seq.

The page is spliced from the stored snapshot JSON (no re-validation per change) when the store
offers `changes_raw`, which `SqlStore` does; the bytes are exactly a `ChangesPage`.

A client that accepts `application/x-ndjson` gets the same page as lines (`page_lines`): the
page without its requests first, then each request's JSON on a line of its own, so that a
client can keep each request's bytes without parsing the page.
"""

from __future__ import annotations

from typing import Annotated, Protocol, runtime_checkable

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api_client.domain import bounds
from api_client.models import CHANGE_LINES, ChangesPage
from central_api.deps import IdentityDep, StoreDep
from central_api.openapi import BEARER, errors
from central_api.routes._http import json_response
from central_api.store import Store

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=BEARER, responses=errors(401, 403))


@runtime_checkable
class RawChangeFeed(Protocol):
    def changes_raw(self, since: int, limit: int) -> tuple[list[tuple[int, str, str]], int]: ...


def page_json(rows: list[tuple[int, str, str]], head: int, since: int) -> bytes:
    """A `ChangesPage` as JSON, from (seq, action, request JSON) rows."""
    parts: list[bytes] = [b'{"changes":[']
    for i, (seq, action, snapshot) in enumerate(rows):
        if i:
            parts.append(b",")
        parts.append(b'{"seq":%d,"action":%b,"request":%b}' % (seq, orjson.dumps(action), snapshot.encode()))
    next_since = rows[-1][0] if rows else since
    has_more = bool(rows) and next_since < head
    parts.append(
        b'],"next_since":%d,"head":%d,"has_more":%b}' % (next_since, head, b"true" if has_more else b"false")
    )
    return b"".join(parts)


def page_lines(rows: list[tuple[int, str, str]], head: int, since: int) -> bytes:
    """A page as lines (see `api_client.models.ChangeLinesHead`): the head, then each request's
    JSON on a line of its own."""
    next_since = rows[-1][0] if rows else since
    first = {
        "next_since": next_since,
        "head": head,
        "has_more": bool(rows) and next_since < head,
        "changes": [(seq, action) for seq, action, _snapshot in rows],
    }
    lines = [orjson.dumps(first)]
    lines += (_one_line(snapshot) for _seq, _action, snapshot in rows)
    lines.append(b"")
    return b"\n".join(lines)


def _one_line(snapshot: str) -> bytes:
    """Stored JSON as one line (compact JSON has no newline; anything else is re-dumped)."""
    data = snapshot.encode()
    return orjson.dumps(orjson.loads(data)) if b"\n" in data else data


def read_rows(store: Store, since: int, limit: int) -> tuple[list[tuple[int, str, str]], int]:
    """The (seq, action, request JSON) rows of a page, and the head."""
    if isinstance(store, RawChangeFeed):
        return store.changes_raw(since, limit)
    changes, head = store.changes(since, limit)
    return [(c.seq, c.action, c.request.model_dump_json()) for c in changes], head


def read_page(store: Store, since: int, limit: int) -> bytes:
    rows, head = read_rows(store, since, limit)
    return page_json(rows, head, since)


@router.get(
    "/changes",
    response_model=ChangesPage,
    responses={
        200: {"content": {CHANGE_LINES: {"schema": {"type": "string"}}}, "description": "The page"},
        **errors(422),
    },
)
def changes(
    identity: IdentityDep,
    store: StoreDep,
    since: Annotated[int, Query(ge=0, le=bounds.MAX_INT, description="Return changes with seq > since")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=bounds.MAX_CHANGES_LIMIT, description="At most this many changes")
    ] = 500,
    accept: Annotated[str, Header(description=f"{CHANGE_LINES} for the page as lines")] = "",
) -> Response:
    """Every change with seq > `since`, oldest first, each with the request as it stood then."""
    rows, head = read_rows(store, since, limit)
    if CHANGE_LINES in accept:
        return Response(content=page_lines(rows, head, since), media_type=CHANGE_LINES)
    return json_response(page_json(rows, head, since))
