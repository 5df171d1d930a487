"""The local copy of the server's requests (`requests.json`) and its in-memory index.

The file is in TinyDB format — tables `requests` (one document per request, the request's
JSON as the server sent it), `meta` (`{"schema", "cursor", "server", "last_sync"}`) — plus two
tables of our own that make a cold start cheap: `layout` (a fixed-width header: byte ranges and
a CRC-32) and `index` (per request: id, state, change_seq, version and where its JSON lies in
the file). Identity is the request's `id`; TinyDB document ids are internal.

Opening reads the file's bytes, checks size and CRC, and parses only `meta` and `index`: no
request is parsed until it is asked for (`get` validates it into a `Request`, with a small LRU;
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
import gc
import itertools
import operator
import os
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from api_client.models import ChangesPage, PulledPage, Request, RequestStamp, State, now_utc
from local_cache.errors import CacheError, CorruptCache
from local_cache.locking import FileLock
from local_cache.paths import normalize_server_url
from local_cache.storage import (
    Document,
    FileKey,
    atomic_write_bytes,
    move_aside,
    parse_document,
    read_file,
    remove_stale_temps,
    stat_key,
)

SCHEMA = 1
LAYOUT = 1
LRU_SIZE = 4096
_HEADER = b'{"layout":{"1":{"layout":%d,"size":%14d,"crc":%12d,"meta":[%14d,%14d],"index":[%14d,%14d]}},'
_HEADER_LEN = len(_HEADER % (LAYOUT, 0, 0, 0, 0, 0, 0))
_HEADER_RE = re.compile(
    rb'\{"layout":\{"1":\{"layout":(\d),"size": *(\d+),"crc": *(\d+),'
    rb'"meta":\[ *(\d+), *(\d+)\],"index":\[ *(\d+), *(\d+)\]\}\},'
)
_INDEX_FIELDS = ("ids", "docids", "states", "seqs", "versions", "starts", "ends")

#: Where a request's JSON lies: (the file's bytes, start, end).
Span = tuple[bytes, int, int]
#: What decides which copy of a request is newer: (change_seq, version).
Stamp = tuple[int, int]


class _BadFile(Exception):
    """The file cannot be used as this server's cache; the message says why."""


@dataclass
class _Rows:
    """The cached requests: where each one's JSON is, and the index over them."""

    docid: dict[str, int] = field(default_factory=dict)  # id -> document id; file order
    span: dict[str, Span] = field(default_factory=dict)  # unchanged since a file was read
    fresh: dict[str, Document] = field(default_factory=dict)  # changed since; wins over span
    stamp: dict[str, Stamp] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    by_state: dict[str, dict[str, None]] = field(default_factory=dict)
    cursor: int = 0
    last_sync: datetime | None = None
    key: FileKey | None = None  # the file these rows were read from or written to
    next_docid: int = 1
    meta_doc: Any = None  # the file's meta document, as read
    rewrite: bool = False  # read from a file without our layout: write it again

    def raw(self, request_id: str) -> Document | None:
        fresh = self.fresh.get(request_id)
        if fresh is not None:
            return fresh
        span = self.span.get(request_id)
        if span is None:
            return None
        blob, start, end = span
        try:
            value = orjson.loads(blob[start:end])
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict) or value.get("id") != request_id:
            raise CorruptCache(f"the cached request {request_id} is damaged in the cache file")
        return value

    def set_fresh(self, raw: Document, stamp: Stamp) -> None:
        request_id = raw["id"]
        if request_id not in self.docid:
            self.docid[request_id] = self.next_docid
            self.next_docid += 1
        self.fresh[request_id] = raw
        self.span.pop(request_id, None)
        self.stamp[request_id] = stamp
        self._index_state(request_id, str(raw["state"]))

    def set_span(self, request_id: str, span: Span, stamp: Stamp, state: str) -> None:
        if request_id not in self.docid:
            self.docid[request_id] = self.next_docid
            self.next_docid += 1
        self.fresh.pop(request_id, None)
        self.span[request_id] = span
        self.stamp[request_id] = stamp
        self._index_state(request_id, state)

    def drop(self, request_id: str) -> None:
        for table in (self.docid, self.span, self.fresh, self.stamp):
            table.pop(request_id, None)
        old = self.state.pop(request_id, None)
        if old is not None:
            self.by_state.get(old, {}).pop(request_id, None)

    def _index_state(self, request_id: str, state: str) -> None:
        old = self.state.get(request_id)
        if old == state:
            return
        if old is not None:
            self.by_state.get(old, {}).pop(request_id, None)
        self.state[request_id] = state
        self.by_state.setdefault(state, {})[request_id] = None

    def merge_from(self, disk: _Rows) -> None:
        """Take every request the file has newer; keep ours where ours is newer."""
        for request_id, stamp in disk.stamp.items():
            ours = self.stamp.get(request_id)
            if ours is not None and ours > stamp:
                continue
            span = disk.span.get(request_id)
            if span is not None:
                self.set_span(request_id, span, stamp, disk.state[request_id])
            else:
                self.set_fresh(disk.fresh[request_id], stamp)
        self.cursor = max(self.cursor, disk.cursor)
        if disk.last_sync is not None and (self.last_sync is None or disk.last_sync > self.last_sync):
            self.last_sync = disk.last_sync
        self.key = disk.key


