"""The footer never cuts a key: on every screen and in every state a request can be in, at 80
columns in both languages and narrower, the keys it shows end inside the terminal, and help and
quit are always among them (help lists every key)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from app_support import cached_session, seeded_central, until
from snapshot_support import frozen_app
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer

from api_client.models import State
from tui.ui.app import HotlineApp
from tui.ui.screens.detail import DetailScreen


def footer_keys(app: HotlineApp) -> tuple[Widget, list[Widget]]:
    footer = app.screen.query_one(Footer)
    return footer, [key for key in footer.query("FooterKey").results(Widget) if key.display]


def check_footer(app: HotlineApp, where: str) -> list[str]:
    """The footer's keys, after checking that each ends inside it and help and quit are shown."""
    footer, keys = footer_keys(app)
    shown = [str(getattr(key, "action", "")) for key in keys]
    for key in keys:
        assert key.region.width > 0 and key.region.right <= footer.region.right, (where, shown)
    assert {"help", "quit"} <= {action.rpartition(".")[2] for action in shown}, (where, shown)
    return shown


def dispatched(app: HotlineApp, request_id: str) -> bool:
    row = app.model.get(request_id)
    return row is not None and row.state is State.dispatched and isinstance(app.screen, DetailScreen)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.05)


@pytest.mark.parametrize(("lang", "width"), [("en", 80), ("zh", 80), ("en", 56)])
async def test_no_footer_cuts_a_key(tmp_path: Path, lang: str, width: int) -> None:
    central = seeded_central(tmp_path, 60)
    states: set[State] = set()
    with cached_session(central, tmp_path / "cache") as session:
        app = frozen_app(session, "zh" if lang == "zh" else "en")
        async with app.run_test(size=(width, 24)) as pilot:
            await until(pilot, lambda: app.loaded)
            await settle(pilot)
            for queue in "123456":  # each queue's own keys (the callback queue has the most)
                await pilot.press(queue)
                await settle(pilot)
                check_footer(app, f"queue {queue}")
            await pilot.press("6", "space", "space")  # two rows marked: the bulk keys join
            await settle(pilot)
            check_footer(app, "queue, two marked")
            await pilot.press("escape")
            for state in State:  # a detail in every state the demo data holds, found by its id
                found = session.store.cache.by_state(state)[:1]
                if not found:
                    continue
                await pilot.press("slash", *found[0], "enter")
                await settle(pilot)
                await pilot.press("enter")
                await until(
                    pilot, lambda: isinstance(app.screen, DetailScreen), what=f"the detail of {state}"
                )
                await settle(pilot)
                states.add(state)
                check_footer(app, f"detail {state}")
                if state is State.new:  # dispatched from its detail: the state with the most keys
                    await pilot.press("d")
                    await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog", what="dispatch")
                    await until(pilot, lambda: app.screen.focused is not None, what="the dialog's focus")
                    await pilot.press(*"dsj", "enter", "ctrl+s")
                    await until(pilot, partial(dispatched, app, found[0]), what="dispatched")
                    await settle(pilot)
                    states.add(State.dispatched)
                    check_footer(app, "detail dispatched")
                await pilot.press("escape", "escape")
                await until(
                    pilot, lambda: not isinstance(app.screen, DetailScreen), what=f"back from {state}"
                )
            for key, name in (("b", "dashboard"), ("C", "conflicts")):
                await pilot.press(key)
                await settle(pilot)
                check_footer(app, name)
                await pilot.press("escape")
                await settle(pilot)
    assert len(states) >= 6 and State.dispatched in states, states
