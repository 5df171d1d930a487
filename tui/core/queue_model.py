"""The data behind the dispatcher's queues: every cached request as a flat row, held in memory.

Pure Python, no Textual: the table widget shows what `QueueModel.apply` returns.

- `QueueRow` is built once per request (`row_from_request`, or `make_row` from plain values) and
  never changes: a new version of the request is a new row. Text is cleaned for one line and
  names are resolved when it is built.
- `QueueKind` names the queues: `new` (not yet dispatched: new, returned, reopened), `due`
  (handling deadline passed or within `due_window`, 2 h by default), `in_progress` (dispatched,
  accepted, extended), `callback` (resolved, callback logged: awaiting the callback or its
  outcome), `attention` (a conflict or actions not yet sent) and `all`.
- `Filter` narrows a queue: free text (every whitespace-separated word must occur in the row's
  `haystack`, so Chinese substrings work; full-width letters and digits typed with an IME match
  their ASCII forms; a word of Latin letters also finds category, community and unit names by
  their pinyin initials or full pinyin, `dsl` → 德胜里社区), and sets of categories,
  communities, units (lead or co-unit), channels and tiers.
- `QueueModel.apply(kind, filter, sort)` is the visible list; `counts(now)` the size of every
  queue; `upsert(rows)` / `remove(ids)` take live updates.

The deadline that `due` and the table's colours follow is the handling deadline
(`api_client.domain.deadlines`).

How it stays fast at 100,000 rows (measured on a 2-core machine, CPython 3.11): a Python loop
over every row costs 10–50 ms, mostly in cache misses, so `apply` runs none but the free-text
scan, and touches only the rows it returns.
- Each sort order is an `_Ordering`: the rows sorted once (kept sorted by bisection on live
  updates) beside columns of one byte per row (queue bits, category, community, tier, channel,
  units, display names). A filter becomes a 0/1 byte per row by `bytes.translate` (C speed),
  masks are combined as big integers, and the rows are picked with `itertools.compress`
  (a few by their positions, found by splitting the mask: no pass over every row).
- The rows and their search strings are copied so that they lie in memory in urgency order:
  picking or scanning them in that order is 3–4x faster than in arrival order.
- Free text scans each row's search string once per new word (~13 ms at 100,000), remembers the
  last few words, and narrows from a remembered word that the new one contains, so typing `漏`
  then `漏雨` scans everything once. Names are matched per distinct value, not per row.
- `apply` returns a `QueueList`, which finds a request in itself by bisection: the table keeps
  its cursor on the selected request without comparing 100,000 ids.
- Building the rows ends with `gc.freeze()` (see `QueueModel`): a cyclic collection would
  otherwise walk every row again and again.
"""

from __future__ import annotations

import gc
import re
import sys
import time
from array import array
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial
from itertools import accumulate, compress, islice, repeat
from operator import add, attrgetter, contains, itemgetter
from typing import Final, NamedTuple, cast

from api_client.domain.deadlines import DUE_WINDOW
from api_client.domain.states import CALLBACK_STATES, IN_PROGRESS_STATES, NEW_STATES
from api_client.domain.untrusted_text import one_line
from api_client.models import Request, State, Tier
from tui.core.pinyin import matches as pinyin_matches

__all__ = [
    "DUE_WINDOW_S",
    "NO_FILTER",
    "Filter",
    "Names",
    "QueueKind",
    "QueueList",
    "QueueModel",
    "QueueRow",
    "Sort",
    "fold",
    "make_row",
    "row_from_request",
    "urgency_key",
]

#: `DUE_WINDOW` in seconds, as rows hold their times.
DUE_WINDOW_S: Final = DUE_WINDOW.total_seconds()


class QueueKind(StrEnum):
    """The dispatcher's queues."""

    new = "new"
    due = "due"
    in_progress = "in_progress"
    callback = "callback"
    attention = "attention"
    all = "all"


class Sort(StrEnum):
    """Orders a queue can be shown in."""

    urgency = "urgency"  # see `urgency_key`
    newest = "newest"  # received most recently first
    oldest = "oldest"  # received longest ago first


# Bits of `QueueRow.kinds`.
_NEW: Final = 1
_IN_PROGRESS: Final = 2
_CALLBACK: Final = 4
_ATTENTION: Final = 8
_HANDLING: Final = 16
_KIND_BITS: Final[dict[QueueKind, int]] = {
    QueueKind.new: _NEW,
    QueueKind.in_progress: _IN_PROGRESS,
    QueueKind.callback: _CALLBACK,
    QueueKind.attention: _ATTENTION,
}


class Names(NamedTuple):
    """Display names by id, for the table and for free-text search. Missing ids show as the id."""

    categories: Mapping[str, str] = {}
    communities: Mapping[str, str] = {}
    units: Mapping[str, str] = {}


_FULL_WIDTH_ALNUM: Final = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _half_width(match: re.Match[str]) -> str:
    return chr(ord(match.group()) - 0xFEE0)


