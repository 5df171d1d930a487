"""The live change stream (`GET /v1/events`): pokes that say "changes up to seq are ready, pull".

    stream = ChangeStream(client, last_event_id=saved_seq)
    async for notice in stream:          # runs until cancelled
        await pull_changes(upto=notice.seq)

The stream reconnects forever: when the connection drops, the server is down, answers an error
or sends something malformed, it waits (exponential backoff with jitter, capped at `wait_max`,
reset after every successful connect) and connects again, sending ``Last-Event-ID`` so the
server can tell at once if something happened in between. Only 401 and 403 end it (raised:
reconnecting will not fix a bad token). There is no deadline on the stream itself, but a read
timeout larger than the server's 15 s ping interval notices a silently dead connection.

Cancelling the consuming task closes the connection. A consumer that stops iterating early
should close the iterator (``contextlib.aclosing(stream.notices())``) so the connection is
released at once rather than when the generator is collected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

import httpx
import orjson
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse
from pydantic import TypeAdapter

from api_client.client import HotlineClient
from api_client.decoding import validate
from api_client.errors import Forbidden, HotlineError, InvalidResponse, Unauthorized, Unreachable
from api_client.models import ChangeNotice
from api_client.retrying import backoff, describe_transport_error
from api_client.status_errors import status_error

_NOTICE = TypeAdapter(ChangeNotice)
_WHAT = "GET /v1/events"


class ChangeStream:
    """Change notices from one central API, across reconnects.

    `last_event_id` is the newest event id seen (sent as ``Last-Event-ID`` on every connect);
    `connected` says whether a stream is open now; `last_error` is why the latest connection
    ended (None while none has failed); `reconnects` counts connection attempts after the first.
    """

    def __init__(
        self,
        client: HotlineClient,
        *,
        last_event_id: int | None = None,
        read_timeout: float = 45.0,
        wait_initial: float = 0.5,
        wait_max: float = 5.0,
        wait_jitter: float = 0.5,
    ) -> None:
        self.client = client
        self.last_event_id = last_event_id
        self.read_timeout = read_timeout
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.wait_jitter = wait_jitter
        self.connected = False
        self.last_error: HotlineError | None = None
        self.reconnects = 0
        self._failures = 0

    def __aiter__(self) -> AsyncIterator[ChangeNotice]:
        return self.notices()

    async def notices(self) -> AsyncGenerator[ChangeNotice, None]:
        """Yield every notice, reconnecting forever; raises only Unauthorized / Forbidden."""
        while True:
            try:
                # aclosing: a consumer that stops early closes this connection at once.
                async with contextlib.aclosing(self._connect_once()) as notices:
                    async for notice in notices:
                        yield notice
                self.last_error = Unreachable(
                    f"the central API at {self.client.base_url} closed the event stream"
                )
            except (Unauthorized, Forbidden):
                raise
            except HotlineError as exc:
                self.last_error = exc
            finally:
                self.connected = False
            self._failures += 1
            self.reconnects += 1
            await asyncio.sleep(self._next_wait())

    def _next_wait(self) -> float:
        return backoff(
            self._failures, initial=self.wait_initial, maximum=self.wait_max, jitter=self.wait_jitter
        )

    async def _connect_once(self) -> AsyncGenerator[ChangeNotice, None]:
        """One connection: its notices, until it ends. Failures become HotlineErrors."""
        http = self.client._http
        timeout = httpx.Timeout(self.read_timeout, connect=self.client.connect_timeout)
        try:
            async with aconnect_sse(
                http, "GET", "/v1/events", headers=self._headers(), timeout=timeout
            ) as source:
                await _check_opened(source, self.client._origin)
                self.connected = True
                self._failures = 0
                async for event in source.aiter_sse():
                    notice = self._notice(event)
                    if notice is not None:
                        yield notice
        except httpx.HTTPError as exc:
            raise Unreachable(describe_transport_error(exc, http.base_url)) from exc

    def _headers(self) -> dict[str, str]:
        if self.last_event_id is None:
            return {}
        return {"Last-Event-ID": str(self.last_event_id)}

    def _notice(self, event: ServerSentEvent) -> ChangeNotice | None:
        """The notice an event carries (None for an event type we do not know); updates the id."""
        if event.event != "change":
            return None
        try:
            data = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise InvalidResponse(f"the central API sent a malformed event ({exc})", field="data") from exc
        notice = validate(_NOTICE, data, _WHAT)
        self.last_event_id = _event_id(event, notice)
        return notice


async def listen(
    client: HotlineClient, last_event_id: int | None = None
) -> AsyncGenerator[ChangeNotice, None]:
    """Shorthand for ``ChangeStream(client, last_event_id=...).notices()``."""
    async for notice in ChangeStream(client, last_event_id=last_event_id):
        yield notice


async def _check_opened(source: EventSource, server: str) -> None:
    """Raise for an error status or a body that is not an event stream."""
    response = source.response
    if response.status_code != 200:
        await response.aread()
        raise status_error(response, _WHAT, server)
    content_type = response.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if content_type != "text/event-stream":
        raise InvalidResponse(
            f"the central API answered {_WHAT} with {content_type or 'no content type'}, not an event stream",
            status=response.status_code,
        )


def _event_id(event: ServerSentEvent, notice: ChangeNotice) -> int:
    """The event's id as an int; the notice's seq when the id is missing or not a number."""
    raw = event.id or ""
    return int(raw) if raw.isdigit() else notice.seq
