"""A TinyDB storage that never leaves a half-written file, and the file primitives under it.

TinyDB's own `JSONStorage` rewrites its file in place: a crash mid-write leaves garbage.
`AtomicJSONStorage` writes the whole document to a temp file in the same directory (created
0600 with O_EXCL), fsyncs it, `os.replace`s it over the old one and fsyncs the directory: a
reader, or the next start after `kill -9`, sees the old file or the new one, never a mix.

Parsed data is kept keyed by the file's `(st_ino, st_mtime_ns, st_size)`, so an unchanged file
is not parsed again. The storage keeps a descriptor on the file it last read or wrote: that
inode cannot be freed and reused by a later file while it is cached, so an equal key really
means the same file. Files are only ever replaced, never modified in place.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from local_cache.errors import CacheError, CorruptCache

__all__ = [
    "AtomicJSONStorage",
    "CorruptCache",
    "FileKey",
    "atomic_write_bytes",
    "copy_aside",
    "file_key",
    "move_aside",
    "parse_document",
    "read_file",
    "remove_stale_temps",
    "stat_key",
]

#: What identifies one version of a file: (st_ino, st_mtime_ns, st_size).
FileKey = tuple[int, int, int]
Document = dict[str, Any]
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")


def file_key(info: os.stat_result) -> FileKey:
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def stat_key(path: Path) -> FileKey | None:
    """The key of the file at `path` now, or None when there is none."""
    try:
        return file_key(os.stat(path))
    except FileNotFoundError:
        return None


def read_file(path: Path) -> tuple[bytes, FileKey, int] | None:
    """The bytes of `path`, their key and an open descriptor on that inode; None if missing.

    The caller owns the descriptor (close it, or keep it to pin the inode).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheError(f"cannot read the cache file {path}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        chunks: list[bytes] = []
        while chunk := os.read(fd, max(info.st_size, 1 << 16)):
            chunks.append(chunk)
    except BaseException:
        os.close(fd)
        raise
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return data, file_key(info), fd


def parse_document(data: bytes, path: Path) -> Document | None:
    """Parse a whole file: None when empty, CorruptCache when not a JSON object."""
    if not data.strip():
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CorruptCache(f"the cache file {path} is damaged (not valid JSON: {exc})") from None
    if not isinstance(value, dict):
        raise CorruptCache(
            f"the cache file {path} is damaged (it holds {type(value).__name__}, not an object)"
        )
    return value


def atomic_write_bytes(path: Path, chunks: bytes | Iterable[bytes | memoryview]) -> tuple[FileKey, int]:
    """Replace `path` with `chunks` atomically and durably; returns its key and an open descriptor.

    The caller owns the descriptor (close it, or keep it to pin the new inode).
    """
    directory = path.parent
    temp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise CacheError(f"cannot write the cache file {path}: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o600)
        for chunk in [chunks] if isinstance(chunks, bytes) else _coalesced(chunks):
            _write_all(fd, chunk)
        os.fsync(fd)
        os.replace(temp, path)
    except BaseException as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise CacheError(f"cannot write the cache file {path}: {exc.strerror or exc}") from exc
        raise
    try:
        fsync_dir(directory)
        return file_key(os.fstat(fd)), fd
    except BaseException:
        os.close(fd)
        raise


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(path: Path) -> int:
    """Delete temp files of `path` left by processes that no longer run; returns how many."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(path.parent):
            match = _TEMP.match(entry.name)
            if match is None or match["name"] != path.name or _alive(int(match["pid"])):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Small pieces are gathered into writes of about this size (one system call per piece is slow).
WRITE_BATCH = 1 << 20


def _coalesced(chunks: Iterable[bytes | memoryview]) -> Iterator[bytes | memoryview]:
    """The same bytes in fewer, larger pieces: small ones joined, large ones passed through."""
    buffer = bytearray()
    for chunk in chunks:
        if len(chunk) >= WRITE_BATCH:
            if buffer:
                yield bytes(buffer)
                buffer.clear()
            yield chunk
            continue
        buffer += chunk
        if len(buffer) >= WRITE_BATCH:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _write_all(fd: int, chunk: bytes | memoryview) -> None:
    view = memoryview(chunk)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic replace + fsync, parsed data cached by file key.

    `TinyDB(path, storage=AtomicJSONStorage)` works. `read()` returns the cached object itself:
    do not change it without writing it back. Not a lock: callers that read-modify-write from
    several processes hold a `FileLock` around the cycle.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self._key: FileKey | None = None
        self._data: Document | None = None
        self._pin: int | None = None
        #: Raised whenever the cached data changes (a new parse, a write): a cheap "changed?" check.
        self.generation = 0
        remove_stale_temps(self.path)
        if not self.path.exists():
            if not create:
                raise CacheError(f"the cache file {self.path} does not exist")
            self._create_empty()

    @property
    def key(self) -> FileKey | None:
        """The key of the file the cached data came from (None before the first read)."""
        return self._key

    def changed_on_disk(self) -> bool:
        """Whether the file is no longer the one the cached data came from (one stat)."""
        return stat_key(self.path) != self._key

    def read(self) -> Document | None:
        found = read_file(self.path)
        if found is None:
            self._remember(None, None, None)
            return None
        raw, key, fd = found
        if key == self._key:
            os.close(fd)
            return self._data
        try:
            data = parse_document(raw, self.path)
        except BaseException:
            os.close(fd)
            raise
        self._remember(data, key, fd)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = orjson.dumps(data)
        self._forget()
        key, fd = atomic_write_bytes(self.path, payload)
        self._remember(data, key, fd)

    def close(self) -> None:
        self._forget()

    def _remember(self, data: Document | None, key: FileKey | None, fd: int | None) -> None:
        old, self._pin = self._pin, fd
        if old is not None:
            os.close(old)
        if key != self._key or data is not self._data:
            self.generation += 1
        self._data, self._key = data, key

    def _forget(self) -> None:
        if self._key is not None or self._pin is not None:
            self._remember(None, None, None)

    def _create_empty(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise CacheError(f"cannot create the cache file {self.path}: {exc.strerror or exc}") from exc
        os.fchmod(fd, 0o600)
        os.close(fd)

    def __del__(self) -> None:
        pin = getattr(self, "_pin", None)
        if pin is not None:
            with contextlib.suppress(OSError):
                os.close(pin)


def move_aside(path: Path, tag: str) -> Path:
    """Rename `path` to `<name>.<tag>-<UTC timestamp>` (never over an existing file); returns it."""
    target = _aside_name(path, tag)
    os.rename(path, target)
    fsync_dir(path.parent)
    return target


def copy_aside(path: Path, tag: str, data: bytes) -> Path:
    """Write `data` (a copy of `path`) durably to `<name>.<tag>-<UTC timestamp>`, mode 0600."""
    target = _aside_name(path, tag)
    _key, fd = atomic_write_bytes(target, data)
    os.close(fd)
    return target


def _aside_name(path: Path, tag: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{counter}")
    return target