def fold(s: str) -> str:
    """Text as search compares it: lower case, full-width letters and digits as ASCII (`１２`
    typed in an IME's full-width mode finds `12`)."""
    if not s.isascii():
        s = _FULL_WIDTH_ALNUM.sub(_half_width, s)
    return s.lower()


class QueueRow(NamedTuple):
    """One request as the queues see it. Build with `make_row` or `row_from_request`.

    Times are epoch seconds. Text fields are cleaned for one line (`untrusted_text.one_line`);
    `kinds` is derived from the state and flags.
    """

    id: str
    state: State
    category: str
    category_name: str
    community: str
    community_name: str
    lead_unit: str  # "" while undispatched
    lead_unit_name: str
    co_units: tuple[str, ...]
    channel: str
    tier: Tier
    due_at: float
    received_at: float
    vulnerable: bool
    unsent: bool  # actions recorded here and not yet confirmed by the server
    conflict: bool  # an action the server refused, waiting for the dispatcher
    description: str
    address: str
    caller: str
    kinds: int  # bit mask of the queues the row is in (all but `due`, which moves with time)

    @property
    def haystack(self) -> str:
        """What free-text search looks in: id, description, address, caller, category,
        community and lead unit names, folded (`fold`) and joined by newlines (which no search
        word contains, so a word never matches across two fields)."""
        return fold(
            "\n".join(
                (
                    self.id,
                    self.description,
                    self.address,
                    self.caller,
                    self.category_name,
                    self.community_name,
                    self.lead_unit_name,
                )
            )
        )

    def with_flags(self, *, unsent: bool, conflict: bool) -> QueueRow:
        """The same row with new outbox flags (the request itself unchanged)."""
        return self._replace(unsent=unsent, conflict=conflict, kinds=_kinds(self.state, unsent, conflict))


def _kinds(state: State, unsent: bool, conflict: bool) -> int:
    bits = 0
    if state in NEW_STATES:
        bits = _NEW | _HANDLING
    elif state in IN_PROGRESS_STATES:
        bits = _IN_PROGRESS | _HANDLING
    elif state in CALLBACK_STATES:
        bits = _CALLBACK
    if unsent or conflict:
        bits |= _ATTENTION
    return bits


_NO_NAMES: Final = Names()


def make_row(
    *,
    id: str,
    state: State | str,
    category: str,
    community: str,
    tier: Tier | str,
    due_at: float,
    received_at: float,
    description: str,
    address: str = "",
    caller: str = "",
    lead_unit: str | None = None,
    co_units: Iterable[str] = (),
    channel: str = "",
    vulnerable: bool = False,
    unsent: bool = False,
    conflict: bool = False,
    names: Names = _NO_NAMES,
) -> QueueRow:
    """A `QueueRow` from plain values: cleans the text, resolves names, derives `kinds`."""
    lead = lead_unit or ""
    known_state = State(state)
    return QueueRow(
        id=one_line(id),
        state=known_state,
        category=category,
        category_name=one_line(names.categories.get(category, category)),
        community=community,
        community_name=one_line(names.communities.get(community, community)),
        lead_unit=lead,
        lead_unit_name=one_line(names.units.get(lead, lead)),
        co_units=tuple(co_units),
        channel=sys.intern(str(channel)),  # one string per channel, not one per row
        tier=Tier(tier),
        due_at=float(due_at),
        received_at=float(received_at),
        vulnerable=vulnerable,
        unsent=unsent,
        conflict=conflict,
        description=one_line(description),
        address=one_line(address),
        caller=one_line(caller),
        kinds=_kinds(known_state, unsent, conflict),
    )


def row_from_request(
    request: Request, *, unsent: bool = False, conflict: bool = False, names: Names = _NO_NAMES
) -> QueueRow:
    """The queue row of a request (as the local cache's optimistic view shows it)."""
    return make_row(
        id=request.id,
        state=request.state,
        category=request.category,
        community=request.location.community,
        tier=request.tier,
        due_at=request.due_at.timestamp(),
        received_at=request.received_at.timestamp(),
        description=request.description,
        address=request.location.address,
        caller=request.caller.name,
        lead_unit=request.lead_unit,
        co_units=request.co_units,
        channel=request.channel,
        vulnerable=request.vulnerable,
        unsent=unsent,
        conflict=conflict,
        names=names,
    )


