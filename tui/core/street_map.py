"""The street as a schematic map: each community one tile of a small grid, where its centre puts
it, with its open requests counted and shaded.

Pure (no Textual, no IO). `open_counts(rows, now)` counts the requests a unit still has to act on
(`HANDLING_STATES`: not resolved, closed or merged) received in the last `RECENT_HOURS`, by
community. `lay_out(communities, counts, width, height)` chooses a grid of about `ROOM` slots a
community whose shape is nearest the street's, puts each community with a centre in one slot as
near its place as the others allow (nearest first, then swaps while they bring any tile nearer),
and sizes the tiles to the space: tiles never overlap and a label is cut to its tile, so labels
never overlap either. Communities without a centre (a server older than maps) are listed apart.

    德胜里     7 新康       1    a tile: the short name and the count on its first row, then
    ▓▓▓▓▓▓▓▓▓▓▓▓ ░░░░░░░░░░░░    bars of its shade (`level`); a gap row and column
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from api_client.domain.states import HANDLING_STATES
from api_client.models import Community, State

__all__ = [
    "RECENT_HOURS",
    "SHADE_FROM",
    "StreetMap",
    "Tile",
    "lay_out",
    "level_of",
    "open_counts",
    "short_name",
]

#: Requests received this many hours back at most are counted (a storm's hours).
RECENT_HOURS: Final = 6
#: The count at which each shade begins (levels 1, 2, 3, 4); no open request is level 0.
SHADE_FROM: Final = (1, 3, 6, 11)
#: The smallest tile, gap included: a short name of five CJK characters, a count of two digits
#: and a column between tiles; a name row, a bar row and a row between tiles.
TILE_WIDTH: Final = 14
TILE_HEIGHT: Final = 3
#: The largest tile, when the space allows.
MAX_TILE_WIDTH: Final = 20
MAX_TILE_HEIGHT: Final = 5
#: Slots per community the grid aims at: room for each to stay near its place.
ROOM: Final = 1.6
#: A terminal cell is about twice as tall as it is wide.
CELL_ASPECT: Final = 2.0
#: Passes of swaps that bring tiles nearer their places (each pass tries every community in
#: every slot; in practice two or three suffice).
SWAP_PASSES: Final = 8
#: Words a community's name ends with that the map leaves out.
_SUFFIXES: Final = ("社区居委会", "社区", " Community", " community")


class RowLike(Protocol):
    """What `open_counts` reads of a request (`tui.core.queue.rows.QueueRow` has it)."""

    @property
    def state(self) -> State: ...
    @property
    def community(self) -> str: ...
    @property
    def received_at(self) -> float: ...


def open_counts(rows: Iterable[RowLike], now: float, hours: float = RECENT_HOURS) -> Counter[str]:
    """Requests still to be handled, received in the `hours` before `now` (epoch seconds), by
    community id."""
    since = now - hours * 3600
    return Counter(row.community for row in rows if row.received_at >= since and row.state in HANDLING_STATES)


def level_of(count: int) -> int:
    """The shade of a count: 0 for none, then 1..len(SHADE_FROM) (`SHADE_FROM`)."""
    return sum(1 for start in SHADE_FROM if count >= start)


def short_name(name: str) -> str:
    """A community's name as the map labels it: without 社区 (德胜里社区 → 德胜里)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Tile:
    """One community on the map. `column`, `row`: its slot; `x`, `y`, `width`, `height`: the cells
    it covers (its gap column and row included), from the map's top left."""

    id: str
    label: str
    count: int
    level: int
    column: int
    row: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StreetMap:
    """The tiles of a `columns` × `rows` grid, `width` × `height` cells; `unplaced` the communities
    with no centre (or no room), `elsewhere` the requests counted under no known community."""

    columns: int
    rows: int
    width: int
    height: int
    tiles: tuple[Tile, ...]
    unplaced: tuple[Tile, ...]
    elsewhere: int

    @property
    def total(self) -> int:
        return sum(t.count for t in self.tiles) + sum(t.count for t in self.unplaced) + self.elsewhere


