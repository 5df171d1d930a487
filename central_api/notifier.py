"""Change notifications for the `/v1/events` stream.

A `Notifier` knows the newest change seq ("head") and wakes the SSE streams waiting for it to
move. It learns about changes two ways:
- `notify(head)`, called by the store after each committed write in this process (from any
  thread: writes run in the threadpool), which wakes the streams at once;
- a poll of the database head every `poll_interval` seconds, so that several server processes
  sharing one database still notify each other's clients.

The same poll reads the tokens version (`read_tokens_version`), which moves when a token is
revoked in any process; `tokens_version` is what the identity cache and the streams compare
with, and a move wakes every stream so it checks its token again (`tokens_changed` says it at once
for a revocation in this process).

`close()` (thread-safe) ends every stream promptly; the server calls it when it starts shutting
down, because uvicorn waits for open connections to finish before it stops. A task that serves
the streams (the change ring's) is `attach`ed: `stop()` cancels it and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import anyio.to_thread

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        read_head: Callable[[], int],
        *,
        read_tokens_version: Callable[[], int] | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        self._read_head = read_head
        self._read_tokens_version = read_tokens_version
        self.poll_interval = poll_interval
        self._head = 0
        self._tokens_version = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._poller: asyncio.Task[None] | None = None
        self._attached: set[asyncio.Task[None]] = set()

    @property
    def head(self) -> int:
        """The newest seq this notifier has seen."""
        return self._head

    @property
    def tokens_version(self) -> int:
        """The newest tokens version this notifier has seen."""
        return self._tokens_version

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> None:
        """Bind to the running event loop, read the head, and start polling."""
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._closed = False
        head, version = await anyio.to_thread.run_sync(self._read)
        self._head = max(self._head, head)
        self._tokens_version = max(self._tokens_version, version)
        self._poller = asyncio.create_task(self._poll(), name="hotline-notifier-poll")

    async def stop(self) -> None:
        """Close, and stop polling and every attached task."""
        self.close()
        tasks = [*self._attached, *([self._poller] if self._poller is not None else [])]
        self._attached.clear()
        self._poller = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None

    def attach(self, task: asyncio.Task[None]) -> None:
        """`task` lives as long as this notifier: `stop()` cancels it and waits for it."""
        self._attached.add(task)
        task.add_done_callback(self._attached.discard)

    def notify(self, head: int) -> None:
        """The head is now at least `head`. Safe to call from any thread."""
        self._call_in_loop(self._bump, head)

    def tokens_changed(self, version: int) -> None:
        """The tokens version is now at least `version`. Safe to call from any thread."""
        self._call_in_loop(self._bump_tokens, version)

    def close(self) -> None:
        """End every waiting stream. Safe to call from any thread, more than once."""
        self._closed = True
        self._call_in_loop(self._wake)

    async def wait_beyond(self, seq: int, timeout: float, *, tokens_version: int | None = None) -> int | None:
        """Wait until the head is past `seq` and return it; None on timeout, when closed, or when
        the tokens version differs from `tokens_version` (when given)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._closed:
            if self._head > seq:
                return self._head
            if tokens_version is not None and self._tokens_version != tokens_version:
                return None
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if self._changed is None:  # not started (no lifespan): nothing will wake us
                await asyncio.sleep(remaining)
                return None
            try:
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return None
        return None

    # --- inside the event loop ---------------------------------------------------------------
    def _call_in_loop(self, callback: Callable[..., None], *args: int) -> None:
        loop = self._loop
        if loop is None:
            callback(*args)  # not started: no waiter to wake, just record
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(callback, *args)

    def _bump(self, head: int) -> None:
        if head > self._head:
            self._head = head
            self._wake()

    def _bump_tokens(self, version: int) -> None:
        if version > self._tokens_version:
            self._tokens_version = version
            self._wake()

    def _wake(self) -> None:
        if self._changed is not None:
            event, self._changed = self._changed, asyncio.Event()
            event.set()

    async def _poll(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.poll_interval)
            try:
                head, version = await anyio.to_thread.run_sync(self._read)
            except Exception as exc:  # a busy or unreachable database: try again next time
                log.warning("could not read the change head: %s", exc)
                continue
            self._bump_tokens(version)
            self._bump(head)

    def _read(self) -> tuple[int, int]:
        version = self._read_tokens_version() if self._read_tokens_version is not None else 0
        return self._read_head(), version
