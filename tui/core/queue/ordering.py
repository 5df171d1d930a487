"""`Ordering`: every row in one sort order beside its byte columns, deadlines and search strings.

How a queue is filtered without a Python loop over every row (which costs 10–50 ms at 100,000,
mostly in cache misses): each filterable attribute is a column of one byte code per row
(`masks.Column`), a filter is a mask made from a column in C, and only the rows a mask selects
are touched. Free text scans each row's search string once per new word (~13 ms at 100,000),
remembers the last few words (`WordMemory`), and narrows from a remembered word that the new one
contains, so typing `漏` then `漏雨` scans everything once. Names are matched per distinct value,
not per row.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, contains, itemgetter
from typing import Final, cast

from tui.core.queue.filters import name_matches, search_text
from tui.core.queue.kinds import HANDLING_BIT, KIND_BITS
from tui.core.queue.masks import ALL, SPARSE, Codes, Column, Mask, count, indices, table
from tui.core.queue.queue_list import QueueList
from tui.core.queue.rows import QueueRow
from tui.core.queue.sorts import deadline_group, minute, rank_key

__all__ = ["ATTRS", "Ordering", "Translation", "WordMemory"]

#: The filterable attributes kept as byte columns, and how each row's value is read.
ATTRS: Final[dict[str, Callable[[QueueRow], Hashable]]] = {
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

_KIND_TABLES: Final = {
    bit: table(k for k in range(256) if k & bit) for bit in (*KIND_BITS.values(), HANDLING_BIT)
}


class WordMemory:
    """The last few search words' masks over the urgency ordering (any change forgets them)."""

    SIZE: Final = 8

    def __init__(self) -> None:
        self.version = -1
        self.masks: dict[str, tuple[Mask, int]] = {}

    def _check(self, version: int) -> None:
        if version != self.version:
            self.version = version
            self.masks.clear()

    def get(self, version: int, word: str) -> Mask | None:
        self._check(version)
        entry = self.masks.pop(word, None)
        if entry is None:
            return None
        self.masks[word] = entry  # most recently used last
        return entry[0]

    def narrowest_within(self, version: int, word: str) -> tuple[Mask | None, int]:
        self._check(version)
        best: tuple[Mask | None, int] = (None, 0)
        for known, (mask, selected) in self.masks.items():
            if known in word and (best[0] is None or selected < best[1]):
                best = (mask, selected)
        return best

    def put(self, version: int, word: str, mask: Mask, selected: int) -> None:
        self._check(version)
        self.masks[word] = (mask, selected)
        while len(self.masks) > self.SIZE:
            del self.masks[next(iter(self.masks))]


