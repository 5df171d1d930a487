"""`GET /v1/changes`: the change feed, paged by seq.

The page is spliced from the stored snapshot JSON (no re-validation per change) when the store
offers `changes_raw`, which `SqlStore` does; the bytes are exactly a `ChangesPage`.
"""

from __future__ import annotations

from typing import Annotated, Protocol, runtime_checkable

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from api_client.models import ChangesPage

from ..deps import IdentityDep, StoreDep
from ..store import Store
from ._http import MAX_INT, json_response

router = APIRouter(prefix="/v1", tags=["changes"])


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


def read_page(store: Store, since: int, limit: int) -> bytes:
    if isinstance(store, RawChangeFeed):
        rows, head = store.changes_raw(since, limit)
    else:
        changes, head = store.changes(since, limit)
        rows = [(c.seq, c.action, c.request.model_dump_json()) for c in changes]
    return page_json(rows, head, since)


@router.get("/changes", response_model=ChangesPage)
def changes(
    identity: IdentityDep,
    store: StoreDep,
    since: Annotated[int, Query(ge=0, le=MAX_INT, description="Return changes with seq > since")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many changes")] = 500,
) -> Response:
    """Every change with seq > `since`, oldest first, each with the request as it stood then."""
    return json_response(read_page(store, since, limit))
