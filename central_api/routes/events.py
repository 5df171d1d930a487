"""`GET /v1/events`: a Server-Sent Events stream poking clients to pull the change feed.

Each event is `id: <seq>`, `event: change`, `data: {"seq": <seq>}`; bursts are coalesced into one
event carrying the newest seq. With `Last-Event-ID: N` (or `?last_event_id=N`), an event is sent at
once when the head differs from N (past it, or behind it after a database reset). FastAPI sends a
`: ping` comment after 15 s without an event. The stream ends when the server shuts down.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.requests import Request as HttpRequest

from central_api.deps import IdentityDep, StoreDep
from central_api.errors import ApiError
from central_api.notifier import Notifier
from central_api.routes._http import MAX_INT

router = APIRouter(prefix="/v1", tags=["changes"])

#: How long to gather a burst of writes into one event (keeps delivery well under 1 s).
COALESCE_SECONDS = 0.05
#: How often an idle stream re-checks that the server is not shutting down.
WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class StreamStart:
    last_event_id: int | None
    head: int


def stream_start(
    store: StoreDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
) -> StreamStart:
    """Where the client is (the header wins over the query), and the head now."""
    value = last_event_id
    if last_event_id_header is not None and last_event_id_header.strip():
        text = last_event_id_header.strip()
        if not re.fullmatch(r"[0-9]{1,18}", text):
            raise ApiError(
                422,
                "invalid_last_event_id",
                "Last-Event-ID: must be a non-negative integer (a change seq).",
                {"value": text},
            )
        value = int(text)
    return StreamStart(last_event_id=value, head=store.head())


def change_event(seq: int) -> ServerSentEvent:
    return ServerSentEvent(id=str(seq), event="change", raw_data=orjson.dumps({"seq": seq}).decode())


@router.get("/events", response_class=EventSourceResponse)
async def events(
    request: HttpRequest,
    identity: IdentityDep,
    start: Annotated[StreamStart, Depends(stream_start)],
) -> AsyncIterator[ServerSentEvent]:
    """`text/event-stream` of change notices: "changes up to seq are ready, pull"."""
    notifier: Notifier = request.app.state.notifier
    notifier.notify(start.head)
    last = start.head if start.last_event_id is None else start.last_event_id
    if last != start.head:
        last = start.head
        yield change_event(last)
    while not notifier.closed:
        if await notifier.wait_beyond(last, WAIT_SECONDS) is None:
            continue
        await asyncio.sleep(COALESCE_SECONDS)
        if notifier.closed:
            break
        last = notifier.head
        yield change_event(last)