def urgency_key(row: QueueRow, now: float) -> tuple[bool, bool, int, bool, int, str]:
    """The urgency order: requests whose handling deadline runs before the others (resolved,
    closed, merged); overdue first; then the soonest deadline; among deadlines in the same
    minute (equal as the table shows them) vulnerable callers first; then the oldest request
    (to the second); then the id."""
    handling = bool(row.kinds & _HANDLING)
    return (
        not handling,
        handling and row.due_at >= now,
        _minute(row.due_at),
        not row.vulnerable,
        int(row.received_at // 1),
        row.id,
    )


@dataclass(frozen=True, slots=True)
class Filter:
    """What narrows a queue. Empty sets and empty text restrict nothing."""

    text: str = ""
    categories: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()  # matches the lead unit or any co-unit
    channels: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    #: The search words: `text` folded and split on whitespace, duplicates dropped.
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(dict.fromkeys(fold(self.text).split())))

    @property
    def is_empty(self) -> bool:
        """True when the filter lets every row through."""
        return not (
            self.words or self.categories or self.communities or self.units or self.channels or self.tiers
        )

    def matches(self, row: QueueRow) -> bool:
        """Whether one row passes (the model filters whole queues faster; this is the rule)."""
        if self.categories and row.category not in self.categories:
            return False
        if self.communities and row.community not in self.communities:
            return False
        if self.tiers and row.tier not in self.tiers:
            return False
        if self.channels and row.channel not in self.channels:
            return False
        if self.units and row.lead_unit not in self.units and self.units.isdisjoint(row.co_units):
            return False
        if self.words:
            haystack = row.haystack
            return all(word in haystack for word in self.words)
        return True


NO_FILTER: Final = Filter()


_Locator = tuple[Callable[[QueueRow], tuple[int, str]], Callable[[str], QueueRow | None], float | None]


class QueueList(list[QueueRow]):
    """A queue as `QueueModel.apply` returns it: a list of rows in their sort order, which can
    find a request in itself in O(log n) instead of comparing ids one by one (a scan of 100,000
    rows costs 20–40 ms, too much on every refilter)."""

    #: Set by `QueueModel.apply`: the sort key, the model's current row by id, and `now` for
    #: an urgency order (whose current minute `_overdue_first` may have rearranged).
    _locator: _Locator | None = None

    def position(self, row: QueueRow) -> int:
        """The index of the request of `row` (this version of it, or the model's current one),
        or -1 if the request is not in this list. Do not call it after mutating the list."""
        if self._locator is None:
            return next((i for i, r in enumerate(self) if r.id == row.id), -1)
        key, current, now = self._locator
        for version in (row, current(row.id)):
            if version is None:
                continue
            index = bisect_left(self, key(version), key=key)
            if index < len(self) and self[index].id == row.id:
                return index
            if now is not None:  # `_overdue_first` may have moved it within the current minute
                group = (False, _minute(now))
                if _deadline_group(version) == group:
                    start = bisect_left(self, group, key=_deadline_group)
                    end = bisect_right(self, group, key=_deadline_group)
                    for index in range(start, end):
                        if self[index].id == row.id:
                            return index
        return -1


# --------------------------------------------------------------------------- orderings


