"""`QueueTable`: a queue of requests as a table that paints only the rows on screen.

A Line API widget (`ScrollView` + `render_line`, the approach of Textualize/toolong): the
virtual height is the number of rows plus the header, and each screen line is formatted on
demand from the list of `QueueRow`s, so 100,000 rows cost no more to show than 50. Textual's
`DataTable` measures every cell of every row before its first paint (seconds at that size).

- Which columns show at the table's width is `tui.core.queue.layout`'s (or the dispatcher's
  choice, `columns`); what each cell holds is `queue_columns`'. The header line stays put while
  the rows scroll. `set_waiting(True)` (the callback queue) shows how long each request has
  waited for its callback where the deadline would be.
- Every cell is untrusted text, fitted to its cells, painted as plain segments: never parsed as
  markup, no links.
- Colours come from component classes (`queue-table--overdue`, `--due-soon`, `--in-time`,
  `--cursor`, …), so themes, 16-colour terminals and `NO_COLOR` (the cursor row is then
  reversed) all work; the countdown's words (`超时`, `over`) tell overdue without colour.
- Rows marked for a bulk action (`set_marked`) show `✓` after the id.
- Keys: `j`/`k`/up/down, pageup/pagedown, home/end and `g`/`G`, enter (posts `Selected`).
  Every cursor move posts `Highlighted`.
- A cursor move within the page repaints only the two rows involved (< 1 KB over SSH at
  160x50); strips of rows off the cursor are cached per row and width.
- `set_rows` takes a new list (a live update, a new filter): the cursor stays on the same
  request, on the same screen line, when the request is still listed; otherwise it keeps its
  index, clamped.
- The countdowns are computed against a `clock` read once per `refresh_every` seconds (60), so
  every row on screen agrees and an idle table repaints once a minute.
- `set_rows` and `set_now` repaint only when what the screen shows changed (the rows on it, their
  countdowns and colours, the cursor): while requests stream in below the page, nothing is
  repainted, nothing is sent to the terminal, and no line is rendered again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import ClassVar, Final

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from api_client.domain.deadlines import DeadlineStatus, deadline_status
from tui.core.i18n import EN, ZH, TableLabels
from tui.core.queue.kinds import DUE_WINDOW_S
from tui.core.queue.layout import Column, Slot, plan
from tui.core.queue.queue_list import QueueList
from tui.core.queue.rows import QueueRow
from tui.ui.text import fit
from tui.ui.widgets.queue_columns import (
    Clock,
    RowFormat,
    countdown,
    duration,
    header_text,
    row_cells,
    row_format,
)

__all__ = ["EN", "ZH", "QueueTable", "TableLabels", "countdown"]


_ID: Final = attrgetter("id")


class QueueTable(ScrollView, can_focus=True, inherit_bindings=False):
    """A queue of requests, one line each, with a keyboard cursor. See the module docstring."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="queue_table.cursor_down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="queue_table.cursor_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="queue_table.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="queue_table.page_up"),
        Binding("home,g", "first", "First", show=False, id="queue_table.first"),
        Binding("end,G", "last", "Last", show=False, id="queue_table.last"),
        Binding("enter", "select", "Open", id="queue_table.select"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-table--header",
        "queue-table--cursor",
        "queue-table--overdue",
        "queue-table--due-soon",
        "queue-table--in-time",
        "queue-table--no-deadline",
        "queue-table--vulnerable",
        "queue-table--unsent",
        "queue-table--conflict",
        "queue-table--empty",
        "queue-table--marked",
    }

    DEFAULT_CSS = """
    QueueTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        height: 1fr;
        & > .queue-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        &:ansi > .queue-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .queue-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .queue-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .queue-table--overdue {
            color: $text-error;
            text-style: bold;
        }
        & > .queue-table--due-soon {
            color: $text-warning;
        }
        & > .queue-table--in-time {
            color: $text-success;
        }
        & > .queue-table--no-deadline {
            color: $text-muted;
        }
        & > .queue-table--vulnerable {
            color: $text-warning;
            text-style: bold;
        }
        & > .queue-table--unsent {
            color: $text-accent;
            text-style: bold;
        }
        & > .queue-table--conflict {
            color: $text-error;
            text-style: bold;
        }
        & > .queue-table--marked {
            color: $text-accent;
            text-style: bold;
        }
        & > .queue-table--empty {
            color: $text-muted;
            text-style: italic;
        }
    }
    """

    class Highlighted(Message):
        """The cursor is on another request (`request_id` None: the queue is empty)."""

        def __init__(self, queue_table: QueueTable, request_id: str | None) -> None:
            super().__init__()
            self.queue_table = queue_table
            self.request_id = request_id

        @property
        def control(self) -> QueueTable:
            return self.queue_table

    class Selected(Message):
        """The dispatcher chose a request (enter, or a click on the cursor row)."""

        def __init__(self, queue_table: QueueTable, request_id: str) -> None:
            super().__init__()
            self.queue_table = queue_table
            self.request_id = request_id

        @property
        def control(self) -> QueueTable:
            return self.queue_table

    def __init__(
        self,
        rows: Sequence[QueueRow] = (),
        *,
        clock: Callable[[], float] = time.time,
        refresh_every: float = 60.0,
        due_window: float = DUE_WINDOW_S,
        labels: TableLabels = ZH,
        columns: Sequence[Column] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.set_reactive(QueueTable.auto_links, False)
        self._clock = clock
        self._refresh_every = refresh_every
        self._due_window = due_window
        self._labels = labels
        self._columns = tuple(columns) if columns is not None else None
        self._waiting = False
        self._empty: str | None = None
        #: The layout, for the width it was made for.
        self._format: tuple[int, RowFormat] = (-1, row_format(()))
        self._row_width = 0  # the cells a row of that layout takes
        self._shows_waited = False
        self._now = clock()
        self._rows: Sequence[QueueRow] = ()
        self._cursor = 0
        self._painted_lines: LRUCache[tuple[int, int], tuple[QueueRow, Clock, Strip]] = LRUCache(128)
        self._shown: tuple[object, ...] | None = None  # what the last repaint put on screen
        self._header: tuple[int, Strip] | None = None
        self._highlighted: str | None = None
        self._styles: dict[str, Style] = {}
        self._width = 0
        self._marked: frozenset[str] = frozenset()
        self.set_rows(rows)

    # ------------------------------------------------------------------ public API

    @property
    def rows(self) -> Sequence[QueueRow]:
        """The rows shown, in order (do not mutate)."""
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        """The cursor's index in `rows` (0 when empty)."""
        return self._cursor

    @property
    def cursor_id(self) -> str | None:
        """The id of the request under the cursor, or None when the queue is empty."""
        return self._rows[self._cursor].id if self._rows else None

    @property
    def now(self) -> float:
        """The time the countdowns are shown for (the clock, read at the last tick)."""
        return self._now

    @property
    def slots(self) -> tuple[Slot, ...]:
        """The columns (and marks) shown at the table's current width."""
        return self._layout(self.scrollable_content_region.width if self.is_mounted else 80).slots

    def set_waiting(self, waiting: bool) -> None:
        """Show how long each request has waited for its callback where the deadline would be
        (the callback queue), or the deadline again."""
        if waiting != self._waiting:
            self._waiting = waiting
            self._format = (-1, row_format(()))
            self._forget_painted()
            self.refresh()

    def set_empty_text(self, text: str | None) -> None:
        """What the table says while no row is shown (None: that no request matches)."""
        if text != self._empty:
            self._empty = text
            if not self._rows:
                self.refresh()

    def set_rows(self, rows: Sequence[QueueRow]) -> bool:
        """Show `rows` (the table keeps the sequence: do not mutate it afterwards). Returns
        whether the table repaints: False when the rows on screen stay as they are.

        The cursor stays on the request it was on, at the same screen line, if that request is
        still in `rows`; otherwise it keeps its index (clamped to the new length).
        """
        old_rows, old_cursor = self._rows, self._cursor
        old_row = old_rows[old_cursor] if old_rows else None
        old_id = old_row.id if old_row is not None else None
        self._rows = rows
        index = -1 if old_row is None else _find(rows, old_row, old_cursor)
        if index < 0:
            index = min(old_cursor, max(0, len(rows) - 1))
        self._cursor = index
        self._set_virtual_height(len(rows) + 1)
        if self.is_mounted:
            scroll_y = int(self.scroll_offset.y)
            if old_id is not None and index < len(rows) and rows[index].id == old_id:
                scroll_y += index - old_cursor  # the row keeps its screen line
            self._scroll_into_view(scroll_y)
        repaints = self._repaint_if_changed()
        self._announce()
        return repaints

    def _on_screen(self) -> tuple[object, ...]:
        """What the rows on screen show: each row, its countdown and colour, and the cursor."""
        top = int(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        self._layout(width)  # which clocks a row shows
        page = self._rows[top : top + self._page_height()]
        shown = [(row, self._clock_of(row)) for row in page]
        return (top, self._cursor, width, self._waiting, shown)

    def _repaint_if_changed(self) -> bool:
        """Repaint the rows if what they show differs from the last repaint."""
        shown = self._on_screen() if self.is_mounted else None
        if shown is None or shown != self._shown:
            self._shown = shown
            self.refresh()
            return True
        return False

    def _clock_of(self, row: QueueRow) -> Clock:
        now = self._now
        status = deadline_status(row.state, row.due_at, now, self._due_window)
        due = countdown(row.due_at - now, self._labels) if status is not DeadlineStatus.none else ""
        if self._shows_waited and row.resolved_at:
            return Clock(status, due, duration(max(0.0, now - row.resolved_at), self._labels))
        return Clock(status, due)

    def _layout(self, width: int) -> RowFormat:
        """The layout for `width` (kept until the width or the columns change)."""
        if self._format[0] != width:
            slots = plan(width, self._columns, waiting=self._waiting)
            self._format = (width, row_format(slots))
            self._row_width = sum(slot.width + slot.gap for slot in slots)
            self._shows_waited = any(slot.name == Column.waited for slot in slots)
        return self._format[1]

    def _set_virtual_height(self, height: int) -> None:
        """Set the virtual size without a layout pass when the scrollbar stays as it is.

        Assigning `virtual_size` asks the whole screen for a layout, which costs a second frame
        (~17 ms) before the new rows show. The table's outer size never depends on its rows, so
        only the scrollbar needs telling, unless it appears or disappears.
        """
        size = Size(0, height)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size:
            self.virtual_size = size
            return
        showing, shows = self.show_vertical_scrollbar, self._shows_scrollbar(height)
        self.set_reactive(QueueTable.virtual_size, size)
        if shows:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = height
            bar.window_size = self.container_size.height - self.scrollbar_size_horizontal
        if shows != showing:  # at once, as Textual scrolls only what shows a scrollbar; a layout
            self.show_vertical_scrollbar = shows
            self.vertical_scrollbar.display = shows
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _shows_scrollbar(self, height: int) -> bool:
        """Whether the vertical scrollbar shows for a virtual height of `height`."""
        overflow = self.styles.overflow_y
        return overflow == "scroll" or (overflow == "auto" and height > self.container_size.height)

    def set_marked(self, ids: Iterable[str]) -> None:
        """Mark these requests (and unmark all others); repaints only what is on screen."""
        marked = frozenset(ids)
        if marked != self._marked:
            self._marked = marked
            self._forget_painted()
            self.refresh()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on row `index` (clamped), scrolling as little as needed."""
        self._move(index, int(self.scroll_offset.y))

    def set_now(self, now: float | None = None) -> None:
        """Recompute the countdowns for `now` (default: the clock) and repaint the rows."""
        self._now = self._clock() if now is None else now
        self._repaint_if_changed()  # cached strips are checked against their countdown

    # ------------------------------------------------------------------ actions

    def action_cursor_down(self) -> None:
        self._move(self._cursor + 1, int(self.scroll_offset.y))

    def action_cursor_up(self) -> None:
        self._move(self._cursor - 1, int(self.scroll_offset.y))

    def action_page_down(self) -> None:
        page = self._page_height()
        self._move(self._cursor + page, int(self.scroll_offset.y) + page)

    def action_page_up(self) -> None:
        page = self._page_height()
        self._move(self._cursor - page, int(self.scroll_offset.y) - page)

    def action_first(self) -> None:
        self._move(0, 0)

    def action_last(self) -> None:
        self._move(len(self._rows) - 1, len(self._rows))

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self._rows[self._cursor].id))

    # ------------------------------------------------------------------ events

    def on_mount(self) -> None:
        if self._refresh_every > 0:
            self.set_interval(self._refresh_every, self.set_now, name="queue-table-clock")

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_into_view(int(self.scroll_offset.y))

    def on_focus(self, event: events.Focus) -> None:
        self._styles.pop("queue-table--cursor", None)
        self._refresh_row(self._cursor)

    def on_blur(self, event: events.Blur) -> None:
        self._styles.pop("queue-table--cursor", None)
        self._refresh_row(self._cursor)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if index >= len(self._rows):
            return
        if index == self._cursor:
            self.action_select()
        else:
            self.move_cursor(index)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_styles()

    def _forget_styles(self) -> None:
        self._styles.clear()
        self._forget_painted()

    def _forget_painted(self) -> None:
        self._painted_lines.clear()
        self._shown = None
        self._header = None

    def _style(self, name: str) -> Style:
        """A component's Rich style ("" for the widget's own), kept until styles change:
        Textual recomputes them on every refresh, which is most of a row's cost."""
        style = self._styles.get(name)
        if style is None:
            if not name:
                style = self.rich_style
            elif name == "queue-table--cursor":
                style = self.get_component_rich_style(name)
                if self.app.no_color:
                    style += Style(reverse=True)
            else:
                style = self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    # ------------------------------------------------------------------ rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._width = self.scrollable_content_region.width  # once per pass, not per line
        self._layout(self._width)
        # Every line on screen shows the current state once this pass is done: the lines not
        # painted again did not change (see `_repaint_if_changed`).
        self._shown = self._on_screen()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._width
        if y == 0:
            return self._header_strip(width)
        index = int(self.scroll_offset.y) + y - 1
        rows = self._rows
        if index >= len(rows):
            if index == 0:
                style = self._style("queue-table--empty")
                return Strip([Segment(fit(self._empty or self._labels.empty, width), style)], width)
            return Strip.blank(width, self._style(""))
        row = rows[index]
        if index == self._cursor:
            return self._render_row(row, width, cursor=True)
        key = (id(row), width)
        if row.id in self._marked:
            return self._render_row(row, width, cursor=False)
        clock = self._clock_of(row)
        cached = self._painted_lines.get(key)
        if cached is not None and cached[0] is row and cached[1] == clock:
            return cached[2]
        strip = self._render_row(row, width, cursor=False)
        self._painted_lines[key] = (row, clock, strip)
        return strip

    def _header_strip(self, width: int) -> Strip:
        if self._header is not None and self._header[0] == width:
            return self._header[1]
        style = self._style("queue-table--header")
        text = header_text(self._labels.headers, self._layout(width).slots, width)
        strip = Strip([Segment(text, style)], width)
        self._header = (width, strip)
        return strip

    def _render_row(self, row: QueueRow, width: int, *, cursor: bool) -> Strip:
        style = self._style
        base = style("")
        cells = row_cells(
            row, self._clock_of(row), self._layout(width), marked=row.id in self._marked, labels=self._labels
        )
        if cursor:
            segments = [Segment("".join(text for text, _ in cells), style("queue-table--cursor"))]
        else:
            # Neighbours in the same style make one segment: fewer segments, less work downstream.
            segments = []
            run: list[str] = []
            run_class = cells[0][1]
            for text, name in cells:
                if name != run_class:
                    segments.append(Segment("".join(run), style(run_class) if run_class else base))
                    run, run_class = [], name
                run.append(text)
            segments.append(Segment("".join(run), style(run_class) if run_class else base))
        strip = Strip(segments, self._row_width)
        if strip.cell_length != width:
            strip = strip.crop_extend(0, width, base)
        return strip

    # ------------------------------------------------------------------ cursor and scrolling

    def _page_height(self) -> int:
        """Rows visible below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _move(self, index: int, scroll_y: int) -> None:
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        old = self._cursor
        self._cursor = index
        if not self._scroll_into_view(scroll_y) and index != old:
            self._refresh_row(old)
            self._refresh_row(index)
        self._announce()

    def _scroll_into_view(self, scroll_y: int) -> bool:
        """Scroll to `scroll_y`, moved as little as needed to show the cursor. True if it scrolled."""
        page = self._page_height()
        top = max(0, min(scroll_y, len(self._rows) + 1 - page - 1))
        if self._cursor < top:
            top = self._cursor
        elif self._cursor >= top + page:
            top = self._cursor - page + 1
        if top == int(self.scroll_offset.y):
            return False
        self.scroll_to(y=top, animate=False)
        return True

    def _refresh_row(self, index: int) -> None:
        """Repaint one row's line, if it is on screen (and nothing else)."""
        line = index - int(self.scroll_offset.y) + 1
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.scrollable_content_region.width, 1))

    def _announce(self) -> None:
        current = self.cursor_id
        if current != self._highlighted:
            self._highlighted = current
            self.post_message(self.Highlighted(self, current))


def _find(rows: Sequence[QueueRow], row: QueueRow, near: int) -> int:
    """The index of `row`'s request in `rows`, or -1: near `near` first (a live update moves
    rows little), then by bisection in a `QueueList`, else by comparing every id."""
    request_id = row.id
    for index in range(max(0, near - 32), min(len(rows), near + 33)):
        if rows[index].id == request_id:
            return index
    if isinstance(rows, QueueList):
        return rows.position(row)
    try:
        return list(map(_ID, rows)).index(request_id)
    except ValueError:
        return -1