@dataclass
class _Snapshot:
    """What one flush writes, copied under the lock so that readers are not held up."""

    order: list[tuple[str, int]]
    span: dict[str, Span]
    fresh: dict[str, Document]
    stamp: dict[str, Stamp]
    state: dict[str, str]
    meta: Document


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
        self._rows = _Rows()
        self._lru: OrderedDict[str, Request] = OrderedDict()
        self._dirty = False
        self._pin: int | None = None
        self._bad_key: FileKey | None = None
        self._bad_reason = ""
        self._saved: dict[str, Stamp] = {}  # stamps of the last flush (empty before one)
        self._unchecked: set[str] = set()  # pulled as JSON since the file was read, not yet validated
        self._layout: _Layout | None = None  # what the last flush wrote, while the rows come from it

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
            model = self._lru.get(request_id)
            if model is not None:
                self._lru.move_to_end(request_id)
                return model
            raw = self._rows.raw(request_id)
            if raw is None:
                return None
            try:
                model = Request.model_validate(raw)
            except ValidationError as exc:
                self._drop_invalid(request_id, exc)
                return None
            self._unchecked.discard(request_id)
            self._remember(model)
            return model

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
                snapshot = self._snapshot()
                self._dirty = False
            try:
                built = _build(snapshot, self._layout)
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

    def _load(self) -> tuple[_Rows, int | None] | None:
        """The file's rows and a descriptor pinning it; an empty cache if there is no file;
        None (with the reason in `self._bad_reason`) if the file cannot be used."""
        found = read_file(self.path)
        if found is None:
            return _Rows(), None
        blob, key, fd = found
        try:
            rows = self._parse(blob)
        except _BadFile as exc:
            os.close(fd)
            self._bad_reason = str(exc)
            return None
        rows.key = key
        return rows, fd

    def _parse(self, blob: bytes) -> _Rows:
        if not blob.strip():
            return _Rows()
        rows = _parse_indexed(blob)
        if rows is None:
            rows = _parse_whole(blob, self.path)
            if rows.meta_doc is None and not rows.docid:  # `{}`: an empty database
                return rows
        meta = rows.meta_doc
        self._check_meta(meta)
        rows.cursor = meta["cursor"]
        rows.last_sync = _datetime(meta.get("last_sync"))
        return rows

    def _check_meta(self, meta: Any) -> None:
        if not isinstance(meta, dict):
            raise _BadFile("it has no meta document")
        schema = meta.get("schema")
        if isinstance(schema, int) and schema > SCHEMA:
            raise _BadFile(f"it was written by a newer hotline (schema {schema}; this one reads {SCHEMA})")
        if schema != SCHEMA:
            raise _BadFile(f"its schema is {schema!r}")
        server = meta.get("server")
        if not isinstance(server, str) or normalize_server_url(server) != normalize_server_url(
            self.server_url
        ):
            raise _BadFile(f"it belongs to another server ({server!r}, not {self.server_url!r})")
        cursor = meta.get("cursor")
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
            raise _BadFile(f"its cursor is {cursor!r}")
        last_sync = meta.get("last_sync")
        if last_sync is not None and _datetime(last_sync) is None:
            raise _BadFile(f"its last_sync is {last_sync!r}")

    def _recover(self) -> tuple[_Rows, int | None]:
        """Move the bad file aside (under the lock, if it is still the bad one) and start empty."""
        with FileLock(self.path, timeout=self.lock_timeout):
            loaded = self._load()  # another process may have replaced it meanwhile
            if loaded is not None:
                return loaded
            reason = self._bad_reason
            try:
                aside = move_aside(self.path, "bad")
            except FileNotFoundError:  # gone meanwhile: nothing to keep
                return _Rows(), None
        self.messages.append(
            f"the cached requests in {self.path} could not be used: {reason}. The file was moved to"
            f" {aside}; the cache starts empty and will be downloaded again from {self.server_url}."
            " Actions not yet sent are kept in the outbox."
        )
        return _Rows(), None

    def _install(self, rows: _Rows, fd: int | None) -> None:
        with self._lock:
            self._rows = rows
            self._dirty = rows.rewrite
            self._lru.clear()
            self._unchecked.clear()
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

    def _absorb(self, loaded: tuple[_Rows, int | None]) -> None:
        """Take what another process wrote: wholesale when we have nothing unflushed, else merged."""
        rows, fd = loaded
        with self._lock:
            if not self._dirty:
                self._install(rows, fd)
                return
            self._rows.merge_from(rows)
            self._layout = None
            self._dirty = True
            self._lru.clear()
            self._set_pin(fd)

    # ----- inside --------------------------------------------------------------------------

    def _take(self, request: Request) -> bool:
        stamp = (request.change_seq, request.version)
        ours = self._rows.stamp.get(request.id)
        if ours is not None and ours >= stamp:
            return False
        data = request.__pydantic_serializer__.to_json(request)  # the request's own JSON bytes
        self._rows.set_span(request.id, (data, 0, len(data)), stamp, request.state.value)
        self._unchecked.discard(request.id)
        self._remember(request)
        return True

    def _take_json(self, request: RequestStamp, data: bytes) -> bool:
        """Take a pulled request's JSON (checked only as a stamp) if it is newer than ours."""
        stamp = (request.change_seq, request.version)
        ours = self._rows.stamp.get(request.id)
        if ours is not None and ours >= stamp:
            return False
        self._rows.set_span(request.id, (data, 0, len(data)), stamp, request.state.value)
        self._lru.pop(request.id, None)
        self._unchecked.add(request.id)
        return True

    def _remember(self, model: Request) -> None:
        self._lru[model.id] = model
        self._lru.move_to_end(model.id)
        while len(self._lru) > LRU_SIZE:
            self._lru.popitem(last=False)

    def _drop_invalid(self, request_id: str, exc: ValidationError) -> None:
        """A cached request that is not a valid `Request`: forget it.

        Pulled by this process (`_unchecked`), it is the server's copy that is invalid: the
        cursor stays (pulling it again brings the same copy) and it is left out until the
        server sends a newer one. Read from the file, it may have been written by another
        version of hotline: everything is pulled again."""
        self._rows.drop(request_id)
        self._dirty = True
        if request_id in self._unchecked:
            self._unchecked.discard(request_id)
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "the request"
            self.messages.append(
                f"the central API sent request {request_id} with an invalid field '{field}'"
                f" ({first['msg']}); it is left out of the cache until the server sends a valid copy."
            )
            return
        self._rows.cursor = 0
        self.messages.append(
            f"the cached request {request_id} could not be read ({exc.error_count()} problem(s));"
            " it was dropped and the cache will be downloaded again."
        )

    def _snapshot(self) -> _Snapshot:
        rows = self._rows
        meta = {
            "schema": SCHEMA,
            "cursor": rows.cursor,
            "server": self.server_url,
            "last_sync": rows.last_sync.isoformat() if rows.last_sync else None,
        }
        return _Snapshot(
            list(rows.docid.items()),
            dict(rows.span),
            dict(rows.fresh),
            dict(rows.stamp),
            dict(rows.state),
            meta,
        )

    def _written(self, snapshot: _Snapshot, built: _Built, key: FileKey, fd: int) -> None:
        """The snapshot is on disk: every request that did not change meanwhile now points at
        its bytes in what was written, as after reading the file, so that the next flush
        copies the requests that lie side by side there as one slice.

        Runs under the lock for every cached request, so the common case (nothing changed
        meanwhile) is done with `map`/`zip`, without a Python loop."""
        rows = self._rows
        span, fresh, body = rows.span, rows.fresh, built.body
        ids = [request_id for request_id, _docid in snapshot.order]
        starts = [start - _HEADER_LEN for start in built.starts]
        ends = [end - _HEADER_LEN for end in built.ends]
        spans: list[Span] = list(zip(itertools.repeat(body, len(ids)), starts, ends, strict=True))
        current = list(map(span.get, ids))
        changed = {  # None in `current`: not a span now (written from a dict, or dropped since)
            *itertools.compress(
                itertools.count(), map(operator.is_not, current, map(snapshot.span.get, ids))
            ),
            *itertools.compress(itertools.count(), map(operator.is_, current, itertools.repeat(None))),
        }
        span.update(zip(ids, spans, strict=True))
        written: list[Span | None] = list(spans)
        for n in changed:  # these keep what they hold now: the file has an older copy
            previous = current[n]
            if previous is None:
                del span[ids[n]]
            else:
                span[ids[n]] = previous
            written[n] = None
        if snapshot.fresh:  # requests written from their dicts now keep only their bytes
            position = {request_id: n for n, request_id in enumerate(ids)}
            for request_id, raw in snapshot.fresh.items():
                if fresh.get(request_id) is raw:
                    del fresh[request_id]
                    n = position[request_id]
                    written[n] = span[request_id] = spans[n]
        self._layout = _Layout(snapshot.order, ids, written, built)
        rows.key = key
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


