"""`QueueModel`: every cached request's row in memory, by id and in each sort order asked for.

`apply(kind, filter, sort)` is the visible list, `counts(now)` the size of every queue, and
`upsert(rows)` / `remove(ids)` take live updates. `apply` runs no Python loop over every row but
the free-text scan (see `tui.core.queue.ordering`) and touches only the rows it returns.

The rows and their search strings are copied when the model is sorted afresh so that they lie in
memory in urgency order: picking or scanning them in that order is 3–4x faster than in arrival
order.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Hashable, Iterable, Iterator
from typing import Final, cast

from tui.core.collector import freeze_survivors, paused
from tui.core.queue.filters import NO_FILTER, Filter, search_text
from tui.core.queue.kinds import DUE_WINDOW_S, HANDLING_BIT, KIND_BITS, QueueKind
from tui.core.queue.masks import ALL, Codes, Mask, both, count
from tui.core.queue.ordering import ATTRS, Ordering, Translation, WordMemory
from tui.core.queue.queue_list import QueueList
from tui.core.queue.rows import QueueRow
from tui.core.queue.sorts import RANKS, Sort, overdue_first, row_id, urgency_rank

__all__ = ["QueueModel"]

#: Above this many changed rows (or 2 % of the model), sort afresh instead of bisecting.
_REBUILD_AT: Final = 512


class QueueModel:
    """All rows in memory: by id, and in each sort order that has been asked for.

    `due_window` is how soon a deadline must be to put a request in the `due` queue. Not
    thread-safe: call it from one thread (the UI's). A batch of more than 512 rows (or 2 % of
    the model) is sorted afresh, ~1 s at 100,000 rows: give big syncs to a worker, or expect it.

    The cycle collector is paused while rows are sorted and copied (it would walk a few hundred
    thousand new tuples again and again: ~10 µs a row instead of ~1; they form no cycles). With
    `freeze` (the default), building the rows or a sort order ends with
    `collector.freeze_survivors()`: the rows are long-lived tuples that Python's cycle collector
    cannot untrack (it only untracks exact tuples), and a full collection walking 100,000 of them
    and the lists that hold them pauses the app for ~300 ms every so often. Frozen objects are
    still freed when their last reference goes; only reference cycles among objects alive at that
    moment would outlive it. Pass `freeze=False` if the process manages the collector itself.
    """

    def __init__(
        self, rows: Iterable[QueueRow] = (), *, due_window: float = DUE_WINDOW_S, freeze: bool = True
    ) -> None:
        self.due_window = due_window
        self._freeze = freeze
        self._by_id: dict[str, QueueRow] = {}
        for row in rows:
            self._by_id[row.id] = row
        self._codes = {name: Codes() for name in ATTRS}
        self._orderings: dict[Sort, Ordering] = {}
        self._translations: dict[Sort, Translation] = {}
        self._memory = WordMemory()
        self._kind_counts: dict[int, int] = {}
        self._deadlines: list[float] = []  # due_at of every handling row, sorted
        self._rebuild()

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._by_id

    def __iter__(self) -> Iterator[QueueRow]:
        """Every row, in no particular order."""
        return iter(self._by_id.values())

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
            overdue_first(rows, now)
        return rows

    def counts(self, now: float | None = None, filter: Filter = NO_FILTER) -> dict[QueueKind, int]:
        """How many rows every queue holds at `now` (optionally only those passing `filter`)."""
        if now is None:
            now = time.time()
        limit = now + self.due_window
        if filter.is_empty:
            counts = {kind: self._kind_counts.get(bit, 0) for kind, bit in KIND_BITS.items()}
            counts[QueueKind.due] = bisect_right(self._deadlines, limit)
            counts[QueueKind.all] = len(self._by_id)
        else:
            ordering = self._ordering(Sort.urgency)
            n = len(ordering)
            base = self._mask(ordering, Sort.urgency, QueueKind.all, filter, now)
            counts = {kind: count(both(base, ordering.kind_mask(bit)), n) for kind, bit in KIND_BITS.items()}
            due = both(ordering.kind_mask(HANDLING_BIT), ordering.due_mask(limit, sorted_by_deadline=True))
            counts[QueueKind.due] = count(both(base, due), n)
            counts[QueueKind.all] = count(base, n)
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

    def _mask(self, ordering: Ordering, sort: Sort, kind: QueueKind, filter: Filter, now: float) -> Mask:
        mask: Mask = ALL
        if kind is QueueKind.due:
            deadline = ordering.due_mask(now + self.due_window, sorted_by_deadline=sort is Sort.urgency)
            mask = deadline & ordering.kind_mask(HANDLING_BIT)
        elif kind is not QueueKind.all:
            mask = ordering.kind_mask(KIND_BITS[kind])
        for name, wanted in (
            ("category", filter.categories),
            ("community", filter.communities),
            ("tier", filter.tiers),
            ("channel", filter.channels),
        ):
            if wanted:
                mask = both(mask, ordering.attr_mask(name, wanted.__contains__))
        if filter.units:
            units = filter.units

            def shares_a_unit(combination: Hashable) -> bool:
                lead, co_units = cast(tuple[str, tuple[str, ...]], combination)
                return lead in units or not units.isdisjoint(co_units)

            mask = both(mask, ordering.attr_mask("units", shares_a_unit))
        if filter.words:
            mask = both(mask, self._text_mask(ordering, sort, filter.words, mask))
        return mask

    def _text_mask(self, ordering: Ordering, sort: Sort, words: tuple[str, ...], within: Mask) -> Mask:
        """Rows containing every word: searched in the urgency ordering, whose search strings
        were allocated in its order (scanning them in another order is twice as slow)."""
        urgency = self._ordering(Sort.urgency)
        n = len(urgency)
        if sort is not Sort.urgency and within != ALL:
            within = ALL  # the bound is in the other order; search everything
        mask = within
        for word in words:
            found, _exact = urgency.word_mask(word, mask, self._memory)
            mask = both(mask, found)
        if sort is Sort.urgency:
            return mask
        translation = self._translations.get(sort)
        if translation is None or translation.versions != (urgency.version, ordering.version):
            translation = self._translations[sort] = Translation.between(urgency, ordering)
        return translation.apply(mask, n)

    def _ordering(self, sort: Sort) -> Ordering:
        ordering = self._orderings.get(sort)
        if ordering is None:
            with paused():
                urgency = self._orderings[Sort.urgency]
                ordering, positions = Ordering.derive(RANKS[sort], urgency)
                self._orderings[sort] = ordering
                self._translations[sort] = Translation(positions, (urgency.version, ordering.version))
                if self._freeze:
                    freeze_survivors()  # its two 100,000-item lists need no walking either
        return ordering

    def _rebuild(self) -> None:
        """Sort afresh, and allocate rows and search strings in urgency order (see the module)."""
        with paused():
            self._rebuild_now()
            if self._freeze:
                freeze_survivors()

    def _rebuild_now(self) -> None:
        self._orderings.clear()
        self._translations.clear()
        self._memory = WordMemory()  # its masks belong to the old order
        ordered = sorted(self._by_id.values(), key=row_id)
        ordered.sort(key=urgency_rank)
        # Copy each row (an equal tuple) so that the rows, like their search strings, lie in
        # memory in urgency order: picking 24,000 scattered rows costs 8 ms, in order 2 ms.
        ordered = [QueueRow._make(row) for row in ordered]
        self._by_id = {row.id: row for row in ordered}
        self._orderings[Sort.urgency] = Ordering.build(urgency_rank, ordered, self._codes)
        counts: dict[int, int] = {}
        for row in self._by_id.values():
            counts[row.kinds] = counts.get(row.kinds, 0) + 1
        self._kind_counts = {
            bit: sum(n for kinds, n in counts.items() if kinds & bit) for bit in KIND_BITS.values()
        }
        self._deadlines = sorted(r.due_at for r in self._by_id.values() if r.kinds & HANDLING_BIT)

    def _learn(self, row: QueueRow) -> None:
        haystack = search_text(row)
        for ordering in self._orderings.values():
            ordering.add(row, haystack)
        for bit in KIND_BITS.values():
            if row.kinds & bit:
                self._kind_counts[bit] = self._kind_counts.get(bit, 0) + 1
        if row.kinds & HANDLING_BIT:
            insort(self._deadlines, row.due_at)

    def _forget(self, row: QueueRow) -> None:
        for ordering in self._orderings.values():
            ordering.remove(row)
        for bit in KIND_BITS.values():
            if row.kinds & bit:
                self._kind_counts[bit] -= 1
        if row.kinds & HANDLING_BIT:
            index = bisect_left(self._deadlines, row.due_at)
            if index < len(self._deadlines) and self._deadlines[index] == row.due_at:
                del self._deadlines[index]
