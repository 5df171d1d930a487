"""The live change stream (`GET /v1/events`): the changes themselves, or pokes to pull them.

    stream = ChangeStream(client, last_event_id=saved_seq)
    async for item in stream:            # runs until cancelled
        if isinstance(item, CarriedPage):
            apply(item.page)             # every change after item.since (check it follows yours)
        else:
            await pull_changes(upto=item.seq)

Every item says "changes up to `item.seq` exist": a `CarriedPage` (a `changes` event) brings
them, a page as `HotlineClient.pull_page` reads it; a `ChangeNotice` (a `change` event: the
server could not carry them, or is older) and a `RefusedPage` (a `changes` event that could not
be read: `error` says why) ask for a pull.

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
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse
from pydantic import TypeAdapter

from api_client.client import HotlineClient
from api_client.decoding import validate
from api_client.errors import Forbidden, HotlineError, InvalidResponse, Unauthorized, Unreachable
from api_client.models import CarriedChangesPage, CarriedPage, ChangeNotice, PulledPage
from api_client.retrying import backoff, describe_transport_error
from api_client.status_errors import status_error

_NOTICE = TypeAdapter(ChangeNotice)
_CARRIED = TypeAdapter(CarriedChangesPage)
_WHAT = "GET /v1/events"
#: The longest `Retry-After` a stream honours (a larger one is the server's mistake).
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class RefusedPage:
    """A `changes` event whose page could not be read (`error` says why): changes up to `seq`
    exist; pull them."""

    seq: int
    error: InvalidResponse


#: What the stream yields; each says "changes up to `seq` exist".
StreamItem = ChangeNotice | CarriedPage | RefusedPage


class ChangeStream:
    """The changes (or notices of them) from one central API, across reconnects.

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

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self.notices()

    async def notices(self) -> AsyncGenerator[StreamItem, None]:
        """Yield every item, reconnecting forever; raises only Unauthorized / Forbidden."""
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
            await asyncio.sleep(self.next_wait())

    def next_wait(self) -> float:
        """The backoff, or longer when the server asked for it (`Retry-After` on a 429 or 503)."""
        wait = backoff(
            self._failures, initial=self.wait_initial, maximum=self.wait_max, jitter=self.wait_jitter
        )
        asked = self.last_error.params.get("retry_after") if self.last_error is not None else None
        if isinstance(asked, int | float) and not isinstance(asked, bool) and 0 < asked <= MAX_RETRY_AFTER:
            wait = max(wait, float(asked))
        return wait

    async def _connect_once(self) -> AsyncGenerator[StreamItem, None]:
        """One connection: its items, until it ends. Failures become HotlineErrors."""
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
                    item = self._item(event)
                    if item is not None:
                        yield item
        except httpx.HTTPError as exc:
            raise Unreachable(describe_transport_error(exc, http.base_url)) from exc

    def _headers(self) -> dict[str, str]:
        if self.last_event_id is None:
            return {}
        return {"Last-Event-ID": str(self.last_event_id)}

    def _item(self, event: ServerSentEvent) -> StreamItem | None:
        """The item an event brings (None for an event type we do not know); updates the id."""
        if event.event == "changes":
            return self._carried(event)
        if event.event != "change":
            return None
        notice = validate(_NOTICE, _json(event), _WHAT)
        self.last_event_id = _event_id(event, notice.seq)
        return notice

    def _carried(self, event: ServerSentEvent) -> CarriedPage | RefusedPage:
        """A `changes` event's page; a `RefusedPage` when it cannot be read (raised when even its
        id is not a seq: where the stream stands is then unknown)."""
        try:
            carried = _carried_page(event)
        except InvalidResponse as exc:
            if not event.id.isdigit():
                raise
            self.last_event_id = int(event.id)
            return RefusedPage(seq=self.last_event_id, error=exc)
        self.last_event_id = carried.seq
        return carried


def _json(event: ServerSentEvent) -> Any:
    try:
        return orjson.loads(event.data)
    except orjson.JSONDecodeError as exc:
        raise InvalidResponse(f"the central API sent a malformed event ({exc})", field="data") from exc


def _carried_page(event: ServerSentEvent) -> CarriedPage:
    """A `changes` event read as `HotlineClient.pull_page` reads a page: each request checked as a
    `RequestStamp` and kept as its JSON; its id must be the page's `next_since`."""
    data = _json(event)
    page = validate(_CARRIED, data, _WHAT)
    if event.id and event.id != str(page.next_since):
        raise InvalidResponse(
            f"the central API sent a `changes` event with id {event.id!r} for a page that ends at"
            f" {page.next_since}",
            field="next_since",
        )
    # Valid, so `data` is a page of change objects, each with a request object: dumped back,
    # each one is exactly the JSON object that was checked.
    pulled = PulledPage(
        seqs=[change.seq for change in page.changes],
        stamps=[change.request for change in page.changes],
        requests=[orjson.dumps(change["request"]) for change in data["changes"]],
        next_since=page.next_since,
        head=page.head,
        has_more=page.has_more,
    )
    return CarriedPage(since=page.since, page=pulled)


async def listen(client: HotlineClient, last_event_id: int | None = None) -> AsyncGenerator[StreamItem, None]:
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


def _event_id(event: ServerSentEvent, seq: int) -> int:
    """The event's id as an int; `seq` when the id is missing or not a number."""
    raw = event.id or ""
    return int(raw) if raw.isdigit() else seq
