"""The orders a queue can be shown in (`Sort`) and the keys that sort rows by them."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from enum import StrEnum
from typing import Final

from tui.core.queue.kinds import HANDLING_BIT
from tui.core.queue.rows import QueueRow

__all__ = [
    "RANKS",
    "Sort",
    "deadline_group",
    "minute",
    "overdue_first",
    "rank_key",
    "row_id",
    "urgency_key",
    "urgency_rank",
]


class Sort(StrEnum):
    """Orders a queue can be shown in."""

    urgency = "urgency"  # see `urgency_key`
    newest = "newest"  # received most recently first
    oldest = "oldest"  # received longest ago first


def minute(t: float) -> int:
    return int(t // 60)


def urgency_key(row: QueueRow, now: float) -> tuple[bool, bool, int, bool, int, str]:
    """The urgency order: requests whose handling deadline runs before the others (resolved,
    closed, merged); overdue first; then the soonest deadline; among deadlines in the same
    minute (equal as the table shows them) vulnerable callers first; then the oldest request
    (to the second); then the id."""
    handling = bool(row.kinds & HANDLING_BIT)
    return (
        not handling,
        handling and row.due_at >= now,
        minute(row.due_at),
        not row.vulnerable,
        int(row.received_at // 1),
        row.id,
    )


def urgency_rank(row: QueueRow) -> int:
    """`urgency_key` without `now` (its overdue element) and the id, packed in one int: sorting
    ints is ~4x faster than tuples. The order does not depend on `now` except among handling
    rows due in the current minute, which `overdue_first` puts right afterwards."""
    group = 0 if row.kinds & HANDLING_BIT else 1
    deadline = ((group << 32) + minute(row.due_at)) * 2 + (not row.vulnerable)
    return (deadline << 40) + int(row.received_at // 1)


def deadline_group(row: QueueRow) -> tuple[bool, int]:
    """The leading part of the urgency order: (not handling, deadline minute)."""
    return (not row.kinds & HANDLING_BIT, minute(row.due_at))


def _newest_rank(row: QueueRow) -> int:
    return -int(row.received_at // 1)


def _oldest_rank(row: QueueRow) -> int:
    return int(row.received_at // 1)


#: Each order's rank; rows are sorted by (rank, id).
RANKS: Final[dict[Sort, Callable[[QueueRow], int]]] = {
    Sort.urgency: urgency_rank,
    Sort.newest: _newest_rank,
    Sort.oldest: _oldest_rank,
}


def row_id(row: QueueRow) -> str:
    return row.id


def rank_key(rank: Callable[[QueueRow], int], row: QueueRow) -> tuple[int, str]:
    return (rank(row), row.id)


def overdue_first(rows: list[QueueRow], now: float) -> None:
    """Fix rows in urgency order for the one minute that `now` falls in: its overdue rows first."""
    group = (False, minute(now))
    start = bisect_left(rows, group, key=deadline_group)
    end = bisect_right(rows, group, key=deadline_group)
    if end - start < 2:
        return
    block = rows[start:end]
    fixed = [r for r in block if r.due_at < now] + [r for r in block if r.due_at >= now]
    if fixed != block:
        rows[start:end] = fixed
