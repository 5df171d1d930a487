"""tui.ui.widgets.queue_table: the queue as a Line API table, driven with Pilot."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.strip import Strip

from api_client.models import State, Tier
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names, QueueRow, make_row
from tui.core.table_words import COUNTDOWN_CELLS, EN, ZH, countdown, duration
from tui.ui.widgets import queue_table
from tui.ui.widgets.queue_columns import row_cells
from tui.ui.widgets.queue_table import QueueTable

NOW = 1_767_225_600.0
HOUR = 3600.0
NAMES = Names(categories={"roof_leak": "房屋漏雨"}, communities={"c01": "德胜里社区"})


def rows(count: int, start: int = 0) -> list[QueueRow]:
    """`count` new requests in urgency order: due in 23 h, each a minute after the previous one."""
    return [
        make_row(
            id=f"R-{n:06d}",
            state=State.new,
            category="roof_leak",
            community="c01",
            tier=Tier.h24,
            due_at=NOW + 23 * HOUR + 60 * n,
            received_at=NOW - HOUR,
            description=f"第{n}号诉求：顶楼漏雨，墙面渗水",
            names=NAMES,
        )
        for n in range(start, start + count)
    ]


class CountingTable(QueueTable):
    """Counts the lines it is asked to paint."""

    painted = 0

    def render_line(self, y: int) -> Strip:
        CountingTable.painted += 1
        return super().render_line(y)


class TableApp(App[None]):
    def __init__(self, shown: Sequence[QueueRow], **options: Any) -> None:
        super().__init__()
        self.shown = shown
        self.options = options
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield CountingTable(self.shown, clock=lambda: NOW, **self.options)

    def on_queue_table_highlighted(self, message: QueueTable.Highlighted) -> None:
        self.messages.append(message)

    def on_queue_table_selected(self, message: QueueTable.Selected) -> None:
        self.messages.append(message)


@asynccontextmanager
async def counting(shown: Sequence[QueueRow]) -> AsyncIterator[tuple[CountingTable, Pilot[None]]]:
    """A `CountingTable` of `shown` at 80x24, painted once, its count reset."""
    CountingTable.painted = 0
    app = TableApp(shown)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        yield app.query_one(CountingTable), pilot


def highlighted(app: TableApp) -> list[str | None]:
    return [m.request_id for m in app.messages if isinstance(m, QueueTable.Highlighted)]


def selected(app: TableApp) -> list[str]:
    return [m.request_id for m in app.messages if isinstance(m, QueueTable.Selected)]


def unsafe(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in text)


# --------------------------------------------------------------------------- countdown


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (0, "还剩0分", "0m left"),
        (59, "还剩0分", "0m left"),
        (45 * 60, "还剩45分", "45m left"),
        (3 * HOUR + 5 * 60 + 30, "还剩3时", "3h left"),
        (23 * HOUR + 59 * 60, "还剩23时", "23h left"),
        (2 * 86400 + 3 * HOUR, "还剩2天", "2d left"),
        (12 * 86400, "还剩12天", "12d left"),
        (-1, "超时1分", "1m over"),
        (-(HOUR + 20 * 60), "超时1时", "1h over"),
        (-(59 * 60 + 1), "超时1时", "1h over"),
        (-(23 * HOUR + 59 * 60), "超时23时", "23h over"),
        (-(99 * 86400 + 23 * HOUR), "超时99天", "99d over"),
        (-(100 * 86400), "超时3月", "3mo over"),
    ],
)
def test_countdown(seconds: float, zh: str, en: str) -> None:
    assert countdown(seconds, ZH) == zh and countdown(seconds, EN) == en
    assert cell_len(zh) <= COUNTDOWN_CELLS and len(en) <= COUNTDOWN_CELLS


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (45 * 60, "45分", "45m"),
        (3 * HOUR + 5 * 60 + 30, "3时05分", "3h05m"),
        (23 * HOUR + 59 * 60, "23时59分", "23h59m"),
        (2 * 86400 + 3 * HOUR, "2天03时", "2d03h"),
        (12 * 86400, "12天", "12d"),
        (-(HOUR + 19 * 60 + 1), "1时20分", "1h20m"),
    ],
)
def test_duration(seconds: float, zh: str, en: str) -> None:
    assert duration(seconds, ZH) == zh and duration(seconds, EN) == en
    assert cell_len(zh) <= COUNTDOWN_CELLS


# --------------------------------------------------------------------------- layout


async def test_80x24_fits_every_column_and_the_header_stays() -> None:
    app = TableApp(rows(100))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        width = table.scrollable_content_region.width
        [text] = [slot for slot in table.slots if slot.name == "text"]
        assert text.width >= 30  # room left for the description
        header = table.render_line(0).text
        assert header.startswith("编号") and "诉求" in header
        first = table.render_line(1)
        assert first.cell_length == width
        assert first.text.startswith("R-000000 还剩23时   新诉求")
        assert "德胜里" in first.text and "房屋漏雨" in first.text and "第0号诉求" in first.text
        await pilot.press("pagedown", "pagedown")
        assert table.render_line(0).text == header
        assert table.render_line(1).text.startswith(f"R-{table.scroll_offset.y:06d}")


async def test_english_labels() -> None:
    app = TableApp(rows(3), labels=EN)
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(QueueTable)
        assert table.render_line(0).text.startswith("id ")
        assert " new " in table.render_line(1).text


async def test_an_empty_queue_says_so() -> None:
    app = TableApp([])
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(QueueTable)
        assert "没有" in table.render_line(1).text
        await pilot.press("j", "enter")
        assert table.cursor_id is None
        assert selected(app) == []
        assert highlighted(app) == []


# --------------------------------------------------------------------------- keys


async def test_cursor_keys() -> None:
    app = TableApp(rows(200))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        page = table.scrollable_content_region.height - 1  # rows below the header
        await pilot.pause()
        assert table.cursor_row == 0
        await pilot.press("j", "j", "down")
        assert table.cursor_row == 3
        await pilot.press("k", "up")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + page
        assert table.scroll_offset.y == page
        await pilot.press("pageup")
        assert (table.cursor_row, table.scroll_offset.y) == (1, 0)
        await pilot.press("G")
        assert table.cursor_row == 199
        assert table.scroll_offset.y == 200 - page
        await pilot.press("g")
        assert (table.cursor_row, table.scroll_offset.y) == (0, 0)
        await pilot.press("end", "j")
        assert table.cursor_row == 199
        await pilot.press("home", "k")
        assert table.cursor_row == 0
        for _ in range(page + 2):
            await pilot.press("j")
        assert table.cursor_row == page + 2
        assert table.scroll_offset.y == 3  # scrolled just enough to keep the cursor in view


async def test_bindings_have_ids() -> None:
    ids = {binding.id for binding in QueueTable.BINDINGS if not isinstance(binding, tuple)}
    assert {"queue_table.cursor_down", "queue_table.cursor_up", "queue_table.select"} <= ids


async def test_enter_selects_and_moves_highlight() -> None:
    app = TableApp(rows(10))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert selected(app) == ["R-000002"]
        assert highlighted(app) == ["R-000000", "R-000001", "R-000002"]


async def test_click_moves_the_cursor_and_a_click_on_it_selects() -> None:
    app = TableApp(rows(10))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        await pilot.click(QueueTable, offset=(5, 4))  # screen line 4: row 3
        assert table.cursor_row == 3
        await pilot.click(QueueTable, offset=(5, 4))
        await pilot.pause()
        assert selected(app) == ["R-000003"]


# --------------------------------------------------------------------------- live updates


async def test_set_rows_keeps_the_selected_request_when_rows_arrive_above_it() -> None:
    app = TableApp(rows(100, start=10))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        await pilot.press(*["j"] * 30)
        assert table.cursor_id == "R-000040"
        line = table.cursor_row - table.scroll_offset.y
        app.messages.clear()
        table.set_rows(rows(110))  # ten more requests, all more urgent
        await pilot.pause()
        assert table.cursor_id == "R-000040"
        assert table.cursor_row == 40
        assert table.cursor_row - table.scroll_offset.y == line  # same screen line
        assert highlighted(app) == []  # nothing changed for the dispatcher
        table.set_rows(rows(100, start=20))  # rows above it leave
        await pilot.pause()
        assert table.cursor_id == "R-000040" and table.cursor_row == 20


async def test_set_rows_keeps_the_screen_line_when_the_rows_outgrow_the_table() -> None:
    """From a short queue to a long one (the scrollbar appears): the request under the cursor stays
    on its screen line, the rows above it scrolled out of view."""
    app = TableApp(rows(2, start=5))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        table.set_rows(rows(60))
        await pilot.pause()
        assert (table.cursor_id, table.cursor_row) == ("R-000005", 5)
        assert table.scroll_offset.y == 5 and table.show_vertical_scrollbar


async def test_set_rows_finds_the_selected_request_far_away_in_a_big_queue() -> None:
    model = QueueModel(rows(20_000))
    app = TableApp(model.apply(now=NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        table.move_cursor(15_000)
        await pilot.pause()
        assert table.cursor_id == "R-015000"
        line = table.cursor_row - table.scroll_offset.y
        urgent = [r._replace(id=f"R-A{r.id}", due_at=NOW) for r in rows(100, start=50_000)]
        model.upsert(urgent)  # a hundred more urgent requests: R-015000 moves far down
        shown = model.apply(now=NOW)
        table.set_rows(shown)
        await pilot.pause()
        assert table.cursor_id == "R-015000"
        assert table.cursor_row == 15_100
        assert table.cursor_row - table.scroll_offset.y == line


async def test_set_rows_clamps_when_the_selected_request_is_gone() -> None:
    app = TableApp(rows(50))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        await pilot.press("G")
        assert table.cursor_id == "R-000049"
        table.set_rows(rows(20))
        await pilot.pause()
        assert (table.cursor_row, table.cursor_id) == (19, "R-000019")
        table.set_rows([r for r in rows(20) if r.id != "R-000019"] + rows(5, start=100))
        await pilot.pause()
        assert (table.cursor_row, table.cursor_id) == (19, "R-000100")
        table.set_rows([])
        await pilot.pause()
        assert table.cursor_id is None
        assert highlighted(app)[-1] is None


async def test_a_live_update_of_the_selected_row_repaints_it() -> None:
    model = QueueModel(rows(30))
    app = TableApp(model.apply(now=NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        await pilot.press("j")
        changed = model.get("R-000001")
        assert changed is not None
        model.upsert([changed._replace(description="已改：积水", unsent=True)])
        table.set_rows(model.apply(now=NOW))
        await pilot.pause()
        assert table.cursor_id == "R-000001"
        assert "已改：积水" in table.render_line(2).text
        assert "*" in table.render_line(2).text


# --------------------------------------------------------------------------- painting


async def test_only_visible_rows_are_painted_at_100000(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: set[str] = set()  # the rows whose cells were made (each strip is made of a row's cells)

    def noting(row: QueueRow, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        formatted.add(row.id)
        return row_cells(row, *args, **kwargs)

    monkeypatch.setattr(queue_table, "row_cells", noting)
    shown = rows(100_000)
    async with counting(shown) as (table, pilot):
        height = table.size.height
        assert CountingTable.painted <= 3 * height  # a couple of frames, never the 100,000 rows
        assert formatted and formatted <= {row.id for row in shown[: height - 1]}  # the first page only
        CountingTable.painted = 0
        await pilot.press("j")
        await pilot.pause()
        assert CountingTable.painted == 2  # the old and the new cursor rows, nothing else
        CountingTable.painted = 0
        await pilot.press("G")
        await pilot.pause()
        assert height - 2 <= CountingTable.painted <= height  # a scroll repaints the page
        assert table.render_line(height - 1).text.startswith("R-099999")


async def test_rows_arriving_below_the_page_repaint_nothing() -> None:
    shown = rows(40)
    async with counting(shown) as (table, pilot):
        await pilot.press("j")
        await pilot.pause()
        CountingTable.painted = 0
        assert table.set_rows([*shown, *rows(500, start=40)]) is False  # a storm's arrivals, all later
        await pilot.pause()
        assert CountingTable.painted == 0 and table.row_count == 540
        assert table.cursor_id == "R-000001"

        assert table.set_rows([rows(1, start=-1)[0], *shown]) is True  # one at the top: the page moves
        await pilot.pause()
        assert CountingTable.painted > 0
        assert table.rows[0].id == "R--00001"
        assert table.cursor_id == "R-000001"  # still the selected request, on its line
        assert table.render_line(2).text.startswith("R-000001")


async def test_a_minute_passing_repaints_the_countdowns() -> None:
    soon = [row._replace(due_at=row.due_at - 22 * HOUR - 30 * 60) for row in rows(5)]  # 30 min left
    async with counting(soon) as (table, pilot):
        assert "还剩30分" in table.render_line(1).text
        table.set_now(NOW + 1)  # 29 min 59 s left: 29 min
        await pilot.pause()
        CountingTable.painted = 0
        table.set_now(NOW + 60)  # 59 s later every countdown reads the same
        await pilot.pause()
        assert CountingTable.painted == 0
        table.set_now(NOW + 61)
        await pilot.pause()
        assert CountingTable.painted > 0
        assert "还剩28分" in table.render_line(1).text


async def test_countdowns_follow_the_clock() -> None:
    now = [NOW]
    app = App[None]()
    table = QueueTable(rows(2), clock=lambda: now[0])
    async with app.run_test(size=(80, 10)) as pilot:
        await app.mount(table)
        await pilot.pause()
        assert "还剩23时" in table.render_line(1).text
        now[0] = NOW + 24 * HOUR
        table.set_now()
        await pilot.pause()
        assert "超时1时" in table.render_line(1).text


async def test_deadline_colours_come_from_component_classes() -> None:
    shown = [
        rows(1)[0]._replace(id="R-OVER", due_at=NOW - HOUR),
        rows(1)[0]._replace(id="R-SOON", due_at=NOW + HOUR),
        rows(1)[0]._replace(id="R-LATER", due_at=NOW + 9 * HOUR),
    ]
    app = TableApp(shown)
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.press("G")  # the cursor off the rows under test
        await pilot.pause()
        for line, name in ((1, "overdue"), (2, "due-soon")):
            strip = table.render_line(line)
            styles = {segment.style for segment in strip if segment.text.strip().endswith(("分", "时"))}
            assert table.get_component_rich_style(f"queue-table--{name}") in styles


async def test_the_cursor_row_looks_different_without_focus() -> None:
    from textual.widgets import Input

    class WithInput(TableApp):
        def compose(self) -> ComposeResult:
            yield Input()
            yield from super().compose()

    app = WithInput(rows(5))
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(QueueTable)
        table.focus()
        await pilot.pause()
        focused = next(iter(table.render_line(1))).style
        app.query_one(Input).focus()
        await pilot.pause()
        blurred = next(iter(table.render_line(1))).style
        assert focused != blurred


async def test_no_color_reverses_the_cursor_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp(rows(5))
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        assert app.no_color
        assert all(segment.style and segment.style.reverse for segment in table.render_line(1))
        assert not any(segment.style and segment.style.reverse for segment in table.render_line(2))


async def test_hostile_text_is_painted_literally() -> None:
    evil = make_row(
        id="R-\x1b[31m1",
        state=State.new,
        category="[b]cat[/b]\x1b[5m",
        community="c01\u202e",
        tier=Tier.h2,
        due_at=NOW - 60,
        received_at=NOW - HOUR,
        names=Names(communities={"c01\u202e": "[link=x]社区[/link]"}),
        vulnerable=True,
        conflict=True,
        description="\x1b[2J\x1b]0;owned\x07[/] [link=https://evil.example]x[/link] [@click=app.quit]q[/]",
        address="\x9b2J\u202e\u2066",
        caller="zero\u200bwidth",
    )
    app = TableApp([evil, *rows(3)])
    async with app.run_test(size=(200, 10)) as pilot:
        table = app.query_one(QueueTable)
        await pilot.pause()
        for _cursor_on_it in (True, False):
            strip = table.render_line(1)
            for segment in strip:
                assert not unsafe(segment.text)
                style = segment.style
                assert style is None or (not style.link and "@click" not in style.meta)
            text = strip.text
            assert cell_len(text) == table.scrollable_content_region.width
            assert "[/] [link=https://evil.example]x[/link] [@click=app.quit]q[/]" in text
            assert "␛]0;owned␇" in text and "[b]cat[/b…" in text and "R-␛[31m1" in text
            await pilot.press("j")
