"""The format of `requests.json`: reading its bytes into a `RequestIndex`, laying one out again.

The file is in TinyDB format — tables `requests` (one document per request, the request's
JSON as the server sent it), `meta` (`{"schema", "cursor", "server", "last_sync"}`) — plus two
tables of our own that make a cold start cheap: `layout` (a fixed-width header: byte ranges and
a CRC-32) and `index` (per request: id, state, change_seq, version and where its JSON lies in
the file). Identity is the request's `id`; TinyDB document ids are internal.

Reading checks size and CRC and parses only `meta` and `index`; a file without a valid layout
(written by something else) is parsed whole. Writing copies unchanged requests as bytes, and
what the last write laid out that is unchanged since as one slice.
"""

from __future__ import annotations

import itertools
import operator
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from local_cache.errors import CacheError, CorruptCache
from local_cache.paths import normalize_server_url
from local_cache.request_index import RequestIndex, Span, Stamp
from local_cache.storage import Document, parse_document

SCHEMA = 1
LAYOUT = 1
_HEADER = b'{"layout":{"1":{"layout":%d,"size":%14d,"crc":%12d,"meta":[%14d,%14d],"index":[%14d,%14d]}},'
HEADER_LEN = len(_HEADER % (LAYOUT, 0, 0, 0, 0, 0, 0))
_HEADER_RE = re.compile(
    rb'\{"layout":\{"1":\{"layout":(\d),"size": *(\d+),"crc": *(\d+),'
    rb'"meta":\[ *(\d+), *(\d+)\],"index":\[ *(\d+), *(\d+)\]\}\},'
)
_INDEX_FIELDS = ("ids", "docids", "states", "seqs", "versions", "starts", "ends")


class BadFile(Exception):
    """The file cannot be used as this server's cache; the message says why."""


# ----- reading -----------------------------------------------------------------------------


def parse(blob: bytes, path: Path, server_url: str) -> RequestIndex:
    """The requests of a cache file's bytes; `BadFile` if it is not `server_url`'s cache."""
    if not blob.strip():
        return RequestIndex()
    rows = _parse_indexed(blob)
    if rows is None:
        rows = _parse_whole(blob, path)
        if rows.meta_doc is None and not rows.docid:  # `{}`: an empty database
            return rows
    meta = rows.meta_doc
    _check_meta(meta, server_url)
    rows.cursor = meta["cursor"]
    rows.last_sync = _datetime(meta.get("last_sync"))
    return rows


def _check_meta(meta: Any, server_url: str) -> None:
    if not isinstance(meta, dict):
        raise BadFile("it has no meta document")
    schema = meta.get("schema")
    if isinstance(schema, int) and schema > SCHEMA:
        raise BadFile(f"it was written by a newer hotline (schema {schema}; this one reads {SCHEMA})")
    if schema != SCHEMA:
        raise BadFile(f"its schema is {schema!r}")
    server = meta.get("server")
    if not isinstance(server, str) or normalize_server_url(server) != normalize_server_url(server_url):
        raise BadFile(f"it belongs to another server ({server!r}, not {server_url!r})")
    cursor = meta.get("cursor")
    if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
        raise BadFile(f"its cursor is {cursor!r}")
    last_sync = meta.get("last_sync")
    if last_sync is not None and _datetime(last_sync) is None:
        raise BadFile(f"its last_sync is {last_sync!r}")


def _parse_indexed(blob: bytes) -> RequestIndex | None:
    """Rows from a file with our layout (size and CRC checked), or None to parse it whole."""
    match = _HEADER_RE.match(blob, 0, HEADER_LEN)
    if match is None or len(match.group(0)) != HEADER_LEN:
        return None
    layout, size, crc, meta_start, meta_end, index_start, index_end = (int(g) for g in match.groups())
    if layout != LAYOUT or size != len(blob) or crc != zlib.crc32(memoryview(blob)[HEADER_LEN:]):
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
) -> RequestIndex:
    rows = RequestIndex(
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


def _parse_whole(blob: bytes, path: Path) -> RequestIndex:
    """Rows from any TinyDB-format file: every request parsed (slow; once)."""
    try:
        data = parse_document(blob, path)
    except CorruptCache as exc:
        raise BadFile(str(exc)) from None
    data = data or {}
    table = data.get("requests", {})
    meta_table = data.get("meta", {})
    if not isinstance(table, dict) or not isinstance(meta_table, dict):
        raise BadFile("its tables are not tables")
    rows = RequestIndex()
    if meta_table and not isinstance(meta_table.get("1"), dict):
        raise BadFile("its meta table holds no meta document")
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
        raise BadFile(f"its request document {doc_id!r} is not a request")


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# ----- writing -----------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What one flush writes, copied under the lock so that readers are not held up."""

    order: list[tuple[str, int]]
    span: dict[str, Span]
    fresh: dict[str, Document]
    stamp: dict[str, Stamp]
    state: dict[str, str]
    meta: Document

    @classmethod
    def of(cls, rows: RequestIndex, server_url: str) -> Snapshot:
        meta = {
            "schema": SCHEMA,
            "cursor": rows.cursor,
            "server": server_url,
            "last_sync": rows.last_sync.isoformat() if rows.last_sync else None,
        }
        return cls(
            list(rows.docid.items()),
            dict(rows.span),
            dict(rows.fresh),
            dict(rows.stamp),
            dict(rows.state),
            meta,
        )


@dataclass
class Built:
    """A cache file as `build` lays it out: the fixed-width header, then the body; where each
    request's JSON lies in the file (in `Snapshot.order`)."""

    header: bytes
    body: bytes
    starts: list[int]
    ends: list[int]


@dataclass
class Layout:
    """What the last flush wrote (`built`), and each request's span pointing into it (None for
    one that changed while it was written)."""

    order: list[tuple[str, int]]
    ids: list[str]
    spans: list[Span | None]
    built: Built

    def kept(self, snapshot: Snapshot) -> int:
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


def build(snapshot: Snapshot, previous: Layout | None = None) -> Built:
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
        writer.copy(built.body, built.ends[kept - 1] - HEADER_LEN)
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
    return Built(header, body, starts, ends)


def point_at_written(rows: RequestIndex, snapshot: Snapshot, built: Built) -> Layout:
    """The snapshot is on disk: every request that did not change meanwhile now points at
    its bytes in what was written, as after reading the file, so that the next flush
    copies the requests that lie side by side there as one slice. Returns what was written.

    Runs under the cache's lock for every cached request, so the common case (nothing changed
    meanwhile) is done with `map`/`zip`, without a Python loop."""
    span, fresh, body = rows.span, rows.fresh, built.body
    ids = [request_id for request_id, _docid in snapshot.order]
    starts = [start - HEADER_LEN for start in built.starts]
    ends = [end - HEADER_LEN for end in built.ends]
    spans: list[Span] = list(zip(itertools.repeat(body, len(ids)), starts, ends, strict=True))
    current = list(map(span.get, ids))
    changed = {  # None in `current`: not a span now (written from a dict, or dropped since)
        *itertools.compress(itertools.count(), map(operator.is_not, current, map(snapshot.span.get, ids))),
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
    return Layout(snapshot.order, ids, written, built)


def _index(snapshot: Snapshot, starts: list[int], ends: list[int]) -> dict[str, list[Any]]:
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
        self.pos = HEADER_LEN
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
        if len(header) != HEADER_LEN:
            raise CacheError(f"the request cache header is {len(header)} bytes, not {HEADER_LEN}")
        return header, body

    def _end_run(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            self.parts.append(memoryview(run.blob)[run.start : run.end])
