"""No toast covers a dialog: while one is open only errors are shown; the rest wait until it closes."""

from __future__ import annotations

from pathlib import Path

from app_support import cached_session, seeded_central, until
from textual.message import Message
from textual.notifications import Notification, Notify

from tui.core.i18n import Strings
from tui.ui.app import HotlineApp


async def test_notices_wait_while_a_dialog_is_open(tmp_path: Path) -> None:
    central = seeded_central(tmp_path, 10)
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    with cached_session(central, tmp_path / "cache") as session:
        app = HotlineApp(session, strings=Strings("en"))
        async with app.run_test(size=(80, 24), message_hook=keep) as pilot:
            await until(pilot, lambda: app.loaded)
            await pilot.press("question_mark")  # the help: a modal screen
            await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
            before = len(notices)
            app.say("R-000001 is urgent", severity="warning")
            app.say("the server refused", severity="error")
            await pilot.pause(0.8)
            assert [n.message for n in notices[before:]] == ["the server refused"]
            await pilot.press("escape")
            await until(pilot, lambda: len(notices) > before + 1, what="the held notice")
            assert notices[-1].message == "R-000001 is urgent" and notices[-1].severity == "warning"
