"""`GET /v1/events`: a Server-Sent Events stream that carries the changes as they are made.

A stream's cursor is its `Last-Event-ID: N` (or `?last_event_id=N`), else the head when it opens.
Whenever the process's `ChangeRing` moves past the cursor (once per coalesced burst of writes),
the stream sends the ring's event for that cursor (`changes`, carrying every change after it, or
a `change` notice to pull; docs/api.md, "Live stream") and its cursor becomes the ring's top. A
cursor past the head (the database was reset) gets a notice of the head at once. A `: ping`
comment goes out after `PING_SECONDS` without an event. The stream ends when the server shuts
down, and when its token is revoked (checked whenever the tokens version moves, and at the ring's
first wake `WAIT_SECONDS` after the last check).

The stream is a plain `StreamingResponse` of bytes the ring encoded once for every stream at the
same cursor: one task per stream, woken only by the ring (see `central_api.change_ring`).

A token may hold `MAX_STREAMS_PER_TOKEN` streams open at once on each server process; one more
gets 429 `too_many_streams`. A stream's place is given back when it ends or its client goes.

A unit's stream carries only its unit's changes (`ChangeRing.unit_event`): its cursor is the
unit's last change the client holds (`Last-Event-ID`, else the unit's newest change when it
opens), and each event holds the unit's changes after it, or is a notice of the unit's newest
change when the ring does not reach back far enough.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query
from starlette.requests import Request as HttpRequest
from starlette.responses import StreamingResponse

from central_api.change_ring import ChangeRing, notice_event
from central_api.deps import ReaderDep, ScopeDep, StoreDep, bearer_token, identify
from central_api.errors import ApiError
from central_api.notifier import Notifier
from central_api.openapi import BEARER, errors, header
from central_api.routes._http import MAX_INT
from central_api.store import Store
from central_api.stream_admission import admit_stream

router = APIRouter(prefix="/v1", tags=["changes"], dependencies=BEARER, responses=errors(401, 403))

#: How often a stream re-checks its token: after this, plus up to `CHECK_SPREAD` at random (so that
#: the streams woken together do not all ask the store at once), at the ring's next wake; with
#: `change_ring.IDLE_SECONDS` and `deps.IDENTITY_TTL`, within `deps.REVOCATION_SECONDS`.
WAIT_SECONDS = 1.0
CHECK_SPREAD = 0.5
#: Streams one token may hold open at once on one server process; one more is told to retry after
#: this many seconds.
MAX_STREAMS_PER_TOKEN = 4
RETRY_AFTER_SECONDS = 3
#: Seconds without an event after which a stream sends a `: ping` comment.
PING_SECONDS = 15.0
PING = b": ping\n\n"
#: The headers of every stream (no caching; a proxy such as nginx must not buffer it).
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


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


async def stream_place(request: HttpRequest, identity: ReaderDep) -> AsyncIterator[None]:
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
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    open_streams[identity.token_id] += 1
    try:
        yield
    finally:
        open_streams[identity.token_id] -= 1
        if open_streams[identity.token_id] <= 0:
            del open_streams[identity.token_id]


_ID = {"type": "string", "pattern": "^[0-9]+$", "description": "The newest seq the event brings"}
#: One event of the stream, as the OpenAPI document describes it (`itemSchema`).
EVENT_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["event", "data", "id"],
            "properties": {
                "event": {"const": "changes"},
                "data": {
                    "type": "string",
                    "description": "Every change after the stream's cursor `since`: a `ChangesPage` "
                    "(JSON) with `since`",
                },
                "id": _ID,
            },
        },
        {
            "type": "object",
            "required": ["event", "data", "id"],
            "properties": {
                "event": {"const": "change"},
                "data": {"type": "string", "description": '`{"seq": N}`: changes up to N exist; pull them'},
                "id": _ID,
            },
        },
    ]
}


@router.get(
    "/events",
    response_class=StreamingResponse,  # no media type: `responses` documents the stream
    responses={
        200: {
            "description": "The stream: `changes` and `change` events, and `: ping` comments",
            "content": {"text/event-stream": {"itemSchema": EVENT_SCHEMA}},
        },
        **errors(422, 429, 503),
    },
    dependencies=[Depends(admit_stream)],
    openapi_extra=header(
        "Last-Event-ID",
        {"type": "string", "pattern": "^([0-9]{1,18})?$"},
        required=False,
        description="The seq of the last change the client knows (wins over `last_event_id`).",
    ),
)
async def events(
    request: HttpRequest,
    scope: ScopeDep,
    store: StoreDep,
    start: Annotated[StreamStart, Depends(stream_start)],
    place: Annotated[None, Depends(stream_place)],
) -> StreamingResponse:
    """`text/event-stream` of the changes after the client's cursor as they are made (or, when
    this server cannot carry them, notices to pull them); a unit's token gets its unit's only."""
    notifier: Notifier = request.app.state.notifier
    ring = ChangeRing.of(request.app.state, store, notifier)
    notifier.notify(start.head)
    last = start.head if start.last_event_id is None else start.last_event_id
    if scope.unit is None:
        body = _stream(request, store, notifier, ring, last, start.head)
    else:
        if start.last_event_id is None:
            last = await anyio.to_thread.run_sync(store.unit_head, scope.unit, start.head)
        body = _unit_stream(request, store, notifier, ring, scope.unit, last, start.head)
    return StreamingResponse(body, media_type="text/event-stream", headers=STREAM_HEADERS)


async def _stream(
    request: HttpRequest, store: Store, notifier: Notifier, ring: ChangeRing, last: int, head: int
) -> AsyncIterator[bytes]:
    """The stream's bytes, from cursor `last` (the head was `head` when it opened)."""
    token = bearer_token(request)
    await ring.ready()
    if last > head:  # past the feed's end: say where it ends
        last = head
        yield notice_event(head)
    clock = asyncio.get_running_loop().time
    version = notifier.tokens_version
    next_check, next_ping = clock() + _check_after(), clock() + PING_SECONDS
    while not notifier.closed:
        if ring.top > last:
            event, last = ring.event_after(last)
            next_ping = clock() + PING_SECONDS
            yield event
        await ring.wait_beyond(last, tokens_version=version)
        if notifier.closed:
            return
        now = clock()
        if notifier.tokens_version != version or now >= next_check:
            version, next_check = notifier.tokens_version, now + _check_after()
            if token is None or await identify(request, store, token) is None:
                return  # revoked: the stream ends
        if ring.top <= last and now >= next_ping:
            next_ping = now + PING_SECONDS
            yield PING


