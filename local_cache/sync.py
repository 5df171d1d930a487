"""The sync engine: the local outbox to the central API, the change feed into the local cache.

    engine = SyncEngine(store, client, on_status=show, on_changed=refresh_rows)
    summary = await engine.sync_once()     # `hotline sync`: push, then pull, once
    await engine.run()                     # the app: until cancelled; `engine.wake()` after a record

**Push** (`push`): pending actions go out in the order they were recorded, with their keys and
base versions; a request's queue stops at its first failure; conflicts wait for the dispatcher.
Calls taken in go out in their place, and the actions behind them follow on the server's id.
**Pull** (`pull`): pages of the change feed from the cache's cursor, each checked before it is
applied; the cursor stays at the last good page.

**Live.** `run()` listens to the event stream from the cursor. A page the stream carries is
applied when it reaches back to the cursor (checked as a pulled page is), so a client that keeps
up never pulls; a notice, a page after a gap and a page that cannot be read ask for a pull, after
a random wait of up to `PULL_JITTER` seconds (a centre's clients do not all pull at once). While
the stream is down it polls every `poll_interval`; while the server cannot be reached it retries
with exponential backoff and jitter. Only the process that owns the cache
(`store.is_sync_owner`) pushes and pulls: it pushes every process's actions, since the outbox is
shared. Any other process only records actions and reloads the cache when the owner changes it,
and takes over when the owner has gone.

**Flushes.** Pulled pages and the server's copies that a push brings (confirmed actions,
conflicts) are flushed at most every `flush_interval` seconds, at the end of every `sync_once` and
when `run()` ends: a flush rewrites the whole cache file, so it is not done per page or action.
Flushes run in a worker thread so that an app's event loop goes on; until one runs, what was
pulled is in memory only (a crash pulls it again; the outbox is written at once, always).

Pure asyncio, no UI imports; only flushes run in a thread. Status changes reach `on_status` as
`SyncStatus`; the ids of the requests whose view may have changed reach `on_changed` (a pulled
page, a confirmed or conflicting action), called on the engine's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api_client.client import HotlineClient
from api_client.errors import HotlineError
from api_client.events import ChangeStream, RefusedPage, StreamItem
from api_client.models import CarriedPage, PulledPage
from api_client.retrying import backoff
from local_cache.errors import CacheError
from local_cache.local_store import LocalStore
from local_cache.pull import PageError, check_page, page_after, pull_pages
from local_cache.push import AUTH_ERRORS, OFFLINE_ERRORS, Push, PushResult

#: How often a process that does not own the cache looks for the owner's flushes, at most.
FOLLOW_INTERVAL = 2.0
#: How often a backoff looks whether the event stream has reconnected (the server is back).
STREAM_CHECK = 0.25
#: The longest random wait before a pull that the event stream asked for (seconds).
PULL_JITTER = 0.25
#: Carried pages kept for the next cycle at most; past that, the stream's news is pulled instead.
CARRIED_QUEUE = 100


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the UI shows about syncing: reachability, freshness and what waits locally."""

    online: bool
    last_sync: datetime | None
    pending: int
    conflicts: int
    cursor: int
    cached: int
    last_error: str = ""


