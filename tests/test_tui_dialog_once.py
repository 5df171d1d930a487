"""A key pressed again while its dialog is being prepared (the request is read off the UI thread)
opens no second dialog: one dialog, and once it is answered the queue, not a stray dialog."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_support import cached_session, seeded_central, until
from snapshot_support import frozen_app
from textual.screen import ModalScreen

from api_client.models import Request


@pytest.mark.parametrize("keys", [("d", "d"), ("d", "d", "d", "r", "e")])
async def test_a_key_pressed_twice_opens_one_dialog(
    tmp_path: Path, keys: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    central = seeded_central(tmp_path, 20)
    with cached_session(central, tmp_path / "cache") as session:
        view = session.view

        def slow_view(request_id: str) -> Request | None:  # a loaded machine: the read takes a while
            time.sleep(0.3)
            return view(request_id)

        monkeypatch.setattr(session, "view", slow_view)
        app = frozen_app(session, "en")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.loaded)
            await pilot.press("1", "g")
            await pilot.pause(0.1)
            await pilot.press(*keys)
            await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog", what="the dialog")
            await pilot.pause(0.5)
            dialogs = [screen for screen in app.screen_stack if isinstance(screen, ModalScreen)]
            assert len(dialogs) == 1, app.screen_stack
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ModalScreen), what="the queue again")
            await pilot.pause(0.5)
            assert not isinstance(app.screen, ModalScreen), app.screen_stack
