"""The cached requests in memory: where each one's JSON lies, and the index over them.

A request is held either as a span of bytes read from (or written to) the cache file, or as a
dict changed since (`fresh`, which wins). Its stamp (change_seq, version) and state are kept
beside it, so queries and merges never parse a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from local_cache.errors import CorruptCache
from local_cache.storage import Document, FileKey

#: Where a request's JSON lies: (the file's bytes, start, end).
Span = tuple[bytes, int, int]
#: What decides which copy of a request is newer: (change_seq, version).
Stamp = tuple[int, int]


@dataclass
class RequestIndex:
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

    def merge_from(self, disk: RequestIndex) -> None:
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
