"""What the dispatcher sees: snapshots of the main screens at 80x24 and 160x50, in Chinese and English.

Deterministic on any machine and any day: the demo data is seeded with a fixed seed and a fixed
"now", the dispatcher's cache is filled from the store's change feed directly (no server, no
sync), the directory of units is saved with a fixed `fetched_at`, the app's clock is frozen and
the time zone is fixed (China Standard Time, written as a POSIX rule so no tz database is
needed).

Regenerate after a deliberate change of the screens, then look at the SVGs before committing:

    pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_support import Central, cached_session, seeded_central, until
from history_support import full_history_central
from snapshot_support import CLOCK, Lang, frozen_app
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, RadioSet

from api_client.actions import Dispatch
from api_client.domain.states import CALLBACK_STATES
from api_client.models import State, Step
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.screens.conflicts import ConflictsScreen
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.dispatch import DispatchDialog
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.screens.workflow_dialogs import CallbackDialog, ResolveDialog

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

Compare = Callable[..., bool]
Steps = Callable[[Pilot[Any], HotlineApp], Awaitable[None]]


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 60)


@pytest.fixture
def session(central: Central, tmp_path: Path, fixed_zone: None) -> Iterator[Session]:
    """A dispatcher's offline session (no token: the app never syncs) on the seeded data."""
    with cached_session(central, tmp_path / "cache") as opened:
        yield opened


