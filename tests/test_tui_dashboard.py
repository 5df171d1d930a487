"""The dashboard (`b`) against a real central API: its numbers are the server's own; offline it
shows the cache's counts and says the rates are unavailable; `e` writes the shift report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import open_session, running_app, seeded_server, synced, until
from report_support import assert_local_agrees, assert_rates_agree, direct
from rich.console import Console
from textual.widgets import Static

from central_api.server import LiveServer
from tui.core.report.render import to_markdown
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.screens.queues import QueuesScreen


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 80)
    try:
        yield made
    finally:
        made.stop()


def dashboard(app: HotlineApp) -> DashboardScreen:
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def shown(screen: DashboardScreen) -> str:
    """Every line the dashboard's sections render (scrolled or not), as plain text."""
    console = Console(width=200, record=True, color_system=None)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


async def test_the_dashboard_shows_the_servers_numbers_and_exports_the_shift_report(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    async with running_app(open_session(server, tmp_path), size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: synced(app, 80) and app.session.directory is not None, what="sync")
        await pilot.press("b")
        screen = dashboard(app)
        await until(pilot, lambda: screen.report is not None and screen.report.online, what="the report")
        report = screen.report
        assert report is not None
        expected = direct(server, report.generated_at, report.shift.since)
        assert_local_agrees(report, expected)
        assert_rates_agree(report, expected)

        text = shown(screen)
        assert "response = dispatches signed for in time ÷ dispatches signed for" in text
        assert "satisfaction = callbacks answering satisfied ÷ valid callbacks" in text
        month = next(p for p in report.periods if p.period == "month").rates
        assert f"({month.responded_in_time}/{month.response_counted})" in text
        assert f"({month.satisfied}/{month.valid_callbacks})" in text
        assert f"{report.cached} cached · {report.overdue} overdue" in text
        assert report.units and report.units[0].name[:6] in text  # a long name is cut with …
        assert "Online" in text

        await pilot.press("e")
        await until(pilot, lambda: screen.exported is not None, what="the export")
        path = screen.exported
        assert path is not None and path.is_relative_to(tmp_path / "data" / "hotline")
        assert path.read_text(encoding="utf-8") == to_markdown(report, app.strings) + "\n"
        assert path.stat().st_mode & 0o777 == 0o600

        await pilot.press("escape")
        assert isinstance(app.screen, QueuesScreen)


async def test_offline_the_dashboard_counts_the_cache_and_says_the_rates_are_unavailable(
    server: LiveServer, tmp_path: Path
) -> None:
    first = open_session(server, tmp_path)
    cache = first.store.directory
    async with running_app(first) as (app, pilot):
        await until(pilot, lambda: synced(app, 80), what="the first sync")
    offline = Session.open(cache, api_url=server.url, dispatcher=first.dispatcher, token=None)
    async with running_app(offline, lang="zh", size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: app.loaded)
        await pilot.press("b")
        screen = dashboard(app)
        await until(pilot, lambda: screen.report is not None, what="the report")
        report = screen.report
        assert report is not None and not report.online and report.periods == []
        assert_local_agrees(report, direct(server, report.generated_at, report.shift.since))
        text = shown(screen)
        assert "离线：以下只统计本地缓存，三率暂不可用" in text
        assert "三率不可用" in text
        assert f"缓存 {report.cached} 件" in text
        await pilot.press("j", "j", "b")  # scrolls; b again goes back
        assert isinstance(app.screen, QueuesScreen)