@dataclass(slots=True)
class SyncSummary:
    """What one `sync_once` did: calls taken in, actions pushed, conflicts made, changes pulled,
    what failed.

    `held` counts pending actions that were not sent because an earlier action on the same
    request did not go through; `offline` says the server could not be reached.
    """

    pushed: int = 0
    taken_in: int = 0
    conflicts: int = 0
    refused: int = 0
    pulled: int = 0
    cursor: int = 0
    errors: list[str] = field(default_factory=list)
    held: int = 0
    offline: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing failed (conflicts are results, not failures)."""
        return not self.errors


class SyncEngine:
    """Syncs one `LocalStore` with one central API (see the module docstring)."""

    def __init__(
        self,
        store: LocalStore,
        client: HotlineClient,
        *,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_changed: Callable[[list[str]], None] | None = None,
        poll_interval: float = 10.0,
        page_size: int = 500,
        flush_interval: float = 1.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        backoff_jitter: float = 1.0,
    ) -> None:
        self.store = store
        self.client = client
        self.on_status = on_status
        self.on_changed = on_changed
        self.poll_interval = poll_interval
        self.page_size = page_size
        self.flush_interval = flush_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_jitter = backoff_jitter
        self.online = False
        self.last_error = ""
        self._last_sync: datetime | None = None
        self._last_flush = time.monotonic()
        self._flush_due = False
        self._failures = 0
        self._want_push = True
        self._want_pull = True
        self._pull_at = 0.0  # a pull the stream asked for waits until then (`time.monotonic()`; 0: none)
        self._carried: list[CarriedPage] = []  # pages the stream brought, for the next cycle
        self._noticed = 0  # the newest seq a notice (or a page that could not be used) told of
        self._refused = ""  # why the stream's latest page could not be read
        self._trigger = asyncio.Event()
        self._stream: ChangeStream | None = None
        self._stream_dropped = False  # the stream was down when the server was lost
        self._published: SyncStatus | None = None

    # -- status ----------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        """The status now (counts read from the store)."""
        cached, pending, conflicts = self.store.counts()
        return SyncStatus(
            online=self.online,
            last_sync=self._latest_sync(),
            pending=pending,
            conflicts=conflicts,
            cursor=self.store.cache.cursor,
            cached=cached,
            last_error=self.last_error,
        )

    def _latest_sync(self) -> datetime | None:
        saved: datetime | None = self.store.cache.last_sync
        candidates = [t for t in (saved, self._last_sync) if t is not None]
        return max(candidates) if candidates else None

    def _publish(self) -> None:
        """Tell `on_status` when the status differs from the last one it was told."""
        if self.on_status is None:
            return
        status = self.status
        if status != self._published:
            self._published = status
            self.on_status(status)

    def _changed(self, request_ids: list[str]) -> None:
        """Tell `on_changed` which requests' views may have changed (a page applied, an action
        confirmed or turned into a conflict)."""
        if self.on_changed is not None and request_ids:
            self.on_changed(request_ids)

    def _succeeded(self) -> None:
        """The server answered: online, backoff reset."""
        self.online = True
        self._failures = 0

    def _failed(self, exc: HotlineError) -> None:
        """Something stopped a push or pull: remember why and back off."""
        self.last_error = exc.message
        self._failures += 1
        if isinstance(exc, OFFLINE_ERRORS):
            self.online = False
            self._stream_dropped = not self._stream_up()

    # -- flushing --------------------------------------------------------------------------

    def _flush(self, *, force: bool = False) -> None:
        """Write the cache now if forced or `flush_interval` has passed; else mark it due."""
        if force or time.monotonic() - self._last_flush >= self.flush_interval:
            self.store.flush()
            self._last_flush = time.monotonic()
            self._flush_due = False
        else:
            self._flush_due = True

    async def _flush_soon(self, *, force: bool = False) -> None:
        """`_flush` in a worker thread: the event loop (an app's UI) goes on meanwhile."""
        if force or time.monotonic() - self._last_flush >= self.flush_interval:
            self._flush_due = False
            await asyncio.to_thread(self.store.flush)
            self._last_flush = time.monotonic()
        else:
            self._flush_due = True

    # -- push ------------------------------------------------------------------------------

    async def push(self) -> PushResult:
        """Send the pending actions in order (see `local_cache.push`); never raises for a
        failed action, only for a failure of the local cache itself."""
        result = await Push(self.store, self.client, answered=self._succeeded, changed=self._changed).run()
        if result.pushed or result.taken_in or result.conflicts or result.refused:
            await self._flush_soon()  # the server's copies the push brought
        if result.failure is not None:
            self._failed(result.failure)
        self._publish()
        return result

    # -- pull ------------------------------------------------------------------------------

    async def pull(self) -> int:
        """Apply every change after the cache's cursor; return how many changes were applied.

        Raises a HotlineError (after flushing the good pages) when a page cannot be fetched or
        is malformed: the cursor then stays at the last good page.
        """
        try:
            pulled = await pull_pages(
                self.store,
                self.client,
                page_size=self.page_size,
                flush_interval=self.flush_interval,
                applied=self._applied,
            )
        finally:
            await self._flush_soon()  # at most every flush_interval; `sync_once` forces one
            self._publish()
        self._last_sync = datetime.now(UTC)
        return pulled

    def _applied(self, page: PulledPage) -> None:
        """A pulled page is in the cache: its requests' views may have changed."""
        self._changed([stamp.id for stamp in page.stamps])
        self._succeeded()

    # -- one sync --------------------------------------------------------------------------

    async def sync_once(self) -> SyncSummary:
        """Push, then pull. Conflicts wait for the dispatcher; nothing is retried after the
        pull on its own. Failures are listed in the summary, not raised."""
        summary = SyncSummary()
        if not self.store.is_sync_owner:
            summary.errors.append(
                f"another hotline process is syncing the cache in {self.store.directory};"
                " it delivers every pending action"
            )
            return summary
        pushed = await self.push()
        summary.pushed, summary.conflicts, summary.refused = pushed.pushed, pushed.conflicts, pushed.refused
        summary.taken_in = pushed.taken_in
        summary.held, summary.offline = pushed.held, pushed.offline
        if pushed.failure is not None:
            summary.errors.append(pushed.failure.message)
        if not isinstance(pushed.failure, OFFLINE_ERRORS + AUTH_ERRORS):
            summary.pulled = await self._pull_reporting(summary)
        await self._flush_soon(force=True)
        summary.cursor = self.store.cache.cursor
        if summary.ok:
            self.last_error = ""
        self._publish()
        return summary

    async def _pull_reporting(self, summary: SyncSummary) -> int:
        """`pull()`, its failure going into `summary` instead of being raised."""
        try:
            return await self.pull()
        except HotlineError as exc:
            self._failed(exc)
            summary.offline = summary.offline or isinstance(exc, OFFLINE_ERRORS)
            summary.errors.append(exc.message)
            return 0

    # -- running ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was recorded: push soon (at once unless the engine is backing off), and
        tell `on_status` of the new pending count now."""
        self._want_push = True
        self._publish()
        if self._failures == 0:
            self._trigger.set()

    async def run(self) -> None:
        """Sync until cancelled. The owner pushes, listens and pulls; another process follows
        the owner's flushes and takes over when the owner has gone."""
        try:
            await self._follow_until_owner()
            self._reload()
            listener = asyncio.create_task(self._listen(), name="hotline-sync-listen")
            try:
                await self._work()
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
        finally:
            if self._flush_due and self.store.is_sync_owner:
                self.store.flush()

    async def _follow_until_owner(self) -> None:
        """While another process owns the cache: take in its flushes, try to take over."""
        while not self.store.try_become_sync_owner():
            self._reload()
            self._publish()
            await self._wait(min(self.poll_interval, FOLLOW_INTERVAL))

    def _reload(self) -> None:
        """Take in another process's flush; every view may have changed."""
        if self.store.reload_if_changed():
            self._changed(self.store.view_ids())

    async def _work(self) -> None:
        """The owner's loop: do what is wanted, then wait for a trigger or the next tick.

        A failure of the local cache itself (a lock held too long, a full disk) does not end
        the loop: it is shown in the status and tried again after a backoff."""
        self._publish()
        while True:
            try:
                await self._cycle()
            except CacheError as exc:
                self.last_error = str(exc)
                self._failures += 1
                self._want_push = self._want_pull = True
            self._publish()
            if not await self._pause():
                self._tick()

    async def _cycle(self) -> None:
        """Push if anything waits, then pull if wanted (not when the push found us offline)."""
        if self._want_push or self._has_pending():
            self._want_push = False
            result = await self.push()
            if result.failure is not None:
                self._want_push = True
                if isinstance(result.failure, OFFLINE_ERRORS + AUTH_ERRORS):
                    return
        await self._take_stream()
        if self._want_pull and time.monotonic() >= self._pull_at:
            self._want_pull, self._pull_at = False, 0.0
            try:
                await self.pull()
            except HotlineError as exc:
                self._want_pull = True
                self._failed(exc)
                return
        if self._flush_due:
            await self._flush_soon()
        if not self._want_push and not self._want_pull:
            self.last_error = ""

    def _has_pending(self) -> bool:
        return self.store.counts()[1] > 0

    def _stream_up(self) -> bool:
        return self._stream is not None and self._stream.connected

    def _next_delay(self) -> float:
        """Backoff while failing, else the poll interval; sooner when a flush is due."""
        if self._failures:
            delay = backoff(
                self._failures,
                initial=self.backoff_initial,
                maximum=self.backoff_max,
                jitter=self.backoff_jitter,
            )
        else:
            delay = self.poll_interval
        if self._flush_due:
            delay = min(delay, max(0.0, self._last_flush + self.flush_interval - time.monotonic()))
        if self._want_pull and self._pull_at:
            delay = min(delay, max(0.0, self._pull_at - time.monotonic()))
        return delay

    def _tick(self) -> None:
        """A timer ran out: retry what failed; poll the feed while the stream is down."""
        if self._failures or not self._stream_up():
            self._want_pull = True
        if self._stream_up():
            self.online = True

    async def _pause(self) -> bool:
        """Wait until the next cycle is due; True when something asked for it sooner.

        While backing off after losing the server, the event stream connecting again ends the
        wait: the server is back, and waiting out a long backoff would only delay the outbox."""
        delay = self._next_delay()
        if not self._failures or self.online or self._stream is None:
            return await self._wait(delay)
        stream, dropped = self._stream, self._stream_dropped
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if await self._wait(min(left, STREAM_CHECK)):
                return True
            dropped = dropped or not stream.connected
            if dropped and stream.connected:  # it went down with the server and is up again
                return True
        return False

    async def _wait(self, delay: float) -> bool:
        """Wait for a trigger or `delay` seconds; True when triggered."""
        try:
            async with asyncio.timeout(delay):
                await self._trigger.wait()
        except TimeoutError:
            return False
        finally:
            self._trigger.clear()
        return True

    async def _listen(self) -> None:
        """Follow the event stream from the cursor (what it brings is taken by `_on_item`)."""
        stream = ChangeStream(self.client, last_event_id=self.store.cache.cursor)
        self._stream = stream
        try:
            async for item in stream:
                self._on_item(item)
        except AUTH_ERRORS as exc:
            self._failed(exc)
            self._publish()

    def _on_item(self, item: StreamItem) -> None:
        """The server is there and has changes up to `item.seq`: the next cycle applies a
        carried page, or pulls for a notice or a page that could not be read."""
        self._succeeded()
        if isinstance(item, CarriedPage) and len(self._carried) < CARRIED_QUEUE:
            self._carried.append(item)
        else:
            self._noticed = max(self._noticed, item.seq)
            if isinstance(item, RefusedPage):
                self._refused = item.error.message
        self._trigger.set()

    async def _take_stream(self) -> None:
        """What the stream brought since the last cycle: carried pages applied, a pull asked
        for the rest (after a refused page, its error shown)."""
        if self._refused:
            self.last_error, self._refused = self._refused, ""
            self._publish()
        if self._carried:
            await self._apply_carried()
        if self._noticed > self.store.cache.cursor:
            self._pull_soon()
        self._noticed = 0

    def _pull_soon(self) -> None:
        """Pull after a random wait of up to `PULL_JITTER` (at once if a pull is due already)."""
        if not self._want_pull:
            self._want_pull = True
            self._pull_at = time.monotonic() + random.uniform(0.0, PULL_JITTER)

    async def _apply_carried(self) -> None:
        """Apply each carried page that reaches back to the cursor (the part after it); a page
        after a gap, or one that breaks the feed's rules, asks for a pull instead."""
        carried, self._carried = self._carried, []
        applied = False
        for item in carried:
            cursor = self.store.cache.cursor
            if item.seq <= cursor:
                continue  # held already
            if item.since > cursor:
                self._pull_soon()  # the changes between the cursor and the page are missing
                continue
            try:
                check_page(item.page, item.since)
            except PageError as exc:
                self.last_error = exc.message
                self._publish()
                self._pull_soon()
                continue
            page = page_after(item.page, cursor)
            self.store.apply_page(page)
            self._applied(page)
            applied = True
            if page.has_more:
                self._pull_soon()
        if applied:
            self._last_sync = datetime.now(UTC)
            await self._flush_soon()