class Ordering:
    """All rows in one sort order, with their filter columns, deadlines and search strings."""

    def __init__(
        self,
        rank: Callable[[QueueRow], int],
        rows: list[QueueRow],
        codes: Mapping[str, Codes],
        *,
        kinds: bytearray,
        columns: dict[str, Column],
        due: array[float],
        haystacks: list[str] | None,
    ) -> None:
        self.rank = rank
        #: The sort key: (rank, id), unique. A partial, not a method: a `QueueList` keeps it.
        self.key: Callable[[QueueRow], tuple[int, str]] = partial(rank_key, rank)
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
        cls, rank: Callable[[QueueRow], int], rows: list[QueueRow], codes: Mapping[str, Codes]
    ) -> Ordering:
        """The ordering of `rows`, which are sorted by (`rank`, id) already. Makes each row's
        search string, in this order (see `QueueModel`)."""
        return cls(
            rank,
            rows,
            codes,
            kinds=bytearray(r.kinds for r in rows),
            columns={
                name: Column.of(codes[name].encode(list(map(read, rows)))) for name, read in ATTRS.items()
            },
            due=array("d", (r.due_at for r in rows)),
            haystacks=[search_text(r) for r in rows],
        )

    @classmethod
    def derive(cls, rank: Callable[[QueueRow], int], source: Ordering) -> tuple[Ordering, list[int]]:
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
        for name, read in ATTRS.items():
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

    def kind_mask(self, bit: int) -> Mask:
        return int.from_bytes(self.kinds.translate(_KIND_TABLES[bit]), "little")

    def attr_mask(self, name: str, wanted: Callable[[Hashable], bool]) -> Mask:
        return self.columns[name].mask(self.codes[name].matching(wanted))

    def due_mask(self, limit: float, *, sorted_by_deadline: bool) -> Mask:
        """Rows whose deadline is at or before `limit` (handling or not)."""
        n = len(self.rows)
        if not sorted_by_deadline:
            return int.from_bytes(bytes([d <= limit for d in self.due]), "little")
        group = (False, minute(limit))  # handling rows due in the minute of `limit`
        start = bisect_left(self.rows, group, key=deadline_group)
        end = bisect_right(self.rows, group, key=deadline_group)
        flags = bytearray(b"\x01" * start + b"\x00" * (n - start))
        for index in range(start, end):
            flags[index] = self.due[index] <= limit
        return int.from_bytes(flags, "little")

    def word_mask(self, word: str, within: Mask, memory: WordMemory) -> tuple[Mask, bool]:
        """Rows whose search string contains `word`: exact for every row (True) or only for the
        rows in `within` (False). Scans as few strings as it can."""
        n = len(self.rows)
        remembered = memory.get(self.version, word)
        if remembered is not None:
            return remembered, True
        # A remembered word inside this one bounds the candidates (`漏` for `漏雨`).
        bound, bound_count = memory.narrowest_within(self.version, word)
        within_count = n if within == ALL else count(within, n)
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
            memory.put(self.version, word, mask, count(mask, n))
            return mask, True
        positions = indices(candidates.to_bytes(n, "little"))
        looked_at = map(haystacks.__getitem__, positions)
        found = compress(positions, map(contains, looked_at, repeat(word)))  # all in C
        hits = bytearray(n)
        deque(map(hits.__setitem__, found, repeat(1)), maxlen=0)  # hits[i] = 1 for each, in C
        mask = int.from_bytes(hits, "little") | named
        if exact:
            memory.put(self.version, word, mask, count(mask, n))
        return mask, exact

    def name_mask(self, word: str) -> Mask:
        """Rows whose category, community or lead unit name contains `word`."""
        mask = 0
        for name in _NAME_ATTRS:
            codes = self.codes[name].matching(lambda value: name_matches(word, cast(str, value)))
            if codes:
                mask |= self.columns[name].mask(codes)
        return mask

    def pick(self, mask: Mask, current: Callable[[str], QueueRow | None], now: float | None) -> QueueList:
        """The rows a mask selects, in order."""
        rows = self.rows
        locator = (self.key, current, now)
        if mask == ALL:
            return QueueList(rows, locator)
        flags = mask.to_bytes(len(rows), "little")
        if flags.count(1) <= len(rows) // SPARSE:
            return QueueList(map(rows.__getitem__, indices(flags)), locator)
        # The rows lie in memory in this order (see `QueueModel`): a pass is cheap.
        return QueueList(compress(rows, flags), locator)


class Translation:
    """Maps a mask over the urgency ordering onto another ordering (for free-text search):
    for each row of the other ordering, its position in the urgency ordering."""

    def __init__(self, positions: Iterable[int], versions: tuple[int, int]) -> None:
        self.versions = versions
        self.positions = array("I", positions)  # 4 bytes a row; an int object would take 32

    @classmethod
    def between(cls, source: Ordering, target: Ordering) -> Translation:
        position = {id(row): i for i, row in enumerate(source.rows)}
        return cls([position[id(row)] for row in target.rows], (source.version, target.version))

    def apply(self, mask: Mask, n: int) -> Mask:
        if mask == ALL or n < 2:
            return mask
        gather = itemgetter(*self.positions)
        return int.from_bytes(bytes(gather(mask.to_bytes(n, "little"))), "little")
