"""`GET /v1/events`: a Server-Sent Events stream poking clients to pull the change feed.

Each event is `id: <seq>`, `event: change`, `data: {"seq": <seq>}`; bursts are coalesced into one
event carrying the newest seq. With `Last-Event-ID: N` (or `?last_event_id=N`), an event is sent at
once when the head differs from N (past it, or behind it after a database reset). FastAPI sends a
`: ping` comment after 15 s without an event. The stream ends when the server shuts down, and
when its token is revoked (checked whenever the tokens version moves, and every `WAIT_SECONDS`).

A token may hold `MAX_STREAMS_PER_TOKEN` streams open at once on each server process; one more
gets 429 `too_many_streams`. A stream's place is given back when it ends or its client goes.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.requests import Request as HttpRequest

from central_api.deps import IdentityDep, StoreDep, bearer_token, identify
from central_api.errors import ApiError
from central_api.notifier import Notifier
from central_api.openapi import BEARER, errors, header
from central_api.routes._http import MAX_INT

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=BEARER, responses=errors(401, 403))

#: How long to gather a burst of writes into one event (keeps delivery well under 1 s).
COALESCE_SECONDS = 0.05
#: How often an idle stream re-checks its token and that the server is not shutting down.
WAIT_SECONDS = 2.0
#: Streams one token may hold open at once on one server process.
MAX_STREAMS_PER_TOKEN = 4


@dataclass(frozen=True)
class StreamStart:
    last_event_id: int | None
    head: int


def stream_start(
    store: StoreDep,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", include_in_schema=False)
    ] = None,
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


async def stream_place(request: HttpRequest, identity: IdentityDep) -> AsyncIterator[None]:
    """One of the token's `MAX_STREAMS_PER_TOKEN` places, held while the stream is open; 429
    when they are all taken."""
    state = request.app.state
    open_streams: Counter[int] | None = getattr(state, "open_streams", None)
    if open_streams is None:
        open_streams = state.open_streams = Counter()
    if open_streams[identity.token_id] >= MAX_STREAMS_PER_TOKEN:
        raise ApiError(
            429,
            "too_many_streams",
            f"This token has {MAX_STREAMS_PER_TOKEN} event streams open already: close one first.",
            {"limit": MAX_STREAMS_PER_TOKEN},
            headers={"Retry-After": str(int(WAIT_SECONDS) + 1)},
        )
    open_streams[identity.token_id] += 1
    try:
        yield
    finally:
        open_streams[identity.token_id] -= 1
        if open_streams[identity.token_id] <= 0:
            del open_streams[identity.token_id]


def change_event(seq: int) -> ServerSentEvent:
    return ServerSentEvent(id=str(seq), event="change", raw_data=orjson.dumps({"seq": seq}).decode())


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=errors(422, 429),
    openapi_extra=header(
        "Last-Event-ID",
        {"type": "string", "pattern": "^([0-9]{1,18})?$"},
        required=False,
        description="The seq of the last change the client knows (wins over `last_event_id`).",
    ),
)
async def events(
    request: HttpRequest,
    identity: IdentityDep,
    store: StoreDep,
    start: Annotated[StreamStart, Depends(stream_start)],
    place: Annotated[None, Depends(stream_place)],
) -> AsyncIterator[ServerSentEvent]:
    """`text/event-stream` of change notices: "changes up to seq are ready, pull"."""
    notifier: Notifier = request.app.state.notifier
    token = bearer_token(request)
    notifier.notify(start.head)
    last = start.head if start.last_event_id is None else start.last_event_id
    if last != start.head:
        last = start.head
        yield change_event(last)
    while not notifier.closed:
        tokens_version = notifier.tokens_version
        head = await notifier.wait_beyond(last, WAIT_SECONDS, tokens_version=tokens_version)
        if token is None or await identify(request, store, token) is None:
            return  # revoked: the stream ends
        if head is None:
            continue
        await asyncio.sleep(COALESCE_SECONDS)
        if notifier.closed:
            break
        last = notifier.head
        yield change_event(last)