# ----- the file format ---------------------------------------------------------------------


def _parse_indexed(blob: bytes) -> _Rows | None:
    """Rows from a file with our layout (size and CRC checked), or None to parse it whole."""
    match = _HEADER_RE.match(blob, 0, _HEADER_LEN)
    if match is None or len(match.group(0)) != _HEADER_LEN:
        return None
    layout, size, crc, meta_start, meta_end, index_start, index_end = (int(g) for g in match.groups())
    if layout != LAYOUT or size != len(blob) or crc != zlib.crc32(memoryview(blob)[_HEADER_LEN:]):
        return None
    try:
        meta = orjson.loads(blob[meta_start:meta_end])
        index = orjson.loads(blob[index_start:index_end])
    except orjson.JSONDecodeError:
        return None
    columns: list[Any] = [index.get(name) for name in _INDEX_FIELDS] if isinstance(index, dict) else []
    if not columns or not all(isinstance(c, list) and len(c) == len(columns[0]) for c in columns):
        return None
    return _rows_from_index(blob, meta, *columns)


def _rows_from_index(
    blob: bytes,
    meta: Any,
    ids: list[str],
    docids: list[int],
    states: list[str],
    seqs: list[int],
    versions: list[int],
    starts: list[int],
    ends: list[int],
) -> _Rows:
    rows = _Rows(
        docid=dict(zip(ids, docids, strict=True)),
        span={i: (blob, s, e) for i, s, e in zip(ids, starts, ends, strict=True)},
        stamp=dict(zip(ids, zip(seqs, versions, strict=True), strict=True)),
        state=dict(zip(ids, states, strict=True)),
        next_docid=max(docids, default=0) + 1,
    )
    for request_id, state in rows.state.items():
        rows.by_state.setdefault(state, {})[request_id] = None
    rows.meta_doc = meta
    return rows


