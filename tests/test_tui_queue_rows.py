"""Rows that say enough: the description from its substance, the lead unit and the address on a
wide screen, the time a request has waited for its callback, and the columns a dispatcher chose.
The app on an offline cache of the demo data, driven with Pilot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from app_support import SEED_NOW, Central, cached_session, seeded_central, until
from textual.pilot import Pilot

from api_client.domain.states import CALLBACK_STATES, IN_PROGRESS_STATES
from tui.core.i18n import Lang, Strings
from tui.core.queue.layout import Column
from tui.core.table_words import duration
from tui.ui.app import HotlineApp
from tui.ui.screens.queues import QueuesScreen

CLOCK = SEED_NOW.timestamp() + 600


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 60)


@asynccontextmanager
async def running(
    central: Central, tmp_path: Path, size: tuple[int, int], lang: Lang = "zh", **options: Any
) -> AsyncIterator[tuple[HotlineApp, QueuesScreen, Pilot[Any]]]:
    with cached_session(central, tmp_path / "cache") as session:
        app = HotlineApp(
            session, strings=Strings(lang), clock=lambda: CLOCK, sync=False, announce_urgent=False, **options
        )
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
            screen = app.screen
            assert isinstance(screen, QueuesScreen)
            await pilot.press("6")
            await until(pilot, lambda: screen.table.row_count == len(app.model), what="every request")
            yield app, screen, pilot


def line_of(screen: QueuesScreen, request_id: str) -> str:
    """The table's line for `request_id` (moved into view first)."""
    table = screen.table
    index = next(i for i, row in enumerate(table.rows) if row.id == request_id)
    table.move_cursor(index)
    return table.render_line(index - int(table.scroll_offset.y) + 1).text


async def test_at_80_columns_a_row_shows_what_the_call_is_about(central: Central, tmp_path: Path) -> None:
    async with running(central, tmp_path, (80, 24)) as (_app, screen, pilot):
        greeted = [row for row in screen.table.rows if row.substance_at]
        assert greeted, "the demo data has requests that open with a greeting"
        for row in greeted[:5]:
            line = line_of(screen, row.id)
            await pilot.pause()
            assert row.substance[:12] in line, (row.description, line)
            assert row.description[: row.substance_at] not in line
        [text] = [slot for slot in screen.table.slots if slot.name == Column.text]
        assert text.width >= 31  # 15 Chinese characters of substance, where 12 of greeting were


async def test_at_160_columns_an_overdue_request_says_who_has_it_and_where(
    central: Central, tmp_path: Path
) -> None:
    async with running(central, tmp_path, (160, 50)) as (_app, screen, _pilot):
        header = screen.table.render_line(0).text
        assert "主办单位" in header and "地址" in header and "时限" in header
        handled = [row for row in screen.table.rows if row.state in IN_PROGRESS_STATES and row.lead_unit]
        assert handled
        for row in handled:
            line = line_of(screen, row.id)
            assert row.lead_unit_name[:5] in line and row.address[:6] in line


async def test_the_callback_queue_shows_how_long_each_request_has_waited(
    central: Central, tmp_path: Path
) -> None:
    headings: tuple[tuple[Lang, str], ...] = (("zh", "已等"), ("en", "waited"))
    for lang, heading in headings:
        async with running(central, tmp_path / lang, (80, 24), lang) as (_app, screen, pilot):
            await pilot.press("4")
            await pilot.pause()
            table = screen.table
            assert table.rows and all(row.state in CALLBACK_STATES for row in table.rows)
            assert heading in table.render_line(0).text
            for row in table.rows:
                assert row.resolved_at
                waited = duration(CLOCK - row.resolved_at, Strings(lang).table)
                shown = line_of(screen, row.id)
                assert shown.startswith(f"{row.id} ") and shown[9:].lstrip().startswith(waited), shown
            await pilot.press("3")  # in progress: the deadline again
            await pilot.pause()
            assert heading not in table.render_line(0).text


async def test_the_columns_a_dispatcher_chose_are_shown_in_their_order(
    central: Central, tmp_path: Path
) -> None:
    chosen = (Column.id, Column.state, Column.unit, Column.text)
    async with running(central, tmp_path, (80, 24), columns=chosen) as (_app, screen, _pilot):
        header = screen.table.render_line(0).text.split()
        assert header == ["编号", "!", "状态", "主办单位", "诉求"]
        assert [slot.name for slot in screen.table.slots if slot.name in set(Column)] == list(chosen)
