"""The local copy of the server's requests (`requests.json`), queried from memory.

Opening reads the file (`requests_file`: its bytes, a CRC and the index), so no request is
parsed until it is asked for (`get` validates it into a `Request`, see `request_validation`;
`raw`/`rows` parse the JSON). Parsing 100,000 requests of ~1 KB eagerly costs seconds and
~600 MB here; this costs a read, a CRC and a 6 MB parse. A file without a valid layout (written
by something else) is parsed whole once and rewritten with one at the next flush.

A pulled page (`PulledPage`) is taken the same way: each request's JSON as the server sent it,
checked only for its stamp. One that `get` then finds invalid is left out with a message, until
the server sends a newer copy.

Changes (`apply_page`, `put`) stay in memory until `flush`, which writes everything — requests,
cursor, last_sync — in ONE atomic replace under the file lock; unchanged requests are copied
as bytes, not re-serialized, and what the last flush wrote that is unchanged since as one slice.
A bad file (damaged, another server's, a newer schema) is moved aside to
`requests.json.bad-<timestamp>` and the cache starts empty at cursor 0 with a message:
the server has everything, so it is re-pulled.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from api_client.models import ChangesPage, PulledPage, Request, RequestStamp, State, now_utc
from local_cache.locking import FileLock
from local_cache.request_index import RequestIndex, Stamp
from local_cache.request_validation import Validated
from local_cache.requests_file import BadFile, Built, Layout, Snapshot, build, parse, point_at_written
from local_cache.storage import (
    Document,
    FileKey,
    atomic_write_bytes,
    move_aside,
    read_file,
    remove_stale_temps,
    stat_key,
)


class RequestCache:
    """The cached requests of one server, queried from memory, written in batches."""

    def __init__(self, path: Path, *, server_url: str, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.server_url = server_url
        self.lock_timeout = lock_timeout
        #: Notices for the dispatcher about recoveries (a bad file moved aside, ...).
        self.messages: list[str] = []
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._rows = RequestIndex()
        self._validated = Validated()
        self._dirty = False
        self._pin: int | None = None
        self._bad_key: FileKey | None = None
        self._bad_reason = ""
        self._saved: dict[str, Stamp] = {}  # stamps of the last flush (empty before one)
        self._layout: Layout | None = None  # what the last flush wrote, while the rows come from it

    @classmethod
    def open(cls, path: Path, *, server_url: str, lock_timeout: float = 30.0) -> RequestCache:
        """Load the cache file; a bad one is moved aside (see `.messages`) and the cache starts empty."""
        cache = cls(path, server_url=server_url, lock_timeout=lock_timeout)
        remove_stale_temps(cache.path)
        loaded = cache._load()
        if loaded is None:
            loaded = cache._recover()
        cache._install(*loaded)
        return cache

    # ----- queries -------------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The change-feed position everything cached reflects (`since` for the next pull)."""
        return self._rows.cursor

    @property
    def last_sync(self) -> datetime | None:
        return self._rows.last_sync

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet flushed."""
        return self._dirty

    def __len__(self) -> int:
        return len(self._rows.docid)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._rows.docid

    def ids(self) -> list[str]:
        """Every cached request id, in cache order."""
        with self._lock:
            return list(self._rows.docid)

    def by_state(self, state: State | str) -> list[str]:
        """The ids of the cached requests in `state`."""
        with self._lock:
            return list(self._rows.by_state.get(str(state), ()))

    def state_of(self, request_id: str) -> str | None:
        return self._rows.state.get(request_id)

    def stamp(self, request_id: str) -> Stamp | None:
        """(change_seq, version) of the cached copy, without parsing it."""
        return self._rows.stamp.get(request_id)

    def saved_stamp(self, request_id: str) -> Stamp | None:
        """(change_seq, version) of the request as this cache's last flush wrote it (None before
        a flush): what is safely on disk."""
        return self._saved.get(request_id)

    def get(self, request_id: str) -> Request | None:
        """The cached request, validated (kept in a small LRU); None when not cached."""
        with self._lock:
            model = self._validated.get(request_id)
            if model is not None:
                return model
            raw = self._rows.raw(request_id)
            if raw is None:
                return None
            try:
                return self._validated.validate(request_id, raw)
            except ValidationError as exc:
                self._drop_invalid(request_id, exc)
                return None

    def raw(self, request_id: str) -> Document | None:
        """The cached request's JSON as a dict (parsed now; do not change it)."""
        with self._lock:
            return self._rows.raw(request_id)

    def rows(self) -> Iterator[Document]:
        """Every cached request's JSON, in cache order, each parsed as it is reached."""
        for request_id in self.ids():
            with self._lock:
                raw = self._rows.raw(request_id)
            if raw is not None:
                yield raw

    # ----- changes -------------------------------------------------------------------------

    def apply_page(self, page: ChangesPage | PulledPage) -> int:
        """Take a pulled page: newer copies replace cached ones; the cursor moves to
        `page.next_since`. In memory until `flush`. Returns how many requests changed.

        A `PulledPage`'s requests are kept as the JSON the server sent and validated when first
        read (`get`); one that is not a valid `Request` is then left out (see `get`)."""
        with self._lock:
            if isinstance(page, PulledPage):
                pulled = zip(page.stamps, page.requests, strict=True)
                changed = sum(1 for stamp, data in pulled if self._take_json(stamp, data))
            else:
                changed = sum(1 for change in page.changes if self._take(change.request))
            self._rows.cursor = page.next_since
            self._rows.last_sync = now_utc()
            self._dirty = True
            return changed

    def put(self, request: Request) -> bool:
        """Take a server copy (e.g. an action's answer) if it is newer than the cached one."""
        with self._lock:
            taken = self._take(request)
            self._dirty = self._dirty or taken
            return taken

    def mark_synced(self, at: datetime | None = None) -> None:
        """Record a successful contact with the server that brought no page."""
        with self._lock:
            self._rows.last_sync = at or now_utc()
            self._dirty = True

    def flush(self) -> bool:
        """Write everything (requests, cursor, last_sync) in one atomic replace, if anything
        changed. Merges first what another process flushed meanwhile. Returns whether it wrote."""
        with self._flush_lock, FileLock(self.path, timeout=self.lock_timeout):
            self._catch_up()
            with self._lock:
                if not self._dirty:
                    return False
                snapshot = Snapshot.of(self._rows, self.server_url)
                self._dirty = False
            try:
                built = build(snapshot, self._layout)
                key, fd = atomic_write_bytes(self.path, [built.header, built.body])
            except BaseException:
                with self._lock:
                    self._dirty = True
                raise
            with self._lock:
                self._written(snapshot, built, key, fd)
                self._saved = snapshot.stamp
            return True

    def reload_if_changed(self) -> bool:
        """Re-read the file if another process flushed it; returns whether anything was taken.

        For a process that is not the sync owner. Skipped while this cache is flushing."""
        key = stat_key(self.path)
        if key == self._rows.key or key is None or key == self._bad_key:
            return False
        if not self._flush_lock.acquire(blocking=False):
            return False
        try:
            loaded = self._load()
            if loaded is None:
                self._bad_key = key
                return False
            self._absorb(loaded)
            return True
        finally:
            self._flush_lock.release()

    def close(self) -> None:
        with self._lock:
            self._set_pin(None)

    # ----- loading -------------------------------------------------------------------------

    def _load(self) -> tuple[RequestIndex, int | None] | None:
        """The file's rows and a descriptor pinning it; an empty cache if there is no file;
        None (with the reason in `self._bad_reason`) if the file cannot be used."""
        found = read_file(self.path)
        if found is None:
            return RequestIndex(), None
        blob, key, fd = found
        try:
            rows = parse(blob, self.path, self.server_url)
        except BadFile as exc:
            os.close(fd)
            self._bad_reason = str(exc)
            return None
        rows.key = key
        return rows, fd

    def _recover(self) -> tuple[RequestIndex, int | None]:
        """Move the bad file aside (under the lock, if it is still the bad one) and start empty."""
        with FileLock(self.path, timeout=self.lock_timeout):
            loaded = self._load()  # another process may have replaced it meanwhile
            if loaded is not None:
                return loaded
            reason = self._bad_reason
            try:
                aside = move_aside(self.path, "bad")
            except FileNotFoundError:  # gone meanwhile: nothing to keep
                return RequestIndex(), None
        self.messages.append(
            f"the cached requests in {self.path} could not be used: {reason}. The file was moved to"
            f" {aside}; the cache starts empty and will be downloaded again from {self.server_url}."
            " Actions not yet sent are kept in the outbox."
        )
        return RequestIndex(), None

    def _install(self, rows: RequestIndex, fd: int | None) -> None:
        with self._lock:
            self._rows = rows
            self._dirty = rows.rewrite
            self._validated.clear()
            self._layout = None
            self._set_pin(fd)

    def _catch_up(self) -> None:
        """Before writing (under the file lock): take in what another process flushed. A file
        gone is written again from memory; a bad one is moved aside first."""
        disk = stat_key(self.path)
        if disk == self._rows.key:
            return
        loaded = self._load() if disk is not None else None
        if loaded is not None:
            self._absorb(loaded)
            return
        if disk is not None:
            aside = move_aside(self.path, "bad")
            self.messages.append(
                f"the cached requests in {self.path} were damaged while hotline ran ({self._bad_reason});"
                f" the file was moved to {aside} and written again from memory."
            )
        with self._lock:
            self._dirty = True

    def _absorb(self, loaded: tuple[RequestIndex, int | None]) -> None:
        """Take what another process wrote: wholesale when we have nothing unflushed, else merged."""
        rows, fd = loaded
        with self._lock:
            if not self._dirty:
                self._install(rows, fd)
                return
            self._rows.merge_from(rows)
            self._layout = None
            self._dirty = True
            self._validated.forget_models()
            self._set_pin(fd)

    # ----- inside --------------------------------------------------------------------------

    def _take(self, request: Request) -> bool:
        stamp = (request.change_seq, request.version)
        ours = self._rows.stamp.get(request.id)
        if ours is not None and ours >= stamp:
            return False
        data = request.__pydantic_serializer__.to_json(request)  # the request's own JSON bytes
        self._rows.set_span(request.id, (data, 0, len(data)), stamp, request.state.value)
        self._validated.taken(request)
        return True

    def _take_json(self, request: RequestStamp, data: bytes) -> bool:
        """Take a pulled request's JSON (checked only as a stamp) if it is newer than ours."""
        stamp = (request.change_seq, request.version)
        ours = self._rows.stamp.get(request.id)
        if ours is not None and ours >= stamp:
            return False
        self._rows.set_span(request.id, (data, 0, len(data)), stamp, request.state.value)
        self._validated.pulled(request.id)
        return True

    def _drop_invalid(self, request_id: str, exc: ValidationError) -> None:
        """A cached request that is not a valid `Request`: forget it.

        Pulled by this process, it is the server's copy that is invalid: the cursor stays
        (pulling it again brings the same copy) and it is left out until the server sends a
        newer one. Read from the file, it may have been written by another version of hotline:
        everything is pulled again."""
        self._rows.drop(request_id)
        self._dirty = True
        servers, message = self._validated.invalid(request_id, exc)
        if not servers:
            self._rows.cursor = 0
        self.messages.append(message)

    def _written(self, snapshot: Snapshot, built: Built, key: FileKey, fd: int) -> None:
        """The snapshot is on disk: the requests unchanged meanwhile now point into it."""
        self._layout = point_at_written(self._rows, snapshot, built)
        self._rows.key = key
        self._set_pin(fd)

    def _set_pin(self, fd: int | None) -> None:
        old, self._pin = self._pin, fd
        if old is not None:
            with contextlib.suppress(OSError):
                os.close(old)

    def __del__(self) -> None:
        pin = getattr(self, "_pin", None)
        if pin is not None:
            with contextlib.suppress(OSError):
                os.close(pin)


__all__ = ["RequestCache"]