def _minute(t: float) -> int:
    return int(t // 60)


def _urgency_rank(row: QueueRow) -> int:
    # `urgency_key` without `now` (its overdue element) and the id, packed in one int: sorting
    # ints is ~4x faster than tuples. The order does not depend on `now` except among handling
    # rows due in the current minute, which `_overdue_first` puts right afterwards.
    group = 0 if row.kinds & _HANDLING else 1
    deadline = ((group << 32) + _minute(row.due_at)) * 2 + (not row.vulnerable)
    return (deadline << 40) + int(row.received_at // 1)


def _deadline_group(row: QueueRow) -> tuple[bool, int]:
    """The leading part of the urgency order: (not handling, deadline minute)."""
    return (not row.kinds & _HANDLING, _minute(row.due_at))


def _newest_rank(row: QueueRow) -> int:
    return -int(row.received_at // 1)


def _oldest_rank(row: QueueRow) -> int:
    return int(row.received_at // 1)


_RANKS: Final[dict[Sort, Callable[[QueueRow], int]]] = {
    Sort.urgency: _urgency_rank,
    Sort.newest: _newest_rank,
    Sort.oldest: _oldest_rank,
}

#: The filterable attributes kept as byte columns, and how each row's value is read.
_ATTRS: Final[dict[str, Callable[[QueueRow], Hashable]]] = {
    "category": attrgetter("category"),
    "community": attrgetter("community"),
    "tier": attrgetter("tier"),
    "channel": attrgetter("channel"),
    # A multi-valued attribute becomes one value: (lead, co-units); few distinct ones exist.
    "units": attrgetter("lead_unit", "co_units"),
    # Display names: searched as columns (a few distinct values) rather than in every row's text.
    "category_name": attrgetter("category_name"),
    "community_name": attrgetter("community_name"),
    "lead_unit_name": attrgetter("lead_unit_name"),
}
_NAME_ATTRS: Final = ("category_name", "community_name", "lead_unit_name")


#: `fold` of a display name: few distinct ones, folded once each, not once per search.
_fold_name: Final = lru_cache(maxsize=4096)(fold)


def _name_matches(word: str, name: str) -> bool:
    """A search word matches a category, community or unit name by its characters, or, for a
    word of two or more Latin letters, by the name's pinyin initials or full pinyin (`dsl` and
    `deshengli` find 德胜里社区)."""
    if word in _fold_name(name):
        return True
    if len(word) < 2 or not word.isascii() or not word.isalpha():
        return False
    return pinyin_matches(word, name)


def _search_text(row: QueueRow) -> str:
    """What the model scans per row: `QueueRow.haystack` without the display names (searched as
    columns) and without the address when the description already contains it (20–40 % less
    text to scan; a word found in the address is found in the description then)."""
    parts = [row.id, row.description]
    if row.address not in row.description:
        parts.append(row.address)
    parts.append(row.caller)
    return fold("\n".join(parts))


_Mask = int  # one byte per row (0 or 1), little-endian: byte i is row i; -1 means "every row"
_ALL: Final = -1
_MAX_CODES: Final = 1 << 16


def _table(wanted: Iterable[int]) -> bytes:
    """A `bytes.translate` table mapping the wanted byte values to 1 and the rest to 0."""
    table = bytearray(256)
    for value in wanted:
        table[value] = 1
    return bytes(table)


_KIND_TABLES: Final = {
    bit: _table(k for k in range(256) if k & bit) for bit in (*_KIND_BITS.values(), _HANDLING)
}


class _Codes:
    """Small integer codes for the distinct values of one attribute (shared by all orderings)."""

    __slots__ = ("codes",)

    def __init__(self) -> None:
        self.codes: dict[Hashable, int] = {}

    def code(self, value: Hashable) -> int:
        code = self.codes.get(value)
        if code is None:
            code = len(self.codes)
            if code >= _MAX_CODES:
                raise OverflowError("more than 65,536 distinct values of one queue attribute")
            self.codes[value] = code
        return code

    def encode(self, values: list[Hashable]) -> list[int]:
        for value in set(values) - self.codes.keys():
            self.code(value)
        return list(map(self.codes.__getitem__, values))

    def matching(self, wanted: Callable[[Hashable], bool]) -> list[int]:
        return [code for value, code in self.codes.items() if wanted(value)]


class _Column:
    """One attribute's code for every row of an ordering: low bytes, and high bytes once some
    code needs one (more than 256 distinct values), in row order."""

    __slots__ = ("high", "low")

    def __init__(self, low: bytearray, high: bytearray | None) -> None:
        self.low = low
        self.high = high

    @classmethod
    def of(cls, codes: list[int]) -> _Column:
        try:
            return cls(bytearray(codes), None)  # fewer than 256 codes: C speed
        except ValueError:
            return cls(bytearray(c & 0xFF for c in codes), bytearray(c >> 8 for c in codes))

    def permuted(self, gather: Callable[[bytearray], tuple[int, ...]]) -> _Column:
        high = None if self.high is None else bytearray(gather(self.high))
        return _Column(bytearray(gather(self.low)), high)

    def insert(self, index: int, code: int) -> None:
        self.low.insert(index, code & 0xFF)
        if self.high is None and code > 0xFF:
            self.high = bytearray(len(self.low) - 1)
        if self.high is not None:
            self.high.insert(index, code >> 8)

    def delete(self, index: int) -> None:
        del self.low[index]
        if self.high is not None:
            del self.high[index]

    def mask(self, codes: Iterable[int]) -> _Mask:
        by_high: dict[int, set[int]] = {}
        for code in codes:
            by_high.setdefault(code >> 8, set()).add(code & 0xFF)
        result = 0
        for high, lows in by_high.items():
            if self.high is None and high:
                continue  # no row has a code that large
            part = int.from_bytes(self.low.translate(_table(lows)), "little")
            if self.high is not None:
                part &= int.from_bytes(self.high.translate(_table((high,))), "little")
            result |= part
        return result


class _Ordering:
    """All rows in one sort order, with their filter columns, deadlines and search strings."""

    def __init__(
        self,
        rank: Callable[[QueueRow], int],
        rows: list[QueueRow],
        codes: Mapping[str, _Codes],
        *,
        kinds: bytearray,
        columns: dict[str, _Column],
        due: array[float],
        haystacks: list[str] | None,
    ) -> None:
        self.rank = rank
        #: The sort key: (rank, id), unique. A partial, not a method: a `QueueList` keeps it.
        self.key: Callable[[QueueRow], tuple[int, str]] = partial(_rank_key, rank)
        self.codes = codes
        self.rows = rows
        self.kinds = kinds
        self.columns = columns
        self.due = due
        #: Search strings, in the urgency ordering only (free text is searched there).
        self.haystacks = haystacks
        self.version = 0

    @classmethod
    def build(
        cls, rank: Callable[[QueueRow], int], rows: list[QueueRow], codes: Mapping[str, _Codes]
    ) -> _Ordering:
        """The ordering of `rows`, which are sorted by (`rank`, id) already. Makes each row's
        search string, in this order (see `QueueModel._rebuild`)."""
        return cls(
            rank,
            rows,
            codes,
            kinds=bytearray(r.kinds for r in rows),
            columns={
                name: _Column.of(codes[name].encode(list(map(read, rows)))) for name, read in _ATTRS.items()
            },
            due=array("d", (r.due_at for r in rows)),
            haystacks=[_search_text(r) for r in rows],
        )

    @classmethod
    def derive(cls, rank: Callable[[QueueRow], int], source: _Ordering) -> tuple[_Ordering, list[int]]:
        """The same rows sorted by (`rank`, id), every column permuted from `source` in C (no
        per-row Python), and each row's position in `source`."""
        rows = source.rows
        ids = [r.id for r in rows]
        ranks = list(map(rank, rows))
        order = sorted(range(len(rows)), key=ids.__getitem__)
        order.sort(key=ranks.__getitem__)  # stable: (rank, id) order
        if len(order) < 2:  # itemgetter with one index returns the item, not a tuple
            return cls.build(rank, [rows[i] for i in order], source.codes), order
        gather = itemgetter(*order)
        ordering = cls(
            rank,
            list(gather(rows)),
            source.codes,
            kinds=bytearray(gather(source.kinds)),
            columns={name: column.permuted(gather) for name, column in source.columns.items()},
            due=array("d", gather(source.due)),
            haystacks=None,
        )
        return ordering, order

    def __len__(self) -> int:
        return len(self.rows)

    def index(self, row: QueueRow) -> int:
        """Where `row` (this very object) sits, or -1."""
        index = bisect_left(self.rows, self.key(row), key=self.key)
        return index if index < len(self.rows) and self.rows[index] is row else -1

    def add(self, row: QueueRow, haystack: str) -> None:
        index = bisect_right(self.rows, self.key(row), key=self.key)
        self.rows.insert(index, row)
        self.kinds.insert(index, row.kinds)
        for name, read in _ATTRS.items():
            self.columns[name].insert(index, self.codes[name].code(read(row)))
        self.due.insert(index, row.due_at)
        if self.haystacks is not None:
            self.haystacks.insert(index, haystack)
        self.version += 1

    def remove(self, row: QueueRow) -> None:
        index = self.index(row)
        if index < 0:
            return
        del self.rows[index]
        del self.kinds[index]
        for column in self.columns.values():
            column.delete(index)
        del self.due[index]
        if self.haystacks is not None:
            del self.haystacks[index]
        self.version += 1

    # -- masks (one byte per row, as an int)

    def kind_mask(self, bit: int) -> _Mask:
        return int.from_bytes(self.kinds.translate(_KIND_TABLES[bit]), "little")

    def attr_mask(self, name: str, wanted: Callable[[Hashable], bool]) -> _Mask:
        return self.columns[name].mask(self.codes[name].matching(wanted))

    def due_mask(self, limit: float, *, sorted_by_deadline: bool) -> _Mask:
        """Rows whose deadline is at or before `limit` (handling or not)."""
        n = len(self.rows)
        if not sorted_by_deadline:
            return int.from_bytes(bytes([d <= limit for d in self.due]), "little")
        group = (False, _minute(limit))  # handling rows due in the minute of `limit`
        start = bisect_left(self.rows, group, key=_deadline_group)
        end = bisect_right(self.rows, group, key=_deadline_group)
        flags = bytearray(b"\x01" * start + b"\x00" * (n - start))
        for index in range(start, end):
            flags[index] = self.due[index] <= limit
        return int.from_bytes(flags, "little")

    def word_mask(self, word: str, within: _Mask, memory: _WordMemory) -> tuple[_Mask, bool]:
        """Rows whose search string contains `word`: exact for every row (True) or only for the
        rows in `within` (False). Scans as few strings as it can."""
        n = len(self.rows)
        remembered = memory.get(self.version, word)
        if remembered is not None:
            return remembered, True
        # A remembered word inside this one bounds the candidates (`漏` for `漏雨`).
        bound, bound_count = memory.narrowest_within(self.version, word)
        within_count = n if within == _ALL else _count(within, n)
        haystacks = self.haystacks
        assert haystacks is not None, "free text is searched in the urgency ordering"
        named = self.name_mask(word)
        # Checking candidates one by one beats the plain scan below only when they are few.
        if bound is not None and bound_count <= within_count and bound_count < n // 3:
            candidates, exact = bound, True
        elif within_count < n // 3:
            candidates, exact = within, False
        else:
            flags = bytes(map(contains, haystacks, repeat(word)))  # the one scan of every row
            mask = int.from_bytes(flags, "little") | named
            memory.put(self.version, word, mask, _count(mask, n))
            return mask, True
        positions = _indices(candidates.to_bytes(n, "little"))
        looked_at = map(haystacks.__getitem__, positions)
        found = compress(positions, map(contains, looked_at, repeat(word)))  # all in C
        hits = bytearray(n)
        deque(map(hits.__setitem__, found, repeat(1)), maxlen=0)  # hits[i] = 1 for each, in C
        mask = int.from_bytes(hits, "little") | named
        if exact:
            memory.put(self.version, word, mask, _count(mask, n))
        return mask, exact

    def name_mask(self, word: str) -> _Mask:
        """Rows whose category, community or lead unit name contains `word`."""
        mask = 0
        for name in _NAME_ATTRS:
            codes = self.codes[name].matching(lambda value: _name_matches(word, cast(str, value)))
            if codes:
                mask |= self.columns[name].mask(codes)
        return mask

    def pick(self, mask: _Mask, current: Callable[[str], QueueRow | None], now: float | None) -> QueueList:
        """The rows a mask selects, in order."""
        rows = self.rows
        if mask == _ALL:
            picked = QueueList(rows)
        else:
            flags = mask.to_bytes(len(rows), "little")
            if flags.count(1) <= len(rows) // _SPARSE:
                picked = QueueList(map(rows.__getitem__, _indices(flags)))
            else:  # the rows lie in memory in this order (see `_rebuild`): a pass is cheap
                picked = QueueList(compress(rows, flags))
        picked._locator = (self.key, current, now)
        return picked


#: A mask selecting at most 1/_SPARSE of the rows is "sparse": its positions are found by
#: splitting it (cost per selected row), not by a pass over every row (~2 ms at 100,000).
_SPARSE: Final = 12


def _indices(flags: bytes) -> list[int]:
    """The positions of the 1 bytes (the others are 0), in order, found in C: when few, from the
    lengths of the runs of 0s between them; else by `compress`."""
    selected = flags.count(1)
    if selected > len(flags) // _SPARSE:
        return list(compress(range(len(flags)), flags))
    # Run j of 0s ends just before 1 number j: its position is the sum of (length + 1) of the
    # runs up to j, minus 1.
    gaps = map(add, map(len, flags.split(b"\x01")), repeat(1))
    return list(islice(accumulate(gaps, initial=-1), 1, selected + 1))


def _row_id(row: QueueRow) -> str:
    return row.id


def _rank_key(rank: Callable[[QueueRow], int], row: QueueRow) -> tuple[int, str]:
    return (rank(row), row.id)


def _count(mask: _Mask, n: int) -> int:
    return n if mask == _ALL else mask.to_bytes(n, "little").count(1)


def _and(a: _Mask, b: _Mask) -> _Mask:
    if a == _ALL:
        return b
    if b == _ALL:
        return a
    return a & b


class _WordMemory:
    """The last few search words' masks over the urgency ordering (any change forgets them)."""

    SIZE: Final = 8

    def __init__(self) -> None:
        self.version = -1
        self.masks: dict[str, tuple[_Mask, int]] = {}

    def _check(self, version: int) -> None:
        if version != self.version:
            self.version = version
            self.masks.clear()

    def get(self, version: int, word: str) -> _Mask | None:
        self._check(version)
        entry = self.masks.pop(word, None)
        if entry is None:
            return None
        self.masks[word] = entry  # most recently used last
        return entry[0]

    def narrowest_within(self, version: int, word: str) -> tuple[_Mask | None, int]:
        self._check(version)
        best: tuple[_Mask | None, int] = (None, 0)
        for known, (mask, count) in self.masks.items():
            if known in word and (best[0] is None or count < best[1]):
                best = (mask, count)
        return best

    def put(self, version: int, word: str, mask: _Mask, count: int) -> None:
        self._check(version)
        self.masks[word] = (mask, count)
        while len(self.masks) > self.SIZE:
            del self.masks[next(iter(self.masks))]


class _Translation:
    """Maps a mask over the urgency ordering onto another ordering (for free-text search):
    for each row of the other ordering, its position in the urgency ordering."""

    def __init__(self, positions: Iterable[int], versions: tuple[int, int]) -> None:
        self.versions = versions
        self.positions = array("I", positions)  # 4 bytes a row; an int object would take 32

    @classmethod
    def between(cls, source: _Ordering, target: _Ordering) -> _Translation:
        position = {id(row): i for i, row in enumerate(source.rows)}
        return cls([position[id(row)] for row in target.rows], (source.version, target.version))

    def apply(self, mask: _Mask, n: int) -> _Mask:
        if mask == _ALL or n < 2:
            return mask
        gather = itemgetter(*self.positions)
        return int.from_bytes(bytes(gather(mask.to_bytes(n, "little"))), "little")


#: Above this many changed rows (or 2 % of the model), sort afresh instead of bisecting.
_REBUILD_AT: Final = 512


class QueueModel:
    """All rows in memory: by id, and in each sort order that has been asked for.

    `due_window` is how soon a deadline must be to put a request in the `due` queue. Not
    thread-safe: call it from one thread (the UI's). A batch of more than 512 rows (or 2 % of
    the model) is sorted afresh, ~1 s at 100,000 rows: give big syncs to a worker, or expect it.

    With `freeze` (the default), building the rows or a sort order ends with `gc.freeze()`: the
    rows are long-lived tuples that Python's cycle collector cannot untrack (it only untracks exact
    tuples), and a full collection walking 100,000 of them and the lists that hold them pauses the
    app for ~300 ms every so often. Frozen objects are still freed when their last reference goes;
    only reference cycles among objects alive at that moment would outlive it. Pass
    `freeze=False` if the process manages the collector itself.
    """

    def __init__(
        self, rows: Iterable[QueueRow] = (), *, due_window: float = DUE_WINDOW_S, freeze: bool = True
    ) -> None:
        self.due_window = due_window
        self._freeze = freeze
        self._by_id: dict[str, QueueRow] = {}
        for row in rows:
            self._by_id[row.id] = row
        self._codes = {name: _Codes() for name in _ATTRS}
        self._orderings: dict[Sort, _Ordering] = {}
        self._translations: dict[Sort, _Translation] = {}
        self._memory = _WordMemory()
        self._kind_counts: dict[int, int] = {}
        self._deadlines: list[float] = []  # due_at of every handling row, sorted
        self._rebuild()

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._by_id

    def get(self, request_id: str) -> QueueRow | None:
        """The row of this request, or None."""
        return self._by_id.get(request_id)

    def prepare(self, *sorts: Sort) -> None:
        """Build these sort orders (default: all) now, not on first use: the first switch to
        another order sorts every row (~0.3 s at 100,000). An app can call it when idle."""
        for sort in sorts or tuple(Sort):
            self._ordering(sort)

    def rows(self, sort: Sort = Sort.urgency) -> list[QueueRow]:
        """Every row, in `sort` order (a new list)."""
        return list(self._ordering(sort).rows)

    # ------------------------------------------------------------------ queries

    def apply(
        self,
        kind: QueueKind = QueueKind.all,
        filter: Filter = NO_FILTER,
        sort: Sort = Sort.urgency,
        *,
        now: float | None = None,
    ) -> QueueList:
        """The visible list: the rows of queue `kind` that pass `filter`, in `sort` order.

        `now` (epoch seconds, default the clock) decides `due` and the overdue-first rule.
        The result is a new list the caller may keep; it can find a request in itself by
        bisection (`QueueList.position`), which `QueueTable.set_rows` uses to keep the cursor.
        """
        if now is None:
            now = time.time()
        ordering = self._ordering(sort)
        mask = self._mask(ordering, sort, kind, filter, now)
        rows = ordering.pick(mask, self.get, now if sort is Sort.urgency else None)
        if sort is Sort.urgency:
            _overdue_first(rows, now)
        return rows

    def counts(self, now: float | None = None, filter: Filter = NO_FILTER) -> dict[QueueKind, int]:
        """How many rows every queue holds at `now` (optionally only those passing `filter`)."""
        if now is None:
            now = time.time()
        limit = now + self.due_window
        if filter.is_empty:
            counts = {kind: self._kind_counts.get(bit, 0) for kind, bit in _KIND_BITS.items()}
            counts[QueueKind.due] = bisect_right(self._deadlines, limit)
            counts[QueueKind.all] = len(self._by_id)
        else:
            ordering = self._ordering(Sort.urgency)
            n = len(ordering)
            base = self._mask(ordering, Sort.urgency, QueueKind.all, filter, now)
            counts = {
                kind: _count(_and(base, ordering.kind_mask(bit)), n) for kind, bit in _KIND_BITS.items()
            }
            due = _and(ordering.kind_mask(_HANDLING), ordering.due_mask(limit, sorted_by_deadline=True))
            counts[QueueKind.due] = _count(_and(base, due), n)
            counts[QueueKind.all] = _count(base, n)
        return {kind: counts[kind] for kind in QueueKind}

    # ------------------------------------------------------------------ live updates

    def upsert(self, rows: Iterable[QueueRow]) -> None:
        """Add rows, or replace the rows with the same id. Every order stays sorted."""
        batch = list(rows)
        if not batch:
            return
        if len(batch) > max(_REBUILD_AT, len(self._by_id) // 50):
            for row in batch:
                self._by_id[row.id] = row
            self._rebuild()
            return
        for new in batch:  # one by one: a batch may name a request twice
            old = self._by_id.get(new.id)
            if old is not None:
                self._forget(old)
            self._by_id[new.id] = new
            self._learn(new)

    def remove(self, ids: Iterable[str]) -> None:
        """Drop the rows with these ids (unknown ids are ignored)."""
        for request_id in ids:
            old = self._by_id.pop(request_id, None)
            if old is not None:
                self._forget(old)

    # ------------------------------------------------------------------ internals

    def _mask(self, ordering: _Ordering, sort: Sort, kind: QueueKind, filter: Filter, now: float) -> _Mask:
        mask: _Mask = _ALL
        if kind is QueueKind.due:
            deadline = ordering.due_mask(now + self.due_window, sorted_by_deadline=sort is Sort.urgency)
            mask = deadline & ordering.kind_mask(_HANDLING)
        elif kind is not QueueKind.all:
            mask = ordering.kind_mask(_KIND_BITS[kind])
        for name, wanted in (
            ("category", filter.categories),
            ("community", filter.communities),
            ("tier", filter.tiers),
            ("channel", filter.channels),
        ):
            if wanted:
                mask = _and(mask, ordering.attr_mask(name, wanted.__contains__))
        if filter.units:
            units = filter.units

            def shares_a_unit(combination: Hashable) -> bool:
                lead, co_units = cast(tuple[str, tuple[str, ...]], combination)
                return lead in units or not units.isdisjoint(co_units)

            mask = _and(mask, ordering.attr_mask("units", shares_a_unit))
        if filter.words:
            mask = _and(mask, self._text_mask(ordering, sort, filter.words, mask))
        return mask

    def _text_mask(self, ordering: _Ordering, sort: Sort, words: tuple[str, ...], within: _Mask) -> _Mask:
        """Rows containing every word: searched in the urgency ordering, whose search strings
        were allocated in its order (scanning them in another order is twice as slow)."""
        urgency = self._ordering(Sort.urgency)
        n = len(urgency)
        if sort is not Sort.urgency and within != _ALL:
            within = _ALL  # the bound is in the other order; search everything
        mask = within
        for word in words:
            found, _exact = urgency.word_mask(word, mask, self._memory)
            mask = _and(mask, found)
        if sort is Sort.urgency:
            return mask
        translation = self._translations.get(sort)
        if translation is None or translation.versions != (urgency.version, ordering.version):
            translation = self._translations[sort] = _Translation.between(urgency, ordering)
        return translation.apply(mask, n)

    def _ordering(self, sort: Sort) -> _Ordering:
        ordering = self._orderings.get(sort)
        if ordering is None:
            with _collector_paused():
                urgency = self._orderings[Sort.urgency]
                ordering, positions = _Ordering.derive(_RANKS[sort], urgency)
                self._orderings[sort] = ordering
                self._translations[sort] = _Translation(positions, (urgency.version, ordering.version))
                if self._freeze:
                    gc.freeze()  # its two 100,000-item lists need no walking either
        return ordering

    def _rebuild(self) -> None:
        """Sort afresh, and allocate rows and search strings in urgency order (see `pick`)."""
        with _collector_paused():
            self._rebuild_now()
            if self._freeze:
                gc.freeze()

    def _rebuild_now(self) -> None:
        self._orderings.clear()
        self._translations.clear()
        self._memory = _WordMemory()  # its masks belong to the old order
        ordered = sorted(self._by_id.values(), key=_row_id)
        ordered.sort(key=_urgency_rank)
        # Copy each row (an equal tuple) so that the rows, like their search strings, lie in
        # memory in urgency order: picking 24,000 scattered rows costs 8 ms, in order 2 ms.
        ordered = [QueueRow._make(row) for row in ordered]
        self._by_id = {row.id: row for row in ordered}
        self._orderings[Sort.urgency] = _Ordering.build(_urgency_rank, ordered, self._codes)
        counts: dict[int, int] = {}
        for row in self._by_id.values():
            counts[row.kinds] = counts.get(row.kinds, 0) + 1
        self._kind_counts = {
            bit: sum(n for kinds, n in counts.items() if kinds & bit) for bit in _KIND_BITS.values()
        }
        self._deadlines = sorted(r.due_at for r in self._by_id.values() if r.kinds & _HANDLING)

    def _learn(self, row: QueueRow) -> None:
        haystack = _search_text(row)
        for ordering in self._orderings.values():
            ordering.add(row, haystack)
        for bit in _KIND_BITS.values():
            if row.kinds & bit:
                self._kind_counts[bit] = self._kind_counts.get(bit, 0) + 1
        if row.kinds & _HANDLING:
            insort(self._deadlines, row.due_at)

    def _forget(self, row: QueueRow) -> None:
        for ordering in self._orderings.values():
            ordering.remove(row)
        for bit in _KIND_BITS.values():
            if row.kinds & bit:
                self._kind_counts[bit] -= 1
        if row.kinds & _HANDLING:
            index = bisect_left(self._deadlines, row.due_at)
            if index < len(self._deadlines) and self._deadlines[index] == row.due_at:
                del self._deadlines[index]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a few hundred thousand tuples are made (the collector
    would walk them all again and again: ~10 µs a row instead of ~1). They form no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _overdue_first(rows: list[QueueRow], now: float) -> None:
    """Fix rows in urgency order for the one minute that `now` falls in: its overdue rows first."""
    group = (False, _minute(now))
    start = bisect_left(rows, group, key=_deadline_group)
    end = bisect_right(rows, group, key=_deadline_group)
    if end - start < 2:
        return
    block = rows[start:end]
    fixed = [r for r in block if r.due_at < now] + [r for r in block if r.due_at >= now]
    if fixed != block:
        rows[start:end] = fixed