def _parse_whole(blob: bytes, path: Path) -> _Rows:
    """Rows from any TinyDB-format file: every request parsed (slow; once)."""
    enabled = gc.isenabled()
    gc.disable()  # millions of new objects: the cyclic GC would run dozens of times for nothing
    try:
        data = parse_document(blob, path)
    except CorruptCache as exc:
        raise _BadFile(str(exc)) from None
    finally:
        if enabled:
            gc.enable()
    data = data or {}
    table = data.get("requests", {})
    meta_table = data.get("meta", {})
    if not isinstance(table, dict) or not isinstance(meta_table, dict):
        raise _BadFile("its tables are not tables")
    rows = _Rows()
    if meta_table and not isinstance(meta_table.get("1"), dict):
        raise _BadFile("its meta table holds no meta document")
    for doc_id, raw in table.items():
        _check_row(doc_id, raw)
        docid = int(doc_id)
        rows.docid[raw["id"]] = docid
        rows.next_docid = max(rows.next_docid, docid + 1)
        rows.set_fresh(raw, (raw["change_seq"], raw["version"]))
    rows.meta_doc = meta_table.get("1")
    rows.rewrite = True
    return rows


def _check_row(doc_id: str, raw: Any) -> None:
    ok = (
        doc_id.isdigit()
        and isinstance(raw, dict)
        and isinstance(raw.get("id"), str)
        and isinstance(raw.get("state"), str)
        and isinstance(raw.get("change_seq"), int)
        and isinstance(raw.get("version"), int)
    )
    if not ok:
        raise _BadFile(f"its request document {doc_id!r} is not a request")


