"""Screens ask, the app does: a screen posts an ask (`tui.ui.asks`) for anything that reads or writes
the cache, the outbox, the server or a file; the app's workers do it and answer the screen. No
screen or widget imports the app.

The app here is the real one, noting each ask it receives (its own handlers run as they are);
what they did is read on the real server and on the screen.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, seeded_server, server_request, synced, until
from textual import on
from textual.pilot import Pilot

from api_client.actions import Dispatch
from api_client.models import State
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from tui.core.i18n import Strings
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.asks import Ask
from tui.ui.host import Host
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.conflicts import ConflictsScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.status_bar import StatusBar

UI = Path(__file__).resolve().parent.parent / "tui" / "ui"


class NotingApp(HotlineApp):
    """The hotline app, noting the name of every ask a screen sends it."""

    def __init__(self, session: Session, **options: Any) -> None:
        super().__init__(session, **options)
        self.asked: list[str] = []

    @on(Ask)
    def _note(self, ask: Ask) -> None:
        self.asked.append(type(ask).__name__)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 30)
    try:
        yield made
    finally:
        made.stop()


@asynccontextmanager
async def noting_app(session: Session) -> AsyncIterator[tuple[NotingApp, Pilot[Any]]]:
    app = NotingApp(session, strings=Strings("en"))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            yield app, pilot
    finally:
        session.close()


def queues(app: HotlineApp) -> QueuesScreen:
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    return screen


async def test_a_conflict_retried_on_its_screen_is_done_by_the_app(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with noting_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 30), what="the first sync")
        request_id = next(row.id for row in app.model.rows() if row.state is State.new)
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online)
        app.record(request_id, Dispatch(lead_unit="cc01"))  # here, offline …
        await until(pilot, lambda: app.model.get(request_id).unsent)  # type: ignore[union-attr]
        central = SqlStore.open(str(tmp_path / "central.db"))
        try:  # … and by someone else on the server meanwhile
            version = central.get_request(request_id).version
            central.apply(
                request_id, Dispatch(lead_unit="pm01"), actor="李强", if_match=version, idempotency_key=None
            )
        finally:
            central.close()
        server.restart()
        await until(pilot, lambda: app.last_status is not None and app.last_status.conflicts == 1, timeout=30)

        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="the conflicts screen")
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        await until(pilot, lambda: [r.action.request_id for r in screen.records] == [request_id])
        assert "ListConflicts" in app.asked
        await pilot.press("r")
        await until(pilot, lambda: server_request(server, request_id).lead_unit == "cc01", timeout=20)
        await until(pilot, lambda: screen.records == [], what="the list without the retried conflict")
        assert app.asked.count("RetryConflict") == 1
        assert app.asked.count("ListConflicts") >= 2  # the screen asked again once answered
        assert session.store.counts()[1:] == (0, 0)


async def test_a_bulk_action_is_recorded_and_followed_by_the_app(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    async with noting_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 30), what="the first sync")
        screen = queues(app)
        await until(pilot, lambda: screen.table.row_count >= 2, what="two new requests")
        host: Host = app  # what screens see of the app (mypy checks it structurally)
        assert isinstance(host, Host)
        bar = screen.query_one(StatusBar)
        # the bar follows the app's status by itself (the signal reaches it as a message)
        await until(pilot, lambda: bar.status == app.last_status, what="the bar to show the app's status")
        await pilot.press("space", "space")
        marked = list(screen.marked)
        await pilot.press("n")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog", what="the note dialog")
        await until(pilot, lambda: app.screen.focused is not None, what="the dialog to take the keys")
        await pilot.press(*"asked", "enter")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen), what="the bulk screen")
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        await until(pilot, lambda: bulk.done, timeout=30, what="every item answered")
        assert bulk.results == [app.strings("bulk.sent")] * 2
        assert app.asked.count("RecordBatch") == 1 and "FollowOutbox" in app.asked
        for request_id in marked:
            assert [note.text for note in server_request(server, request_id).notes].count("asked") == 1
        assert session.store.counts()[1:] == (0, 0)


def _imported(tree: ast.AST) -> Iterator[str]:
    """Every module an import statement names, wherever it stands (functions, TYPE_CHECKING)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize(
    "path",
    sorted([*UI.joinpath("screens").glob("*.py"), *UI.joinpath("widgets").glob("*.py")]),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_no_screen_or_widget_imports_the_app(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    imported = set(_imported(tree))
    assert not {name for name in imported if name == "tui.ui.app" or name.startswith("tui.ui.app.")}
    # nor the IO the app owns: screens ask for it
    assert not imported & {"api_client.client", "local_cache.local_store", "tui.core.session.Session"}


def test_the_walk_sees_imports_hidden_in_functions_and_type_checking_blocks() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tui.ui.app import HotlineApp\n"
        "def later() -> None:\n    import tui.ui.app\n"
    )
    assert {"tui.ui.app", "tui.ui.app.HotlineApp"} <= set(_imported(ast.parse(source)))