async def queue(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The default queue (new requests), the first row selected."""
    await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    await until(pilot, lambda: screen.table.row_count > 0, what="rows in the new queue")


async def all_requests(pilot: Pilot[Any], app: HotlineApp) -> None:
    """Every request (queue 6): all the states, deadlines in time, due soon and overdue."""
    await queue(pilot, app)
    await pilot.press("6")
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    await until(pilot, lambda: screen.table.row_count == len(app.model), what="the whole table")


async def detail(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The first request in progress, in full: its countdown and due time move with the clock; its
    history comes from the cache."""
    await queue(pilot, app)
    await pilot.press("3", "enter")
    await until(pilot, lambda: shows_its_history(app), what="the detail and its history")


def shows_its_history(app: HotlineApp) -> bool:
    screen = app.screen
    if not isinstance(screen, DetailScreen) or screen.request is None:
        return False
    last = screen.request.history[-1].by  # the latest step's actor is on the last line
    return app.strings("detail.audit") in str(screen.query_one("#detail").render()) and last in str(
        screen.query_one("#detail").render()
    )


async def dispatch(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The dispatch dialog on the first new request, after typing the initials `dsj`."""
    await queue(pilot, app)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, DispatchDialog), what="the dispatch dialog")
    dialog = app.screen
    assert isinstance(dialog, DispatchDialog)
    await pilot.press(*"dsj")
    query = dialog.query_one("#query", Input)
    expected = [match.unit.id for match in dialog.matcher.search("dsj", suggested=dialog.suggested)]
    assert expected, "no unit matches dsj"

    def searched() -> bool:
        return query.value == "dsj" and [match.unit.id for match in dialog.matches] == expected

    await until(pilot, searched, what="the units matching dsj")


async def callback(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The callback dialog on the first request of the callback queue: reached, solved, satisfied."""
    await queue(pilot, app)
    await pilot.press("4", "c")
    await until(pilot, lambda: isinstance(app.screen, CallbackDialog), what="the callback dialog")
    dialog = app.screen
    assert isinstance(dialog, CallbackDialog)
    # One answer at a time: each enables or moves to the next through messages of its own.
    for answer, key in (("reached", "y"), ("solved", "y"), ("satisfaction", "1")):
        await answered(pilot, dialog.query_one(f"#{answer}", RadioSet), key)
        if answer != "satisfaction":
            await pilot.press("tab")


async def answered(pilot: Pilot[Any], choice: RadioSet, key: str) -> None:
    """Answer one question of a dialog by its key, once it has the focus."""
    await until(pilot, lambda: choice.has_focus and not choice.disabled, what=f"{choice.id} to take keys")
    await pilot.press(key)
    await until(pilot, lambda: choice.pressed_index >= 0, what=f"the {choice.id} answer")


async def callback_queue(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The callback queue (4): how long each request has waited since it was resolved."""
    await queue(pilot, app)
    await pilot.press("4")
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    await until(
        pilot,
        lambda: screen.table.row_count > 0 and all(r.state in CALLBACK_STATES for r in screen.table.rows),
        what="the callback queue",
    )


async def bulk(pilot: Pilot[Any], app: HotlineApp) -> None:
    """Three marked requests (6: accepted, new, closed), then resolve: the dialog names how
    many it resolves and how many it skips, and asks once."""
    await all_requests(pilot, app)
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    states = [row.state for row in screen.table.rows]
    chosen = sorted(states.index(state) for state in (State.accepted, State.new, State.closed))
    await pilot.press("g")
    at = 0
    for index in chosen:  # one the resolve applies to, two it skips
        await pilot.press(*["j"] * (index - at), "space")
        at = index + 1  # marking moves the cursor down
    await until(pilot, lambda: len(screen.marked) == 3, what="three marked rows")
    await pilot.press("s")
    await until(pilot, lambda: isinstance(app.screen, ResolveDialog), what="the bulk dialog")


async def conflicts(pilot: Pilot[Any], app: HotlineApp) -> None:
    """The conflicts (C): a dispatch that another dispatcher's dispatch overtook: who and what."""
    await queue(pilot, app)
    await pilot.press("C")
    await until(pilot, lambda: isinstance(app.screen, ConflictsScreen), what="the conflicts")
    screen = app.screen
    assert isinstance(screen, ConflictsScreen)
    options = screen.query_one(OptionList)
    await until(
        pilot,
        lambda: bool(screen.records) and options.option_count == 1 and options.highlighted == 0,
        what="the conflict listed and highlighted",
    )
    app.refresh_bindings()  # the footer: the keys for the highlighted conflict's request
    await pilot.pause()
    await pilot.pause()


def overtaken_dispatch(session: Session) -> None:
    """A new request dispatched here while 李强 dispatched it on the server first."""
    store = session.store
    views = [v for v in map(store.view, sorted(store.view_ids())) if v is not None]
    view = next(v for v in views if v.state is State.new)
    unit = min(u.id for u in session.units)
    pending = store.record(view.id, Dispatch(lead_unit=unit), actor=session.dispatcher)
    at = datetime.fromtimestamp(CLOCK - 300, UTC)
    step = Step(action="dispatch", by="李强", at=at, state=State.dispatched, units=[unit])
    server = view.model_copy(
        update={"state": State.dispatched, "version": view.version + 1, "history": [*view.history, step]}
    )
    params = {"request_id": view.id, "version": server.version, "if_match": view.version}
    store.conflict(
        pending.key, kind="stale", message="changed", server=server, code="version_mismatch", params=params
    )


async def help_screen(pilot: Pilot[Any], app: HotlineApp) -> None:
    await queue(pilot, app)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")


SCREENS: dict[str, Steps] = {
    "queue": queue,
    "detail": detail,
    "dispatch": dispatch,
    "callback": callback,
    "help": help_screen,
    "callback_queue": callback_queue,
    "bulk": bulk,
    "conflicts": conflicts,
}
#: What a screen needs in the cache before the app starts.
PREPARED: dict[str, Callable[[Session], None]] = {"conflicts": overtaken_dispatch}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare: Compare, session: Session, screen: str, lang: Lang, size: str) -> None:
    if screen in PREPARED:
        PREPARED[screen](session)
    app = frozen_app(session, lang)
    steps = SCREENS[screen]

    async def run_before(pilot: Pilot[Any]) -> None:
        await steps(pilot, app)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.fixture(scope="module")
def history_central(tmp_path_factory: pytest.TempPathFactory) -> tuple[Central, str]:
    return full_history_central(tmp_path_factory.mktemp("history"))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_detail_with_a_full_history(
    snap_compare: Compare,
    history_central: tuple[Central, str],
    tmp_path: Path,
    fixed_zone: None,
    lang: Lang,
    size: str,
) -> None:
    """A request returned (with a code), re-dispatched, extended, resolved with a reply, called
    back unreached and unsatisfied (which reopened it), re-handled and closed: every step and its
    why, scrolled to the end of the history."""
    central, request_id = history_central
    with cached_session(central, tmp_path / "cache") as opened:
        app = frozen_app(opened, lang)

        async def run_before(pilot: Pilot[Any]) -> None:
            await until(pilot, lambda: app.loaded, what="the cache")
            screen = DetailScreen(request_id)
            await app.push_screen(screen)
            await until(pilot, lambda: shows_its_history(app), what="the history")
            scroll = screen.query_one("#detail-scroll", VerticalScroll)
            await until(pilot, lambda: scroll.virtual_size.height > 0, what="the detail laid out")
            # The detail may still grow after a key (a slow machine lays it out late): `end`
            # again until the view rests at the end.
            for _ in range(300):
                await pilot.press("end")
                await pilot.pause(0.05)
                if scroll.scroll_y == scroll.max_scroll_y:
                    break
            else:
                raise AssertionError("timed out waiting for the end of the history")
            await pilot.pause()

        assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_request_at_80x24(snap_compare: Compare, session: Session, lang: Lang) -> None:
    app = frozen_app(session, lang)

    async def run_before(pilot: Pilot[Any]) -> None:
        await all_requests(pilot, app)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)
