"""When Python's cycle collector may stop the app: `CollectorPolicy`.

A full collection walks every object the process holds that is not frozen. Measured in
`bench/storm.py` (a few thousand cached requests, 100 arrivals a second): the live set grows with
every pulled request, the widgets' short-lived render caches keep promoting objects to the oldest
generation, and a full collection ran every second or so, each one stopping the event loop for
0.2 to 1 s, in the middle of the dispatcher's keystrokes.

The young generations are left as they are (a millisecond or two each). The policy changes what a
full collection walks and when the one expensive collection happens:

- After each full collection the objects that survived it are frozen (`gc.freeze()`): they have
  lived through every generation (cached requests, rows, widgets), and the next full collection
  walks only what was promoted since, which takes milliseconds.
- A frozen object is never collected as part of a reference cycle (one freed by its last reference
  still is). So once the dispatcher has pressed no key for `idle_after` seconds, and at most every
  `every` seconds, everything is unfrozen and collected in one go, then frozen again: the one long
  pause falls when nobody is typing. If the dispatcher never stops for that long, it happens after
  `longest` seconds anyway.

One policy per process is active at a time (the collector is the process's); `stop` undoes it.

Besides the policy, code that makes a great many long-lived objects at once (the queue model's
rows, a cache parsed whole) pauses the collector around it (`paused`) and may freeze what it
made (`freeze_survivors`). This is the only module of the product that touches `gc`.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

__all__ = ["CollectorPolicy", "freeze_survivors", "paused"]

#: Seconds without a key before the dispatcher counts as idle.
IDLE_AFTER: Final = 10.0
#: At most one whole collection every this many seconds, when idle.
EVERY: Final = 120.0
#: At least one whole collection every this many seconds, idle or not.
LONGEST: Final = 900.0


class CollectorPolicy:
    """Freeze the survivors of each full collection; unfreeze and collect all when idle.

    `touched()` on every key or click; `tick()` every second or so, on the UI's thread (a whole
    collection runs there: it stops every thread anyway)."""

    def __init__(
        self,
        *,
        idle_after: float = IDLE_AFTER,
        every: float = EVERY,
        longest: float = LONGEST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_after, self.every, self.longest = idle_after, every, longest
        self.clock = clock
        self.active = False
        self.whole_collections = 0  # how many times everything was unfrozen and collected
        self._freeze_due = False
        self._last_input = self._last_whole = clock()

    def start(self) -> None:
        """Take over the process's collector (again after `stop`)."""
        if not self.active:
            gc.callbacks.append(self._collected)
            self.active = True
            self._last_input = self._last_whole = self.clock()

    def stop(self) -> None:
        """Give the collector back as it was: nothing frozen by the policy stays frozen."""
        if self.active:
            gc.callbacks.remove(self._collected)
            self.active = False
            self._freeze_due = False
            gc.unfreeze()

    def touched(self) -> None:
        """The dispatcher pressed a key or clicked."""
        self._last_input = self.clock()

    def idle_for(self) -> float:
        """Seconds since the last key or click."""
        return self.clock() - self._last_input

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        # Called by the collector, from whichever thread triggered it: only note it.
        if phase == "stop" and info.get("generation") == 2:
            self._freeze_due = True

    def tick(self) -> bool:
        """Freeze what the last full collection kept; when idle (or at the latest), collect
        everything once. Returns whether it collected everything."""
        if not self.active:
            return False
        now = self.clock()
        idle = now - self._last_input >= self.idle_after and now - self._last_whole >= self.every
        if idle or now - self._last_whole >= self.longest:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._freeze_due = False
            self._last_whole = self.clock()
            self.whole_collections += 1
            return True
        if self._freeze_due:
            self._freeze_due = False
            gc.freeze()
        return False


class _Pauses:
    """How many `paused` blocks are running, in every thread, and whether the collector was on
    before the first of them began."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # re-entrant: a finalizer may pause in the middle of it
        self.running = 0
        self.was_enabled = False

    def enter(self) -> None:
        with self.lock:
            self.running += 1
            if self.running == 1:
                self.was_enabled = gc.isenabled()
                gc.disable()

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            if self.running == 0 and self.was_enabled:
                gc.enable()


_PAUSES: Final = _Pauses()


@contextmanager
def paused() -> Iterator[None]:
    """No automatic cyclic collection inside (an explicit one, as `CollectorPolicy.tick` runs,
    still works): for making many objects that form no cycles, which the collector would walk
    again and again (~10 µs an object instead of ~1).

    Safe from any thread and nested: the collector stays off while any block runs, and is turned
    back on when the last one leaves, if it was on when the first one began."""
    _PAUSES.enter()
    try:
        yield
    finally:
        _PAUSES.leave()


def freeze_survivors() -> None:
    """Move every object alive now out of the collector's sight (`gc.freeze`): full collections
    stop walking them. They are still freed when their last reference goes; a cycle among them
    waits for `CollectorPolicy`'s whole collection (or its `stop`)."""
    gc.freeze()
