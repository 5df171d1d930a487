"""The queue table's cells: the header and each row's text, cell by cell, with the component
class that colours each cell, for the slots `tui.core.queue.layout.plan` chose for the width.

Every cell is untrusted text fitted to its cells by `tui.ui.text.fit` (cleaned when the row was
built); the description is shown from its substance (greetings skipped, `QueueRow.substance`).
`QueueTable` paints what this gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Final, NamedTuple

from rich.cells import cell_len

from api_client.domain.deadlines import DeadlineStatus
from api_client.domain.untrusted_text import one_line
from tui.core.i18n import TableLabels
from tui.core.queue.layout import OUTBOX, VULNERABLE, Column, Slot
from tui.core.queue.rows import QueueRow
from tui.core.table_words import countdown, duration
from tui.ui.text import fit

__all__ = [
    "CHASED_MARK",
    "CONFLICT_MARK",
    "MARKED_MARK",
    "UNSENT_MARK",
    "VULNERABLE_MARK",
    "Cell",
    "Clock",
    "RowFormat",
    "countdown",
    "duration",
    "header_text",
    "row_cells",
    "row_format",
]

VULNERABLE_MARK: Final = "!"
UNSENT_MARK: Final = "*"
CONFLICT_MARK: Final = "⚠"
CHASED_MARK: Final = "»"  # 催办: in the conflict's cell when there is none
MARKED_MARK: Final = "✓"

#: A cell's text and its component class ("" for the table's own style).
Cell = tuple[str, str]


class Clock(NamedTuple):
    """What a row shows that moves with time: its deadline's colour and countdown, and how long
    it has waited for its callback ("" when not waiting)."""

    status: DeadlineStatus
    due: str
    waited: str = ""


STATUS_CLASS: Final = {
    DeadlineStatus.overdue: "queue-table--overdue",
    DeadlineStatus.due_soon: "queue-table--due-soon",
    DeadlineStatus.in_time: "queue-table--in-time",
    DeadlineStatus.none: "queue-table--no-deadline",
}
_RIGHT: Final = frozenset({Column.due, Column.waited})


def header_text(headers: Mapping[str, str], slots: Sequence[Slot], width: int) -> str:
    """The header line, `width` cells."""
    parts: list[str] = []
    for name, cells, gap in slots:
        label = headers.get(name, "") if name != OUTBOX else ""
        if name in _RIGHT:
            text = (
                " " * max(0, cells - cell_len(label)) + label
                if cell_len(label) <= cells
                else fit(label, cells)
            )
        else:
            text = fit(label, cells)
        parts.append(" " * gap + text)
    return fit("".join(parts), width)


#: Appends a row's cell(s) for one slot: (cells, row, clock, marked, labels).
CellMaker = Callable[[list[Cell], QueueRow, Clock, bool, TableLabels], None]


class RowFormat(NamedTuple):
    """A layout made ready to format rows: one cell maker per slot (`row_format`)."""

    slots: tuple[Slot, ...]
    makers: tuple[CellMaker, ...]


def row_format(slots: Sequence[Slot]) -> RowFormat:
    """The cell makers for `slots`, decided once per layout rather than once per cell."""
    return RowFormat(tuple(slots), tuple(_maker(name, width, " " * gap) for name, width, gap in slots))


def row_cells(
    row: QueueRow, clock: Clock, layout: RowFormat, *, marked: bool, labels: TableLabels
) -> list[Cell]:
    """`row`'s cells, left to right, as `layout` lays them out."""
    cells: list[Cell] = []
    for make in layout.makers:
        make(cells, row, clock, marked, labels)
    return cells


def _maker(name: str, width: int, pad: str) -> CellMaker:
    """The cell maker of one slot."""
    if name == Column.id:
        id_width = width - 1

        def make_id(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            if marked:
                cells.append((pad + fit(row.id, id_width) + MARKED_MARK, "queue-table--marked"))
            else:
                cells.append((pad + fit(row.id, id_width) + " ", ""))

        return make_id
    if name == Column.due:

        def make_due(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            cells.append((pad + _right(clock.due, width), STATUS_CLASS[clock.status]))

        return make_due
    if name == Column.waited:

        def make_waited(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            cells.append((pad + _right(clock.waited, width), ""))

        return make_waited
    if name == VULNERABLE:
        shown, blank = (pad + VULNERABLE_MARK, "queue-table--vulnerable"), (pad + " ", "")

        def make_vulnerable(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            cells.append(shown if row.vulnerable else blank)

        return make_vulnerable
    if name == OUTBOX:
        unsent, conflict, chased, blank = (
            (UNSENT_MARK, "queue-table--unsent"),
            (CONFLICT_MARK, "queue-table--conflict"),
            (CHASED_MARK, "queue-table--vulnerable"),  # the warning's colour
            (" ", ""),
        )
        gap = (pad, "")

        def make_outbox(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            if pad:
                cells.append(gap)
            cells.append(unsent if row.unsent else blank)
            cells.append(conflict if row.conflict else chased if row.chases else blank)

        return make_outbox
    if name == Column.text:

        def make_text(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            cells.append((pad + fit(row.substance, width), ""))

        return make_text
    if name == Column.address:

        def make_address(
            cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels
        ) -> None:
            cells.append((pad + fit(row.address, width), ""))

        return make_address
    value = _VALUES[Column(name)]

    def make_name(cells: list[Cell], row: QueueRow, clock: Clock, marked: bool, labels: TableLabels) -> None:
        cells.append((pad + _fit_name(value(row, labels), width), ""))

    return make_name


#: The columns of few distinct values: their text.
_VALUES: Final[dict[Column, Callable[[QueueRow, TableLabels], str]]] = {
    Column.state: lambda row, labels: labels.states.get(row.state, row.state),
    Column.category: lambda row, labels: row.category_name,
    Column.community: lambda row, labels: _short_community(row.community_name),
    Column.unit: lambda row, labels: row.lead_unit_name,
    Column.tier: lambda row, labels: row.tier.value,
}


@lru_cache(maxsize=4096)
def _right(text: str, width: int) -> str:
    """`text` right-aligned in `width` cells (a countdown: `还剩3时` takes 7)."""
    return " " * max(0, width - cell_len(text)) + text


@lru_cache(maxsize=4096)
def _fit_name(text: str, width: int) -> str:
    """`fit` for the few distinct values of a column (state, category, community, unit names)."""
    return fit(one_line(text), width)


def _short_community(name: str) -> str:
    """`德胜里社区` → `德胜里`: the column is headed 社区 already."""
    return name[:-2] if name.endswith("社区") and len(name) > 2 else name
