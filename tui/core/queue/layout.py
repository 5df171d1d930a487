"""The queue table's columns: which show at a width, how wide each is, and the names a dispatcher
chooses them by in the config file (`columns = ["id", "due", "state", "unit", "text"]`).

By width (the cells the table has: a terminal of 80 columns gives it 79 beside its scrollbar)
the default columns are, the text taking the rest:

    width   columns                                          text (at that width)
    < 60    id, due, state                                   29 at 59
    ≥ 60    + category (8)                                   32 at 71
    ≥ 72    + community (8)                                  31 at 79
    ≥ 96    category 10                                      49 at 99
    ≥ 116   + address (16)                                   52 at 119
    ≥ 136   + lead unit (14): who has an overdue request     57 at 139
    ≥ 156   + tier; address 20                               68 at 159

Two marks always show: `!` (vulnerable) after the deadline, `*`/`⚠` (unsent, conflict) before
the text; a chased request (催办) shows `»` where a conflict would, when it has none. The callback
queue shows `waited` (how long since the request was resolved) where the others show `due`.
Columns a dispatcher chose keep their order and show at every width, each as narrow as the width
asks; the text takes what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Final, NamedTuple

from tui.core.table_words import COUNTDOWN_CELLS

__all__ = [
    "DEFAULT_COLUMNS",
    "MARKS",
    "OUTBOX",
    "VULNERABLE",
    "Column",
    "Slot",
    "columns_from_names",
    "plan",
]


class Column(StrEnum):
    """A column a dispatcher can choose (its config name)."""

    id = "id"
    due = "due"  # the handling deadline's countdown
    waited = "waited"  # since the request was resolved (awaiting its callback)
    tier = "tier"
    state = "state"
    unit = "unit"  # the lead unit
    category = "category"
    community = "community"
    address = "address"
    text = "text"  # the description, from its substance (greetings skipped)


#: The two marks that are not columns: `!` after the deadline, `*⚠` before the text.
VULNERABLE: Final = "!"
OUTBOX: Final = "*"
MARKS: Final = frozenset({VULNERABLE, OUTBOX})


class Slot(NamedTuple):
    """One cell of a row: a column's value (or a mark), `width` cells, after `gap` spaces."""

    name: str  # a `Column` value, `VULNERABLE` or `OUTBOX`
    width: int
    gap: int


class _Width(NamedTuple):
    narrow: int
    wide: int = 0  # 0: as narrow
    wide_from: int = 0
    shown_from: int = 0  # by default, from this table width on


_WIDTHS: Final[dict[Column, _Width]] = {
    Column.id: _Width(9),  # 8 for the id, 1 for the bulk mark `✓` (which also parts it from the next)
    Column.due: _Width(COUNTDOWN_CELLS),  # `还剩45分`, `12d over`
    Column.waited: _Width(COUNTDOWN_CELLS),  # `23时59分`
    Column.tier: _Width(4, shown_from=156),  # `24h`, `15d`; its header 时限 takes 4
    Column.state: _Width(6),
    Column.unit: _Width(14, shown_from=136),  # 7 characters tell the demo's 34 units apart
    Column.category: _Width(8, 10, 96, shown_from=60),
    Column.community: _Width(8, shown_from=72),  # 4 characters: 裕中东里 and 裕中西里 differ at the 3rd
    Column.address: _Width(16, 20, 156, shown_from=116),
    Column.text: _Width(0),
}
_MARK_WIDTHS: Final = {VULNERABLE: 1, OUTBOX: 2}

#: The default columns in their order; each shows from its width on (see the module).
DEFAULT_COLUMNS: Final[tuple[Column, ...]] = (
    Column.id,
    Column.due,
    Column.tier,
    Column.state,
    Column.unit,
    Column.category,
    Column.community,
    Column.address,
    Column.text,
)
_DEADLINES: Final = (Column.due, Column.waited)


def columns_from_names(names: Iterable[str]) -> tuple[Column, ...]:
    """Columns from their config names; ValueError saying which name is unknown or repeated."""
    chosen: list[Column] = []
    for name in names:
        key = name.strip().lower()
        if key not in Column.__members__:
            known = ", ".join(Column)
            raise ValueError(f"unknown column {name!r}: the columns are {known}")
        column = Column(key)
        if column in chosen:
            raise ValueError(f"column {name!r} is listed twice")
        chosen.append(column)
    if not chosen:
        raise ValueError(f"name at least one column: {', '.join(Column)}")
    return tuple(chosen)


def plan(width: int, chosen: Sequence[Column] | None = None, *, waiting: bool = False) -> tuple[Slot, ...]:
    """The slots of a row `width` cells wide: the default columns for that width, or `chosen`;
    with `waiting` (the callback queue) `waited` stands where `due` would. The text's slot, if
    any, takes the cells the others leave (at least 0)."""
    if chosen is None:
        columns = [c for c in DEFAULT_COLUMNS if width >= _WIDTHS[c].shown_from]
    else:
        columns = list(chosen)
    if waiting and Column.due in columns and Column.waited not in columns:
        columns[columns.index(Column.due)] = Column.waited
    names: list[str] = []
    for column in columns:
        if column is Column.text:
            names.append(OUTBOX)
        names.append(column)
        if column in _DEADLINES and VULNERABLE not in names:
            names.append(VULNERABLE)
    if VULNERABLE not in names:  # no deadline shown: after the id
        names.insert(names.index(Column.id) + 1 if Column.id in names else 0, VULNERABLE)
    if OUTBOX not in names:
        names.append(OUTBOX)
    slots: list[Slot] = []
    for index, name in enumerate(names):
        gap = 0 if index == 0 or names[index - 1] == Column.id else 1
        slots.append(Slot(name, _width(name, width), gap))
    used = sum(slot.width + slot.gap for slot in slots)
    return tuple(
        slot._replace(width=max(0, width - used)) if slot.name == Column.text else slot for slot in slots
    )


def _width(name: str, table_width: int) -> int:
    if name in _MARK_WIDTHS:
        return _MARK_WIDTHS[name]
    spec = _WIDTHS[Column(name)]
    return spec.wide if spec.wide and table_width >= spec.wide_from else spec.narrow