def lay_out(
    communities: Sequence[Community],
    counts: Mapping[str, int],
    width: int,
    height: int,
) -> StreetMap:
    """The map of `communities` in at most `width` × `height` cells (see the module)."""
    placed = [c for c in communities if c.centre is not None]
    known = {c.id for c in communities}
    elsewhere = sum(n for community, n in counts.items() if community not in known)
    grid = _grid(len(placed), _aspect(placed), width // TILE_WIDTH, height // TILE_HEIGHT)
    if grid is None:
        tiles: tuple[Tile, ...] = ()
        columns = rows = tile_width = tile_height = 0
        unplaced = list(communities)
    else:
        columns, rows = grid
        tile_width = min(MAX_TILE_WIDTH, width // columns)
        tile_height = min(MAX_TILE_HEIGHT, height // rows)
        slots = _assign(_targets(placed, columns, rows), columns, rows)
        tiles = tuple(
            _tile(c, counts, col, row, tile_width, tile_height)
            for c, (col, row) in sorted(zip(placed, slots, strict=True), key=lambda p: (p[1][1], p[1][0]))
        )
        unplaced = [c for c in communities if c.centre is None]
    return StreetMap(
        columns=columns,
        rows=rows,
        width=columns * tile_width,
        height=rows * tile_height,
        tiles=tiles,
        unplaced=tuple(_tile(c, counts, -1, -1, 0, 0) for c in unplaced),
        elsewhere=elsewhere,
    )


def _tile(c: Community, counts: Mapping[str, int], col: int, row: int, width: int, height: int) -> Tile:
    count = counts.get(c.id, 0)
    return Tile(
        id=c.id,
        label=short_name(c.name),
        count=count,
        level=level_of(count),
        column=col,
        row=row,
        x=max(col, 0) * width,
        y=max(row, 0) * height,
        width=width,
        height=height,
    )


def _projected(communities: Sequence[Community]) -> list[tuple[float, float]]:
    """East and south of the most north-western point, in one unit (degrees of latitude)."""
    centres = [c.centre for c in communities if c.centre is not None]
    if not centres:
        return []
    mid = math.radians(sum(lat for lat, _ in centres) / len(centres))
    west = min(long for _, long in centres)
    north = max(lat for lat, _ in centres)
    return [((long - west) * math.cos(mid), north - lat) for lat, long in centres]


def _aspect(communities: Sequence[Community]) -> float:
    """The street's width over its height (1 for a single point or a line)."""
    points = _projected(communities)
    if not points:
        return 1.0
    across = max(x for x, _ in points)
    down = max(y for _, y in points)
    if across <= 0 or down <= 0:
        return 1.0
    return across / down


def _grid(count: int, aspect: float, most_columns: int, most_rows: int) -> tuple[int, int] | None:
    """The grid for `count` communities: at least one slot each, about `ROOM` each, its shape
    (tiles of the smallest size) near the street's; None when there is no community or no room."""
    if count == 0:
        return None
    best: tuple[float, int, int] | None = None
    for columns in range(1, most_columns + 1):
        for rows in range(1, most_rows + 1):
            if columns * rows < count:
                continue
            shape = (columns * TILE_WIDTH) / (rows * TILE_HEIGHT * CELL_ASPECT)
            cost = abs(math.log(columns * rows / (ROOM * count))) + 0.5 * abs(math.log(shape / aspect))
            if best is None or cost < best[0]:
                best = (cost, columns, rows)
    return None if best is None else (best[1], best[2])


def _targets(communities: Sequence[Community], columns: int, rows: int) -> list[tuple[float, float]]:
    """Where each community would be on the grid if slots were continuous (column, row); all on
    one meridian (or one parallel) are put in the middle across (or down)."""
    points = _projected(communities)
    across = max((x for x, _ in points), default=0.0)
    down = max((y for _, y in points), default=0.0)
    return [
        (
            (columns - 1) * (x / across if across > 0 else 0.5),
            (rows - 1) * (y / down if down > 0 else 0.5),
        )
        for x, y in points
    ]


def _assign(targets: Sequence[tuple[float, float]], columns: int, rows: int) -> list[tuple[int, int]]:
    """A distinct slot for each target: nearest pairs first, then moves and swaps that bring a
    tile nearer its place while they make the total squared distance smaller (ties broken by
    position, so the answer is stable)."""
    slots = [(col, row) for row in range(rows) for col in range(columns)]

    def cost(i: int, slot: tuple[int, int]) -> float:
        tx, ty = targets[i]
        return (slot[0] - tx) ** 2 + (slot[1] - ty) ** 2

    def by_cost(i: int) -> list[tuple[int, int]]:
        return sorted(slots, key=lambda s: (cost(i, s), s[1], s[0]))

    nearest = [by_cost(i) for i in range(len(targets))]
    pairs = sorted((cost(i, s), i, s[1], s[0]) for i, near in enumerate(nearest) for s in near)
    chosen: dict[int, tuple[int, int]] = {}
    taken: dict[tuple[int, int], int] = {}
    for _, i, row, col in pairs:
        if i in chosen or (col, row) in taken:
            continue
        chosen[i] = (col, row)
        taken[(col, row)] = i
    for _ in range(SWAP_PASSES):
        better = False
        for i, near in enumerate(nearest):
            for slot in near:  # only slots nearer for i: a swap good for the other is its own turn
                here = chosen[i]
                if cost(i, slot) >= cost(i, here):
                    break
                other = taken.get(slot)
                before = cost(i, here) + (cost(other, slot) if other is not None else 0.0)
                after = cost(i, slot) + (cost(other, here) if other is not None else 0.0)
                if after < before - 1e-9:
                    chosen[i], taken[slot] = slot, i
                    if other is None:
                        del taken[here]
                    else:
                        chosen[other], taken[here] = here, other
                    better = True
        if not better:
            break
    return [chosen[i] for i in range(len(targets))]
