"""The newest changes of the feed in memory, and the event that brings a stream up to date.

One `ChangeRing` per server process (`ChangeRing.of(state, store, notifier)`), filled by one task:
whenever the notifier's head moves past the ring's top, it waits `COALESCE_SECONDS` (a burst
becomes one tick; longer when the last fan-out took long: `FANOUT_FACTOR`, up to
`MAX_COALESCE_SECONDS`), reads the rows after its top from the store (`read_rows`), and wakes
the streams, `WAKE_BATCH` at a time. It holds every change in (floor, top], at most about
`CAPACITY` of them. It also wakes every stream when idle for `IDLE_SECONDS`, when the tokens
version moves and when the notifier closes: streams keep no timers of their own.

`event_after(last)` is what a stream at cursor `last` sends next: a `changes` event carrying every
change in (last, top] when the ring holds them and they are not too many (`MAX_CARRIED`,
`MAX_CARRIED_BYTES`), else a `change` notice of `top` (the client pulls). Each event is encoded
once per (last, top) and the same bytes go to every stream at that cursor. The wire format is in
docs/api.md ("Live stream").

The ring also knows the units each change concerns (`Store.change_units`), so that a unit's stream
carries only its unit's changes (`unit_event`), encoded once per (unit, cursor, top).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from typing import Any

import anyio.to_thread

from central_api.change_pages import Row, change_json, one_line, page_from_changes, read_rows
from central_api.notifier import Notifier
from central_api.store import Store

#: The units of each change a batch of rows holds, by seq.
Units = dict[int, frozenset[str]]

log = logging.getLogger(__name__)

#: How long to gather a burst of writes into one event (keeps delivery well under 1 s) ...
COALESCE_SECONDS = 0.05
#: ... and at least this many times the event loop's CPU time for the last fan-out (with many
#: streams, it spends at most about a third of its time handing events out) ...
FANOUT_FACTOR = 3.0
#: ... but never longer than this.
MAX_COALESCE_SECONDS = 0.5
#: Changes the ring keeps (it trims itself to this when it holds twice as many).
CAPACITY = 2048
#: The most changes, and bytes of them, one event carries; a stream further behind gets a notice.
MAX_CARRIED = 256
MAX_CARRIED_BYTES = 1 << 20
#: Rows read from the store at a time while filling.
FILL_BATCH = 500
#: Streams woken in one turn of the event loop (between turns, it serves requests: a write never
#: waits for a whole fan-out).
WAKE_BATCH = 64
#: How long the ring waits for the head to move before it reads the store anyway and wakes every
#: stream (to check its token, to ping): streams keep no timers of their own.
IDLE_SECONDS = 0.5


def notice_event(seq: int) -> bytes:
    """A `change` event: changes up to `seq` exist; pull them."""
    return b'event: change\ndata: {"seq":%d}\nid: %d\n\n' % (seq, seq)


class ChangeRing:
    """The newest changes and the events made of them (see the module docstring)."""

    def __init__(self, store: Store, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier
        self._floor = 0
        self._top = 0
        self._seqs: list[int] = []
        self._changes: list[bytes] = []  # each change's JSON, on one line
        self._units: list[frozenset[str]] = []  # the units each change concerns
        self._events: dict[int, bytes] = {}  # by cursor, for the current top
        self._unit_events: dict[tuple[str, int, int], tuple[bytes | None, int]] = {}  # the same, a unit's
        self._waiting: list[asyncio.Future[None]] = []  # one per stream waiting to be woken
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._fanout = 0.0  # the event loop's CPU time for the last fan-out (seconds)

    @classmethod
    def of(cls, state: Any, store: Store, notifier: Notifier) -> ChangeRing:
        """The ring of an application's `state` (made at first use), its task running."""
        ring: ChangeRing | None = getattr(state, "change_ring", None)
        if ring is None:
            ring = state.change_ring = cls(store, notifier)
        ring.run_task()
        return ring

    @property
    def top(self) -> int:
        """The newest seq the ring has published."""
        return self._top

    @property
    def floor(self) -> int:
        """The ring holds every change after this seq (up to `top`)."""
        return self._floor

    def run_task(self) -> None:
        """Start the filling task unless it runs (or the notifier is closed)."""
        if self._notifier.closed:
            self._ready.set()  # nothing will fill it: streams end at once
            return
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.create_task(self._run(), name="hotline-change-ring")
        self._notifier.attach(self._task)

    async def ready(self) -> None:
        """Wait until the ring has read the store once."""
        await self._ready.wait()

    async def wait_beyond(self, last: int, *, tokens_version: int) -> None:
        """Wait until `top` is past `last`, the tokens version differs from `tokens_version`, the
        notifier closes, or at most about `IDLE_SECONDS`."""
        if self._top > last or self._notifier.tokens_version != tokens_version or self._notifier.closed:
            return
        self.run_task()  # should it have ended, nothing would wake us
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        await waiter

    def event_after(self, last: int) -> tuple[bytes, int]:
        """The event that brings a stream at `last` to `top` (see the module docstring), and
        `top`: the stream's cursor once it has sent it."""
        event = self._events.get(last)
        if event is None:
            event = self._events[last] = self._encode(last)
        return event, self._top

    def unit_event(self, unit: str, since: int, after: int) -> tuple[bytes | None, int] | None:
        """For a stream of `unit` whose client holds every change of the unit up to `since`, and
        which has looked at every change up to `after` (>= since): the event that carries the
        unit's changes in (after, top] (None when there is none) and the unit's cursor once it is
        sent; None when the ring does not reach back to `after` (the stream asks the store)."""
        if not self._floor <= after:
            return None
        key = (unit, since, after)
        found = self._unit_events.get(key)
        if found is None:
            found = self._unit_events[key] = self._encode_unit(unit, since, after)
        return found

    def _encode_unit(self, unit: str, since: int, after: int) -> tuple[bytes | None, int]:
        first = bisect.bisect_right(self._seqs, after)
        mine = [i for i in range(first, len(self._seqs)) if unit in self._units[i]]
        if not mine:
            return None, since
        last = self._seqs[mine[-1]]
        changes = [self._changes[i] for i in mine]
        if len(changes) > MAX_CARRIED or sum(map(len, changes)) > MAX_CARRIED_BYTES:
            return notice_event(last), last
        page = page_from_changes(changes, last, self._top, has_more=False, since=since)
        return b"event: changes\ndata: %b\nid: %d\n\n" % (page, last), last

    def _encode(self, last: int) -> bytes:
        if not self._floor <= last < self._top:
            return notice_event(self._top)
        first = bisect.bisect_right(self._seqs, last)
        changes = self._changes[first:]
        if len(changes) > MAX_CARRIED or sum(map(len, changes)) > MAX_CARRIED_BYTES:
            return notice_event(self._top)
        page = page_from_changes(changes, self._top, self._top, has_more=False, since=last)
        return b"event: changes\ndata: %b\nid: %d\n\n" % (page, self._top)

    # --- filling -------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            seen = self._notifier.head
            await self._fill_safely()
            self._ready.set()
            while not self._notifier.closed:
                version = self._notifier.tokens_version
                moved = await self._notifier.wait_beyond(
                    max(seen, self._top), IDLE_SECONDS, tokens_version=version
                )
                if moved is not None:
                    await asyncio.sleep(self._coalesce())
                    seen = self._notifier.head
                    await self._fill_safely()
                elif self._notifier.tokens_version != version:
                    await self._wake()  # every stream checks its token again
                elif not self._notifier.closed:
                    await self._fill_safely()  # idle: look anyway, should a move have been missed
                    await self._wake()
        finally:
            self._ready.set()
            self._wake_now()  # closed: every stream ends

    def _coalesce(self) -> float:
        return min(MAX_COALESCE_SECONDS, max(COALESCE_SECONDS, FANOUT_FACTOR * self._fanout))

    async def _fill_safely(self) -> None:
        try:
            await self._fill()
        except Exception as exc:  # a busy or unreachable database: try again at the next move
            log.warning("could not read the change feed: %s", exc)
            await asyncio.sleep(COALESCE_SECONDS)

    async def _fill(self) -> None:
        """Read every change after `top` (from at most `CAPACITY` before the head), then wake
        the streams if `top` moved."""
        before = self._top
        start = self._notifier.head - CAPACITY
        if start > self._top:
            self._reset(start)
        while True:
            rows, head, units = await anyio.to_thread.run_sync(_read, self._store, self._top)
            if head < self._top:  # the database was replaced: start again from its head
                self._reset(head)
                continue
            self._append(rows, units)
            if not rows or rows[-1][0] >= head:
                break
        if self._top != before:
            self._events.clear()
            self._unit_events.clear()
            started = time.thread_time()  # the event loop's thread: not the time others had the CPU
            await self._wake()
            self._fanout = time.thread_time() - started

    def _reset(self, seq: int) -> None:
        self._floor = self._top = seq
        self._seqs, self._changes, self._units = [], [], []

    def _append(self, rows: list[Row], units: Units) -> None:
        for seq, action, snapshot in rows:
            self._seqs.append(seq)
            self._changes.append(change_json(seq, action, one_line(snapshot)))
            self._units.append(units.get(seq, frozenset()))
        if rows:
            self._top = rows[-1][0]
        extra = len(self._seqs) - CAPACITY
        if extra >= CAPACITY:
            self._floor = self._seqs[extra - 1]
            del self._seqs[:extra], self._changes[:extra], self._units[:extra]

    async def _wake(self) -> None:
        """Wake every waiting stream, `WAKE_BATCH` at a time; returns once each has had its turn."""
        waiting, self._waiting = self._waiting, []
        for first in range(0, len(waiting), WAKE_BATCH):
            for waiter in waiting[first : first + WAKE_BATCH]:
                if not waiter.done():
                    waiter.set_result(None)
            await asyncio.sleep(0)

    def _wake_now(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)


def _read(store: Store, top: int) -> tuple[list[Row], int, Units]:
    """The rows after `top` (at most `FILL_BATCH`), the head, and the units of each row."""
    rows, head = read_rows(store, top, FILL_BATCH)
    found: dict[int, set[str]] = {}
    if rows:
        for seq, unit in store.change_units(top, rows[-1][0]):
            found.setdefault(seq, set()).add(unit)
    return rows, head, {seq: frozenset(units) for seq, units in found.items()}