@dataclass
class _Built:
    """A cache file as `_build` lays it out: the fixed-width header, then the body; where each
    request's JSON lies in the file (in `_Snapshot.order`)."""

    header: bytes
    body: bytes
    starts: list[int]
    ends: list[int]


@dataclass
class _Layout:
    """What the last flush wrote (`built`), and each request's span pointing into it (None for
    one that changed while it was written)."""

    order: list[tuple[str, int]]
    ids: list[str]
    spans: list[Span | None]
    built: _Built

    def kept(self, snapshot: _Snapshot) -> int:
        """How many requests at the start of `snapshot` are, in the same order, the ones
        written last time, unchanged since: that part of the file can be copied as it is."""
        count = len(self.order)
        if snapshot.order[:count] != self.order:
            return 0
        same = list(map(operator.is_, map(snapshot.span.get, self.ids), self.spans))
        try:
            return same.index(False)
        except ValueError:
            return count


def _build(snapshot: _Snapshot, previous: _Layout | None = None) -> _Built:
    """The whole file, and where each request lies in it.

    The requests unchanged at the start since the `previous` flush are copied from it as one
    slice (a first pull only appends). A request is copied from the bytes it was read from (or
    last written to); consecutive ones that lie side by side there (`,"<docid>":{...}`) are
    copied as one slice, so the pieces number about twice the requests changed since, not the
    requests cached.
    """
    writer = _Writer()
    kept = previous.kept(snapshot) if previous is not None else 0
    if previous is not None and kept:
        built = previous.built
        writer.copy(built.body, built.ends[kept - 1] - _HEADER_LEN)
        starts, ends = built.starts[:kept], built.ends[:kept]
    else:
        writer.put(b'"requests":{')
        starts, ends = [], []
    fresh, spans = snapshot.fresh, snapshot.span
    for number, (request_id, docid) in enumerate(snapshot.order[kept:], start=kept):
        raw = fresh.get(request_id)
        if raw is not None:
            starts.append(writer.own(number, docid, orjson.dumps(raw)))
        else:
            span = spans[request_id]
            if span[1] == 0 and span[2] == len(span[0]):  # a request's own bytes, not a slice
                starts.append(writer.own(number, docid, span[0]))
            else:
                starts.append(writer.entry(number, docid, span))
        ends.append(writer.pos)
    writer.put(b'},"meta":{"1":')
    meta = writer.put(orjson.dumps(snapshot.meta))
    writer.put(b'},"index":{"1":')
    index = writer.put(orjson.dumps(_index(snapshot, starts, ends)))
    writer.put(b"}}")
    header, body = writer.finish(meta, index)
    return _Built(header, body, starts, ends)


