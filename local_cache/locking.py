"""Locks between hotline processes (and threads) sharing one cache directory.

`FileLock` takes an exclusive `fcntl.flock` on a separate lock file (0600), never on the data
file itself: data files are replaced by `os.replace`, so a lock on one would lock a file that no
longer has the name. Within one process a `threading.Lock` per lock file comes first, because
two descriptors of one process would otherwise contend through the kernel only.

`try_exclusive` is the non-blocking form, held until `release()`: it elects the single process
that syncs a cache.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from local_cache.errors import CacheBusy, CacheError

LOCK_SUFFIX = ".lock"
_registry_guard = threading.Lock()
_registry: dict[str, threading.Lock] = {}


def _forget_thread_locks() -> None:
    """In a forked child: locks another thread of the parent held are not ours to wait for."""
    global _registry_guard, _registry
    _registry_guard = threading.Lock()
    _registry = {}


os.register_at_fork(after_in_child=_forget_thread_locks)


def lock_path_for(path: Path) -> Path:
    """The lock file guarding `path`: `path` itself when it ends in `.lock`, else `path.lock`."""
    path = Path(path)
    return path if path.name.endswith(LOCK_SUFFIX) else path.with_name(path.name + LOCK_SUFFIX)


def _thread_lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)
    with _registry_guard:
        lock = _registry.get(key)
        if lock is None:
            lock = _registry[key] = threading.Lock()
        return lock


class FileLock:
    """An exclusive lock on `lock_path_for(path)`, usable as a context manager.

    Blocks up to `timeout` seconds, then raises CacheBusy. Not re-entrant. (As with any flock,
    a child forked while the lock is held shares it until the child closes its copy.)
    """

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.path = lock_path_for(path)
        self.timeout = timeout
        self._thread_lock = _thread_lock(self.path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock; False only when not blocking and it is taken elsewhere."""
        if self._fd is not None:
            raise RuntimeError(f"the lock {self.path} is already held by this object")
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout if blocking else -1, blocking=blocking):
            if blocking:
                raise self._busy()
            return False
        try:
            fd = self._open()
        except BaseException:
            self._thread_lock.release()
            raise
        if self._flock(fd, deadline if blocking else None):
            self._fd = fd
            return True
        os.close(fd)
        self._thread_lock.release()
        if blocking:
            raise self._busy()
        return False

    def release(self) -> None:
        """Let go of the lock (closing the descriptor drops the flock). Idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.close(fd)
        finally:
            self._thread_lock.release()

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"FileLock({str(self.path)!r}, held={self.held})"

    def _open(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise CacheError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from exc
        os.fchmod(fd, 0o600)
        return fd

    @staticmethod
    def _flock(fd: int, deadline: float | None) -> bool:
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if deadline is None or time.monotonic() >= deadline:
                    return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _busy(self) -> CacheBusy:
        return CacheBusy(
            f"the hotline cache is busy: another hotline process has held {self.path} for more than"
            f" {self.timeout:g} s. Close the other hotline (or wait) and try again."
        )


def try_exclusive(path: Path) -> FileLock | None:
    """The lock on `path` if nobody (no process, no thread) holds it now, else None.

    The lock is kept until `.release()` (or the process ends).
    """
    lock = FileLock(path, timeout=0)
    return lock if lock.acquire(blocking=False) else None
