"""The server's open-file budget, and event streams admitted only while it lasts.

Every event stream holds a socket open for as long as its client stays. `admit_stream` (a FastAPI
dependency of the events route) answers a new stream `503 server_busy` with `Retry-After` once
the open descriptors come within `reserve` of the open-file limit, so that writes, pulls and the
database always find a descriptor: the server never fails for want of one. Refusals are logged at
most once per `LOG_EVERY_SECONDS`, with how many there were.

Counting the open descriptors takes time in proportion to them (0.4 ms at 1,000, 3.7 ms at 4,000),
on the event loop, so a count is reused (plus one for each stream admitted since) until it has
cost no more than `COUNT_SHARE` of the time since it was made.

`raise_open_file_limit()` raises the soft limit to the hard one at start, where the system allows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import time
from collections.abc import Callable

from fastapi import Request

from central_api.errors import ApiError
from central_api.sql.engine import POOL_OVERFLOW, POOL_SIZE, WORKER_THREADS

log = logging.getLogger(__name__)

#: Descriptors kept free of streams: two for each pooled connection (a socket on PostgreSQL; the
#: file and its log on SQLite), one for each worker thread's client, and the process's own files.
RESERVE = 2 * (POOL_SIZE + POOL_OVERFLOW) + WORKER_THREADS + 64
#: What `Retry-After` says to a refused stream (seconds).
RETRY_AFTER_SECONDS = 10
LOG_EVERY_SECONDS = 60.0
#: The most of the event loop's time counting descriptors may take (a count lasts that long).
COUNT_SHARE = 0.01
#: A soft limit raised from "unlimited" hard limits stops here (the kernel refuses more anyway).
_CEILING = 1 << 20
_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def open_file_limit() -> int:
    """The soft limit on open descriptors of this process."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return _CEILING if soft == resource.RLIM_INFINITY else soft


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft open-file limit as far as the hard limit allows; (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        # a kernel ceiling below the hard limit refuses it: the soft limit stays
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return soft, open_file_limit()


def open_descriptors() -> int | None:
    """How many descriptors this process has open (None where the system does not say)."""
    for path in _FD_DIRS:
        try:
            return len(os.listdir(path)) - 1  # less the one listing the directory
        except OSError:
            continue
    return None


class StreamAdmission:
    """Admits a new stream while open descriptors stay below `limit - reserve` (`limit`: the
    process's soft limit, read on each check, unless given)."""

    def __init__(
        self,
        *,
        limit: int | None = None,
        reserve: int = RESERVE,
        count: Callable[[], int | None] = open_descriptors,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.reserve = reserve
        self._count = count
        self._clock = clock
        self._open: int | None = None  # the last count, plus the streams admitted since
        self._fresh_until = 0.0
        self._refused = 0  # since the last log line
        self._logged_at: float | None = None

    def check(self) -> None:
        """Raise `503 server_busy` when a new stream would eat into the reserve."""
        open_now = self._open_now()
        limit = self.limit if self.limit is not None else open_file_limit()
        if open_now is None or open_now < limit - self.reserve:
            if self._open is not None:
                self._open += 1
            return
        self._note_refusal(open_now, limit)
        raise ApiError(
            503,
            "server_busy",
            f"The server has no room for another event stream now: try again in {RETRY_AFTER_SECONDS} s.",
            {"retry_after": RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    def _open_now(self) -> int | None:
        started = self._clock()
        if self._open is None or started >= self._fresh_until:
            self._open = self._count()
            spent = self._clock() - started
            self._fresh_until = started + spent / COUNT_SHARE
        return self._open

    def _note_refusal(self, open_now: int, limit: int) -> None:
        self._refused += 1
        now = self._clock()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY_SECONDS:
            return
        log.warning(
            "refused %d new event stream(s): %d of %d open files in use, %d kept for writes and the"
            " database (raise the open-file limit, ulimit -n, or add server processes)",
            self._refused,
            open_now,
            limit,
            self.reserve,
        )
        self._refused, self._logged_at = 0, now


def stream_admission(request: Request) -> StreamAdmission:
    """The app's `StreamAdmission` (`app.state.stream_admission`; made at first use)."""
    state = request.app.state
    admission: StreamAdmission | None = getattr(state, "stream_admission", None)
    if admission is None:
        admission = state.stream_admission = StreamAdmission()
    return admission


async def admit_stream(request: Request) -> None:
    """The events route's dependency: 503 with `Retry-After` when the budget is spent."""
    stream_admission(request).check()
