"""Leaving the app: `q` asks first when actions wait to be sent or conflicts are open, ctrl+c says
which key quits in the interface's language, and help names keys as they are pressed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, seeded_server, synced, until
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot

from api_client.actions import AddNote
from api_client.models import State
from central_api.server import LiveServer
from tui.core.i18n import Strings
from tui.ui.app import HotlineApp
from tui.ui.screens.transitions import ConfirmDialog


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = seeded_server(tmp_path, 30)
    try:
        yield live
    finally:
        live.stop()


async def _one_unsent_action(pilot: Pilot[Any], app: HotlineApp, server: LiveServer) -> None:
    """Stop the server and record a note on the first request: one action waits to be sent."""
    await until(pilot, lambda: synced(app, 30), what="the first sync")
    server.stop()
    await until(pilot, lambda: app.last_status is not None and not app.last_status.online, what="offline")
    request_id = next(row.id for row in app.model.rows() if row.state is State.new)
    app.record(request_id, AddNote(text="电话未接通，稍后再联系"))
    await until(pilot, lambda: app.last_status is not None and app.last_status.pending == 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_q_asks_before_quitting_with_unsent_actions(
    server: LiveServer, tmp_path: Path, lang: str
) -> None:
    strings = Strings(lang)
    session = open_session(server, tmp_path)
    app = HotlineApp(session, strings=strings)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await _one_unsent_action(pilot, app, server)
            await pilot.press("q")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the question")
            shown = app.screen.query_one("#body").render()
            assert strings("quit.body", pending=1, conflicts=0) == str(shown)
            await pilot.press("n")  # stay
            await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            assert app.is_running and app.return_code is None
            await pilot.press("q")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await until(pilot, lambda: app.return_code is not None, what="the app to exit")
    finally:
        session.close()


async def test_q_quits_at_once_when_nothing_waits(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    app = HotlineApp(session, strings=Strings("en"))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: synced(app, 30), what="the first sync")
            await pilot.press("q")
            await until(pilot, lambda: app.return_code is not None, what="the app to exit")
            assert not isinstance(app.screen, ConfirmDialog)
    finally:
        session.close()


async def test_ctrl_c_says_how_to_quit_in_chinese(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    app = HotlineApp(session, strings=Strings("zh"))
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    try:
        async with app.run_test(size=(80, 24), message_hook=keep) as pilot:
            await until(pilot, lambda: app.loaded)
            await pilot.press("ctrl+c")
            await until(pilot, lambda: bool(notices), what="the notice")
            assert (notices[-1].title, notices[-1].message) == ("要退出吗？", "按 q 退出")
    finally:
        session.close()


async def test_help_names_keys_as_they_are_pressed(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    app = HotlineApp(session, strings=Strings("en"))
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await until(pilot, lambda: app.loaded)
            await pilot.press("question_mark")
            await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
            lines = [
                line.split() for line in str(app.screen.query_one("#help").children[0].render()).splitlines()
            ]
            keys = {line[-1]: line[0] for line in lines if line and "." in line[-1]}
            assert keys["request.escalate"] == "!"
            assert keys["app.help"] == "?"
            assert not any(
                name in " ".join(map(" ".join, lines)) for name in ("exclamation_mark", "asterisk")
            )
    finally:
        session.close()