async def _unit_stream(
    request: HttpRequest,
    store: Store,
    notifier: Notifier,
    ring: ChangeRing,
    unit: str,
    cursor: int,
    head: int,
) -> AsyncIterator[bytes]:
    """A unit's stream: `cursor` is the unit's last change its client holds, `seen` the feed's seq
    up to which the unit's changes have been sent (or found to be none)."""
    token = bearer_token(request)
    await ring.ready()
    if cursor > head:  # past the feed's end: say where it ends
        cursor = head
        yield notice_event(head)
    seen = cursor
    clock = asyncio.get_running_loop().time
    version = notifier.tokens_version
    next_check, next_ping = clock() + _check_after(), clock() + PING_SECONDS
    while not notifier.closed:
        if ring.top > seen:
            top = ring.top
            found = ring.unit_event(unit, cursor, seen)
            if found is None:  # the ring does not reach back to `seen`: ask the store
                newest = await anyio.to_thread.run_sync(store.unit_head, unit, top)
                found = (notice_event(newest), newest) if newest > cursor else (None, cursor)
            event, cursor = found
            seen = top
            if event is not None:
                next_ping = clock() + PING_SECONDS
                yield event
        await ring.wait_beyond(seen, tokens_version=version)
        if notifier.closed:
            return
        now = clock()
        if notifier.tokens_version != version or now >= next_check:
            version, next_check = notifier.tokens_version, now + _check_after()
            if token is None or await identify(request, store, token) is None:
                return  # revoked: the stream ends
        if now >= next_ping:
            next_ping = now + PING_SECONDS
            yield PING


def _check_after() -> float:
    return WAIT_SECONDS + random.uniform(0.0, CHECK_SPREAD)
