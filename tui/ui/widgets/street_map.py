"""`StreetMapView`: the street's communities as a schematic map, each shaded by its open requests.

    近 6 小时仍待办理的诉求（按社区）：共 122 件
          北三环中路   4 裕中东里     3 马甸         1
          ▒▒▒▒▒▒▒▒▒▒▒▒▒▒ ▒▒▒▒▒▒▒▒▒▒▒▒▒▒ ░░░░░░░░░░░░░░
          …
    · 0  ░ 1–2  ▒ 3–5  ▓ 6–10  █ 11+  （数字为件数）

The tiles come from `tui.core.street_map.lay_out`; the counts from the app's rows
(`open_counts`, in a thread), again when rows change (at most every `RECOUNT_EVERY` seconds) and
every `TICK` seconds as the window moves. The shade's character and the count carry the meaning,
colour only repeats it: the map reads the same under `NO_COLOR` and ANSI themes. With `rows` the
map takes at most that many rows and the widget its own height (the dashboard's section);
without, it fills the widget (the storm view).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar, Final, cast

from rich.style import Style
from rich.text import Text
from textual import work
from textual.geometry import Size
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from api_client.domain.untrusted_text import one_line
from api_client.models import Community
from tui.core.i18n import Strings
from tui.core.street_map import RECENT_HOURS, SHADE_FROM, StreetMap, Tile, lay_out, open_counts
from tui.ui.host import Host
from tui.ui.text import fit

__all__ = ["SECTION_ROWS", "SHADES", "StreetMapView"]

#: The character of each level: none, then one per `SHADE_FROM`.
SHADES: Final = ("·", "░", "▒", "▓", "█")
#: Rows changing recounts at most this often (seconds).
RECOUNT_EVERY: Final = 2.0
#: The window of `RECENT_HOURS` moves: recount this often when nothing changes (seconds).
TICK: Final = 60.0
#: The map's rows at most as a section of another screen (the dashboard's).
SECTION_ROWS: Final = 15
#: Lines around the map: the heading, the legend, what has no place on it.
_AROUND: Final = 3


class StreetMapView(Widget):
    DEFAULT_CSS = """
    StreetMapView {
        height: 1fr;
        & > .street-map--level-0 { color: $text-muted; }
        & > .street-map--level-1 { color: $success; }
        & > .street-map--level-2 { color: $warning; }
        & > .street-map--level-3 { color: $error; }
        & > .street-map--level-4 { color: $error; text-style: bold; }
        & > .street-map--heading { text-style: bold; }
        & > .street-map--note { color: $text-muted; }
        &:ansi > .street-map--level-0 { color: ansi_default; text-style: dim; }
        &:ansi > .street-map--level-1 { color: ansi_green; }
        &:ansi > .street-map--level-2 { color: ansi_yellow; }
        &:ansi > .street-map--level-3 { color: ansi_red; }
        &:ansi > .street-map--level-4 { color: ansi_bright_red; text-style: bold; }
        &.-rows { height: auto; margin-bottom: 1; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"street-map--level-{level}" for level in range(len(SHADES))),
        "street-map--heading",
        "street-map--note",
    }

    class Counted(Message):
        def __init__(self, counts: Counter[str], communities: Sequence[Community]) -> None:
            super().__init__()
            self.counts = counts
            self.communities = communities

    def __init__(self, *, rows: int | None = None, id: str | None = None) -> None:
        super().__init__(id=id, classes="-rows" if rows is not None else "")
        #: At most this many rows of map (the widget then takes its own height), or None: fill it.
        self.map_rows = rows
        #: Open requests by community, once counted (None before).
        self.counts: Counter[str] | None = None
        self.communities: Sequence[Community] = ()
        self._strings = Strings()
        self._again: Timer | None = None

    def on_mount(self) -> None:
        host = cast(Host, self.app)
        self._strings = host.strings
        host.rows_signal.subscribe(self, self._rows_changed)
        self.set_interval(TICK, self.recount)
        self.recount()

    def _rows_changed(self, _ids: object) -> None:
        if self._again is None:
            self._again = self.set_timer(RECOUNT_EVERY, self._recount_now)

    def _recount_now(self) -> None:
        self._again = None
        self.recount()

    @work(thread=True, exclusive=True, group="street-map")
    def recount(self) -> None:
        host = cast(Host, self.app)
        counts = open_counts(host.model.rows(), host.clock())
        self.post_message(self.Counted(counts, list(host.communities)))

    def on_street_map_view_counted(self, message: Counted) -> None:
        self.counts = message.counts
        self.communities = message.communities
        self.refresh(layout=self.map_rows is not None)

    # ----- drawing -----------------------------------------------------------------------------

    def street_map(self, width: int, height: int) -> StreetMap:
        rows = self.map_rows if self.map_rows is not None else max(0, height - _AROUND)
        return lay_out(self.communities, self.counts or {}, width, rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.map_rows is None:
            return container.height
        return len(self._lines(width, self.map_rows + _AROUND))

    def render(self) -> Text:
        text = Text("\n", no_wrap=True, overflow="crop", end="").join(
            self._lines(self.size.width, self.size.height)
        )
        return text

    def _lines(self, width: int, height: int) -> list[Text]:
        t = self._strings
        style = self.get_component_rich_style
        if self.counts is None:
            return [Text(t("map.counting"), style=style("street-map--note"))]
        drawn = self.street_map(width, height)
        lines = [
            Text(t("map.heading", hours=RECENT_HOURS, n=drawn.total), style=style("street-map--heading"))
        ]
        if not drawn.tiles:
            lines.append(Text(t("map.no_positions"), style=style("street-map--note")))
        margin = " " * max(0, (width - drawn.width) // 2)
        for y in range(drawn.height):
            line = Text(margin, end="")
            for tile in (tile for tile in drawn.tiles if tile.y <= y < tile.y + tile.height):
                line.append(" " * (tile.x - (line.cell_len - len(margin))))
                self._tile_row(line, tile, y - tile.y)
            lines.append(line)
        lines.append(self._legend())
        others = self._others(drawn)
        if others is not None:
            lines.append(others)
        return lines

    def _tile_row(self, line: Text, tile: Tile, row: int) -> None:
        """Row `row` of `tile`: its name and count, then bars of its shade, then the gap row; a
        column of gap on the right."""
        inner = tile.width - 1
        if row == 0:
            count = str(tile.count)
            line.append(fit(one_line(tile.label), inner - len(count) - 1) + " ", Style(bold=tile.level > 0))
            line.append(count + " ", Style(bold=True) if tile.level else self._style(0))
        elif row < tile.height - 1:
            line.append(SHADES[tile.level] * inner, self._style(tile.level))
            line.append(" ")
        else:
            line.append(" " * tile.width)

    def _style(self, level: int) -> Style:
        return self.get_component_rich_style(f"street-map--level-{level}")

    def _legend(self) -> Text:
        """Each shade with the counts it stands for: `· 0  ░ 1–2  ▒ 3–5  ▓ 6–10  █ 11+`."""
        legend = Text(end="")
        ends = [start - 1 for start in SHADE_FROM[1:]] + [0]
        for level, span in enumerate(["0", *(_span(a, b) for a, b in zip(SHADE_FROM, ends, strict=True))]):
            legend.append("  " if level else "")
            legend.append(f"{SHADES[level]} {span}", self._style(level))
        legend.append(f"  {self._strings('map.legend')}", self.get_component_rich_style("street-map--note"))
        return legend

    def _others(self, drawn: StreetMap) -> Text | None:
        """The communities the map has no place for, and requests of no known community."""
        t = self._strings
        parts = [f"{one_line(tile.label)} {tile.count}" for tile in drawn.unplaced if tile.count]
        if drawn.elsewhere:
            parts.append(t("map.elsewhere", n=drawn.elsewhere))
        if not parts:
            return None
        return Text(
            t("map.others", names=" · ".join(parts)), style=self.get_component_rich_style("street-map--note")
        )


def _span(first: int, last: int) -> str:
    """`3–5`, `6`, or `11+` (no last)."""
    if last < first:
        return f"{first}+"
    return str(first) if last == first else f"{first}–{last}"
