"""`GET /v1/changes`: the change feed, paged by seq (the bytes: `central_api.change_pages`).

A client that accepts `application/x-ndjson` gets the same page as lines (`page_lines`): the
page without its requests first, then each request's JSON on a line of its own, so that a
client can keep each request's bytes without parsing the page.

A unit's token reads only the changes that concern its unit (`change_units`): those of the
requests it leads or co-handles, and the change that takes one away from it (a return, a dispatch
elsewhere), so that its cache drops or updates it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api_client.domain import bounds
from api_client.models import CHANGE_LINES, ChangesPage
from central_api.change_pages import page_json, page_lines, read_rows
from central_api.deps import READ_SLOT, ScopeDep, StoreDep
from central_api.openapi import BEARER, errors
from central_api.routes._http import json_response

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=BEARER, responses=errors(401, 403))


@router.get(
    "/changes",
    dependencies=READ_SLOT,
    response_model=ChangesPage,
    responses={
        200: {"content": {CHANGE_LINES: {"schema": {"type": "string"}}}, "description": "The page"},
        **errors(422),
    },
)
def changes(
    scope: ScopeDep,
    store: StoreDep,
    since: Annotated[int, Query(ge=0, le=bounds.MAX_INT, description="Return changes with seq > since")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=bounds.MAX_CHANGES_LIMIT, description="At most this many changes")
    ] = 500,
    accept: Annotated[str, Header(description=f"{CHANGE_LINES} for the page as lines")] = "",
) -> Response:
    """Every change with seq > `since`, oldest first, each with the request as it stood then (for
    a unit's token, those that concern its unit)."""
    rows, head = read_rows(store, since, limit, scope.unit)
    full = None if scope.unit is None else limit
    if CHANGE_LINES in accept:
        return Response(content=page_lines(rows, head, since, full=full), media_type=CHANGE_LINES)
    return json_response(page_json(rows, head, since, full=full))
