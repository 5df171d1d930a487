"""The queue table's columns: their widths and marks, the deadline countdown, and the text of the
header and of each row cell by cell, with the component class that colours each cell.

Fixed columns sized for an 80-column terminal: id, deadline countdown (`-1h20m`, `3h05m`, `2d03h`),
tier, vulnerable `!`, state, category, community, marks (`*` actions not yet sent, `⚠` conflict)
and the description, which takes the rest of the width. Every cell is untrusted text fitted to its
cells by `tui.ui.text.fit` (cleaned when the row was built). `QueueTable` paints what this gives.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from rich.cells import cell_len

from api_client.domain.deadlines import DeadlineStatus
from api_client.domain.untrusted_text import one_line
from tui.core.i18n import TableLabels
from tui.core.queue.rows import QueueRow
from tui.ui.text import fit

__all__ = [
    "CONFLICT_MARK",
    "FIXED_WIDTH",
    "MARKED_MARK",
    "UNSENT_MARK",
    "VULNERABLE_MARK",
    "Cell",
    "Deadline",
    "countdown",
    "header_text",
    "row_cells",
]

# Column widths in cells; one space between columns; the description takes what is left.
ID_WIDTH: Final = 8
DUE_WIDTH: Final = 7
TIER_WIDTH: Final = 4
STATE_WIDTH: Final = 6
CATEGORY_WIDTH: Final = 10
COMMUNITY_WIDTH: Final = 8
#: Cells before the description: columns, marks and separators.
FIXED_WIDTH: Final = (
    ID_WIDTH + DUE_WIDTH + TIER_WIDTH + 1 + STATE_WIDTH + CATEGORY_WIDTH + COMMUNITY_WIDTH + 2 + 8
)

VULNERABLE_MARK: Final = "!"
UNSENT_MARK: Final = "*"
CONFLICT_MARK: Final = "⚠"
MARKED_MARK: Final = "✓"

#: A row's deadline as shown: its colour and its countdown.
Deadline = tuple[DeadlineStatus, str]
#: A cell's text and its component class ("" for the table's own style).
Cell = tuple[str, str]

STATUS_CLASS: Final = {
    DeadlineStatus.overdue: "queue-table--overdue",
    DeadlineStatus.due_soon: "queue-table--due-soon",
    DeadlineStatus.in_time: "queue-table--in-time",
    DeadlineStatus.none: "queue-table--no-deadline",
}


def countdown(remaining: float) -> str:
    """A deadline as the table shows it: `45m`, `3h05m`, `2d03h`, `12d`; overdue with a minus
    (`-1h20m`), counting any part of a minute past the deadline as a whole one. At most 7 cells."""
    overdue = remaining < 0
    minutes = int(-remaining // 60 + (1 if -remaining % 60 else 0)) if overdue else int(remaining // 60)
    sign = "-" if overdue else ""
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minute = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours}h{minute:02d}m"
    days, hour = divmod(hours, 24)
    if days < 10:
        return f"{sign}{days}d{hour:02d}h"
    return f"{sign}{days}d"


def header_text(headers: tuple[str, ...], width: int) -> str:
    """The header line, `width` cells."""
    h = headers
    text = " ".join(
        (
            fit(h[0], ID_WIDTH),
            h[1].rjust(DUE_WIDTH - cell_len(h[1]) + len(h[1])),
            fit(h[2], TIER_WIDTH),
            fit(h[3], 1),
            fit(h[4], STATE_WIDTH),
            fit(h[5], CATEGORY_WIDTH),
            fit(h[6], COMMUNITY_WIDTH),
            fit(h[7], 2),
            fit(h[8], max(0, width - FIXED_WIDTH)),
        )
    )
    return fit(text, width)


def row_cells(
    row: QueueRow, deadline: Deadline, width: int, *, marked: bool, labels: TableLabels
) -> list[Cell]:
    """`row`'s cells, left to right, `max(width, FIXED_WIDTH)` cells in all."""
    status, due = deadline
    description_width = max(0, width - FIXED_WIDTH)
    return [
        (fit(row.id, ID_WIDTH) + MARKED_MARK, "queue-table--marked")
        if marked
        else (fit(row.id, ID_WIDTH) + " ", ""),
        (due.rjust(DUE_WIDTH), STATUS_CLASS[status]),
        (" " + fit(row.tier, TIER_WIDTH) + " ", ""),
        (VULNERABLE_MARK, "queue-table--vulnerable") if row.vulnerable else (" ", ""),
        (
            f" {_fit_name(labels.states.get(row.state, row.state), STATE_WIDTH)}"
            f" {_fit_name(row.category_name, CATEGORY_WIDTH)}"
            f" {_fit_name(_short_community(row.community_name), COMMUNITY_WIDTH)} ",
            "",
        ),
        (UNSENT_MARK, "queue-table--unsent") if row.unsent else (" ", ""),
        (CONFLICT_MARK, "queue-table--conflict") if row.conflict else (" ", ""),
        (" " + fit(row.description, description_width), ""),
    ]


@lru_cache(maxsize=4096)
def _fit_name(text: str, width: int) -> str:
    """`fit` for the few distinct values of a column (state, category, community names)."""
    return fit(one_line(text), width)


def _short_community(name: str) -> str:
    """`德胜里社区` → `德胜里`: the column is headed 社区 already."""
    return name[:-2] if name.endswith("社区") and len(name) > 2 else name
