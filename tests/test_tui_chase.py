"""催办 from the centre's app: the key `h` on a request with a unit, a short dialog, the chase on the
server once; the row's mark, the detail's count and step, the dashboard's chases per unit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until
from rich.console import Console
from server_helpers import new_request
from textual.pilot import Pilot
from textual.widgets import Static

from api_client.actions import Dispatch
from api_client.domain.deadlines import DeadlineStatus
from api_client.models import NewRequest, State
from central_api.server import LiveServer
from tui.core.i18n import Strings
from tui.core.queue.layout import plan
from tui.ui.app import HotlineApp
from tui.ui.palette import palette_commands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_columns import CHASED_MARK, Clock, row_cells, row_format

#: The unit the request is given to, and its name in the demo's directory.
UNIT, UNIT_NAME = "cc01", "德胜里社区居委会"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 60)
    try:
        yield made
    finally:
        made.stop()


def queues(app: HotlineApp) -> QueuesScreen:
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    return screen


def given_out(server: LiveServer) -> tuple[str, str]:
    """A new request dispatched to `UNIT` by another dispatcher, and a new one not dispatched."""
    made = [
        server.store.create_request(
            NewRequest.model_validate(new_request(description=f"楼道灯坏了 {n}")),
            actor="李强",
            idempotency_key=None,
        ).request
        for n in range(2)
    ]
    server.store.apply(
        made[0].id, Dispatch(lead_unit=UNIT), actor="李强", if_match=made[0].version, idempotency_key=None
    )
    return made[0].id, made[1].id


async def show_request(pilot: Pilot[Any], app: HotlineApp, request_id: str) -> None:
    await pilot.press("6", "slash", *request_id, "enter")
    await until(pilot, lambda: queues(app).current_request_id() == request_id, what=request_id)


async def test_a_chase_by_keys_reaches_the_server_and_shows_in_the_row_detail_and_dashboard(
    server: LiveServer, tmp_path: Path
) -> None:
    dispatched, undispatched = given_out(server)
    async with running_app(open_session(server, tmp_path), lang="zh") as (app, pilot):
        await until(pilot, lambda: synced(app) and dispatched in app.model and undispatched in app.model)
        await until(pilot, lambda: app.session.directory is not None, what="the directory")
        await show_request(pilot, app, undispatched)
        assert app.check_action("transition", ("chase",)) is False  # with no unit yet: nobody to chase
        await show_request(pilot, app, dispatched)
        assert app.check_action("transition", ("chase",)) is True
        titles = [c.title for c in palette_commands(app, app.screen)]
        assert "催办 (h)" in titles

        await pilot.press("h")
        await until(pilot, lambda: type(app.screen).__name__ == "ChaseDialog", what="the chase dialog")
        await until(pilot, lambda: app.screen.focused is not None)
        assert UNIT_NAME in str(app.screen.query_one("#chased", Static).render())
        await pilot.press(*"居民第三次来电", "enter")
        await until(pilot, lambda: server_request(server, dispatched).chases == 1, what="the chase")
        await until(pilot, lambda: synced(app), what="sent")
        event = server.store.audit(dispatched)[-1]
        assert (event.action, event.actor) == ("chase", "张敏")
        assert server_request(server, dispatched).state is State.dispatched  # a chase moves no state

        await until(pilot, lambda: app.model.get(dispatched).chases == 1)  # type: ignore[union-attr]
        row = app.model.get(dispatched)
        assert row is not None
        clock = Clock(status=DeadlineStatus.in_time, due="")
        cells = row_cells(row, clock, row_format(plan(79)), marked=False, labels=Strings("zh").table)
        assert any(text.strip() == CHASED_MARK for text, _style in cells)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), what="the detail")
        detail = app.screen.query_one("#detail", Static)
        await until(pilot, lambda: "居民第三次来电" in str(detail.render()), what="the chase in the history")
        text = str(detail.render())
        assert "催办 1 次" in text
        assert f"催办：单位 {UNIT_NAME}；居民第三次来电" in text

        await pilot.press("escape", "b")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await until(pilot, lambda: screen.report is not None and screen.report.online, what="the report")
        assert screen.report is not None
        by_unit = {u.unit: u for u in screen.report.units}
        assert by_unit[UNIT].chases == 1
        console = Console(width=200, record=True, color_system=None)
        console.print(screen.query_one("#dash-units", Static).content)
        table = console.export_text()
        header = next(line for line in table.splitlines() if "催办" in line).split()
        line = next(line for line in table.splitlines() if line.strip().startswith(UNIT_NAME)).split()
        assert line[header.index("催办")] == "1"