def _index(snapshot: _Snapshot, starts: list[int], ends: list[int]) -> dict[str, list[Any]]:
    ids = [request_id for request_id, _docid in snapshot.order]
    stamps = list(map(snapshot.stamp.__getitem__, ids))
    return {
        "ids": ids,
        "docids": [docid for _request_id, docid in snapshot.order],
        "states": list(map(snapshot.state.__getitem__, ids)),
        "seqs": [seq for seq, _version in stamps],
        "versions": [version for _seq, version in stamps],
        "starts": starts,
        "ends": ends,
    }


@dataclass
class _Run:
    """Bytes copied as they are: blob[start:end]."""

    blob: bytes
    start: int
    end: int


class _Writer:
    """Lays out the file's pieces after the header, keeping their positions in the file."""

    def __init__(self) -> None:
        self.parts: list[bytes | memoryview] = []
        self.pos = _HEADER_LEN
        self._run: _Run | None = None  # a copy not yet added to `parts`: it may grow

    def put(self, data: bytes) -> tuple[int, int]:
        """Add bytes; returns where they lie in the file."""
        self._end_run()
        start = self.pos
        self.parts.append(data)
        self.pos += len(data)
        return start, self.pos

    def copy(self, blob: bytes, end: int) -> None:
        """Start with `blob[:end]`, which an earlier file has at the same place."""
        self.parts.append(memoryview(blob)[:end])
        self.pos += end

    def own(self, number: int, docid: int, data: bytes) -> int:
        """Add `,"<docid>":<json>` for JSON held on its own; returns where the JSON starts."""
        self._end_run()
        prefix = (b',"%d":' if number else b'"%d":') % docid
        self.parts += (prefix, data)
        start = self.pos + len(prefix)
        self.pos = start + len(data)
        return start

    def entry(self, number: int, docid: int, span: Span) -> int:
        """Add `,"<docid>":<json>` from `span`; returns where the JSON starts in the file."""
        blob, start, end = span
        key = b'"%d":' % docid
        key_start = start - len(key)
        has_key = key_start >= 0 and blob[key_start:start] == key
        run = self._run
        if (
            has_key
            and run is not None
            and run.blob is blob
            and run.end + 1 == key_start
            and blob[run.end] == 0x2C
        ):
            new_start = self.pos + (start - run.end)  # the next one in the same bytes: extend the copy
            self.pos += end - run.end
            run.end = end
            return new_start
        self._end_run()
        if has_key:
            if number:
                self.put(b",")
            self._run = _Run(blob, key_start, end)
        else:
            self.put(b"," + key if number else key)
            self._run = _Run(blob, start, end)
        self.pos += end - self._run.start
        return self.pos - (end - start)

    def finish(self, meta: tuple[int, int], index: tuple[int, int]) -> tuple[bytes, bytes]:
        """The header (with the body's size and CRC) and the body."""
        self._end_run()
        body = b"".join(self.parts)
        header = _HEADER % (LAYOUT, self.pos, zlib.crc32(body), *meta, *index)
        if len(header) != _HEADER_LEN:
            raise CacheError(f"the request cache header is {len(header)} bytes, not {_HEADER_LEN}")
        return header, body

    def _end_run(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            self.parts.append(memoryview(run.blob)[run.start : run.end])


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


__all__ = ["RequestCache"]
