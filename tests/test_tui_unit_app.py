"""A handling unit's own login in the app: it opens on its unit's queues (learned from `/v1/me`,
kept for an offline start), shows only its unit's requests, signs for and resolves by the same
keys, and says so when a key of the centre's is pressed. Against a real central API."""

from __future__ import annotations

import html
import os
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from app_support import Central, cached_session, seeded_central, seeded_server, server_request, synced, until
from server_helpers import new_request
from snapshot_support import CLOCK, frozen_app
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot

from api_client.actions import Accept, Chase, Dispatch
from api_client.domain.unit_rules import unit_may
from api_client.models import Change, ChangesPage, Identity, NewRequest, Role, State
from central_api.server import LiveServer
from tui.cli.app import _learn_identity
from tui.core.i18n import Strings
from tui.core.identity_file import IDENTITY_FILE, IdentityFile
from tui.core.queue.kinds import UNIT_QUEUES, QueueKind
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import make_row
from tui.core.session import Session
from tui.core.settings import load_settings
from tui.ui.app import HotlineApp
from tui.ui.palette import palette_commands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.screens.help import help_text
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_bar import QueueBar

#: The unit whose login the tests open, and another.
UNIT, OTHER = "st-city", "cc01"
UNIT_NAME = "德胜街道城市管理办公室"
LOGIN = "城管办值班"

Compare = Callable[..., bool]


# --------------------------------------------------------------------------- the rules, pure


def test_a_units_queues_follow_the_state_its_role_and_the_chases() -> None:
    def row(n: int, state: State, lead: str, chases: int = 0, co: tuple[str, ...] = ()) -> Any:
        return make_row(
            id=f"R-{n:06d}",
            state=state,
            category="noise",
            community="c01",
            tier="7d",
            due_at=CLOCK + 86400,
            received_at=CLOCK - 3600,
            description="楼下施工噪音",
            lead_unit=lead,
            co_units=co,
            chases=chases,
            own_unit=UNIT,
        )

    model = QueueModel(
        [
            row(1, State.dispatched, UNIT),
            row(2, State.dispatched, OTHER, co=(UNIT,)),  # co-handled: in hand, not to sign
            row(3, State.accepted, UNIT, chases=1),
            row(4, State.reopened, UNIT),
            row(5, State.resolved, UNIT, chases=2),  # out of its hands: chased no more
            row(6, State.extended, UNIT),
        ],
        freeze=False,
    )

    def shown(kind: QueueKind) -> list[str]:
        return sorted(r.id[-1] for r in model.apply(kind, now=CLOCK))

    assert shown(QueueKind.to_sign) == ["1", "4"]
    assert shown(QueueKind.in_hand) == ["2", "3", "6"]
    assert shown(QueueKind.back) == ["3", "4"]
    assert shown(QueueKind.all) == ["1", "2", "3", "4", "5", "6"]
    counts = model.counts(CLOCK)
    assert [counts[kind] for kind in UNIT_QUEUES] == [2, 0, 3, 2, 0, 6]


def test_what_a_unit_may_do() -> None:
    assert unit_may("accept", lead_unit=UNIT, unit=UNIT)
    assert not unit_may("accept", lead_unit=OTHER, unit=UNIT)  # the lead signs for it
    assert not unit_may("resolve", lead_unit=OTHER, unit=UNIT)
    assert unit_may("note", lead_unit=OTHER, unit=UNIT)  # a co-unit adds notes
    for action in ("dispatch", "merge", "callback", "close", "reopen", "escalate", "chase", "answer"):
        assert not unit_may(action, lead_unit=UNIT, unit=UNIT)


def test_the_identity_file_is_private_and_a_damaged_one_is_moved_aside(tmp_path: Path) -> None:
    saved = IdentityFile(tmp_path / IDENTITY_FILE)
    assert saved.load() is None
    identity = Identity(name=LOGIN, role=Role.unit, unit=UNIT)
    saved.save(identity)
    assert stat.S_IMODE(os.stat(saved.path).st_mode) == 0o600
    assert IdentityFile(saved.path).load() == identity
    saved.path.write_text("{not json")
    damaged = IdentityFile(saved.path)
    assert damaged.load() is None and "moved to" in damaged.messages[0]
    assert not saved.path.exists()


def test_help_lists_only_what_a_unit_may_do() -> None:
    strings = Strings("zh")

    def hides_centre(binding: Any) -> bool:
        return any(name in binding.action for name in ("dispatch", "merge", "callback", "chase"))

    text = help_text(strings, {}, hides=hides_centre, unit=True).plain
    assert "待签收队列" in text and strings("help.unit") in text
    lines = {line.split()[-1] for line in text.splitlines() if line.startswith("  ")}  # the ids
    assert "request.accept" in lines and not {"request.dispatch", "request.chase"} & lines
    centre = help_text(strings, {}).plain
    assert " request.dispatch\n" in centre and " request.chase\n" in centre and "新诉求队列" in centre


# --------------------------------------------------------------------------- against a server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 60)
    try:
        yield made
    finally:
        made.stop()


def dispatch(server: LiveServer, request_id: str, lead: str, co: tuple[str, ...] = ()) -> None:
    version = server_request(server, request_id).version
    action = Dispatch(lead_unit=lead, co_units=list(co))
    server.store.apply(request_id, action, actor="李强", if_match=version, idempotency_key=None)


def act(server: LiveServer, request_id: str, action: Any) -> None:
    version = server_request(server, request_id).version
    server.store.apply(request_id, action, actor="李强", if_match=version, idempotency_key=None)


def units_requests(server: LiveServer, unit: str) -> set[str]:
    """The ids of the requests `unit` leads or co-handles on the server now."""
    changes, _head = server.store.changes(0, 100_000)
    latest = {change.request.id: change.request for change in changes}
    return {i for i, r in latest.items() if r.lead_unit == unit or unit in r.co_units}


def staged(server: LiveServer) -> tuple[str, str, str]:
    """Three new requests given out by the centre: one to sign for (the unit leads it), one it
    co-handles, one it signed for and was chased about; and one for another unit only."""
    to_sign, co_handled, chased, elsewhere = (
        server.store.create_request(
            NewRequest.model_validate(new_request(description=f"路灯不亮 {n}")),
            actor="李强",
            idempotency_key=None,
        ).request.id
        for n in range(4)
    )
    dispatch(server, to_sign, UNIT)
    dispatch(server, co_handled, OTHER, (UNIT,))
    dispatch(server, chased, UNIT)
    act(server, chased, Accept())
    act(server, chased, Chase(text="居民又来电催问"))
    dispatch(server, elsewhere, OTHER)
    return to_sign, co_handled, chased


def unit_session(server: LiveServer, cache: Path) -> Session:
    token = server.store.create_token(LOGIN, Role.unit, unit=UNIT)
    return Session.open(cache, api_url=server.url, dispatcher=LOGIN, token=token)


@asynccontextmanager
async def noting(
    session: Session, *, lang: str = "zh", sync: bool = True
) -> AsyncIterator[tuple[HotlineApp, Pilot[Any], list[Notification]]]:
    app = HotlineApp(session, strings=Strings("zh" if lang == "zh" else "en"), sync=sync)
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    try:
        async with app.run_test(size=(100, 30), message_hook=keep) as pilot:
            yield app, pilot, notices
    finally:
        session.close()


def queues(app: HotlineApp) -> QueuesScreen:
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    return screen


def bar_text(app: HotlineApp) -> str:
    return str(queues(app).query_one(QueueBar).render())


def on_screen(app: HotlineApp) -> str:
    """What the terminal shows now (the text of a screenshot)."""
    return html.unescape(app.export_screenshot())


async def show_request(pilot: Pilot[Any], app: HotlineApp, request_id: str) -> None:
    await pilot.press("6", "slash", *request_id, "enter")
    await until(pilot, lambda: queues(app).current_request_id() == request_id, what=request_id)


async def test_a_unit_login_opens_on_its_queues_with_only_its_requests(
    server: LiveServer, tmp_path: Path
) -> None:
    to_sign, co_handled, chased = staged(server)
    session = unit_session(server, tmp_path / "cache")
    async with noting(session) as (app, pilot, _notices):
        mine = units_requests(server, UNIT)
        await until(pilot, lambda: app.own_unit == UNIT and synced(app, len(mine)), what="the unit's sync")
        await until(pilot, lambda: app.session.directory is not None, what="the directory")
        # only its unit's requests, every one (once the rows are built for the unit's login)
        await until(pilot, lambda: {row.id for row in app.model.rows()} == mine, what="the unit's rows")
        screen = queues(app)
        await until(pilot, lambda: screen.order == UNIT_QUEUES and screen.kind is QueueKind.to_sign)
        # The rows are built again once the server says whose login it is: the queue settles on
        # the unit's own to-sign requests (what it co-handles is not for it to sign for).
        await until(
            pilot,
            lambda: to_sign in (ids := [r.id for r in screen.table.rows]) and co_handled not in ids,
            what="the to-sign queue",
        )
        assert "待签收" in bar_text(app) and "新 " not in bar_text(app)
        await until(pilot, lambda: UNIT_NAME in on_screen(app), what="the unit in the status bar")
        await pilot.press("3")  # in hand: what it signed for, and what it co-handles
        await until(pilot, lambda: screen.kind is QueueKind.in_hand)
        assert {co_handled, chased} <= {r.id for r in screen.table.rows}
        await pilot.press("4")  # came back: chased
        await until(pilot, lambda: screen.kind is QueueKind.back)
        assert chased in [r.id for r in screen.table.rows]
        row = app.model.get(chased)
        assert row is not None and row.chases == 1
        await pilot.press("b")  # its dashboard: its own numbers
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        board = app.screen
        assert isinstance(board, DashboardScreen)
        await until(pilot, lambda: board.report is not None and board.report.online, what="the report")
        assert board.report is not None and {u.unit for u in board.report.units} <= {UNIT}
    saved = IdentityFile(tmp_path / "cache" / IDENTITY_FILE)
    assert saved.load() == Identity(name=LOGIN, role=Role.unit, unit=UNIT)
    assert stat.S_IMODE(os.stat(saved.path).st_mode) == 0o600


async def test_a_unit_signs_for_and_resolves_and_the_centres_keys_say_so(
    server: LiveServer, tmp_path: Path
) -> None:
    to_sign, co_handled, _chased = staged(server)
    session = unit_session(server, tmp_path / "cache")
    async with noting(session) as (app, pilot, notices):
        mine = units_requests(server, UNIT)
        await until(pilot, lambda: app.own_unit == UNIT and synced(app, len(mine)), what="the unit's sync")
        await show_request(pilot, app, to_sign)
        assert app.check_action("transition", ("dispatch",)) is False  # hidden from the footer
        assert app.check_action("merge", ()) is False and app.check_action("intake", ()) is False
        footer = {b.binding.id for b in app.screen.active_bindings.values()}
        assert "request.accept" in footer and "request.dispatch" not in footer
        palette = {c.title for c in palette_commands(app, app.screen)}
        assert "签收 (a)" in palette and not {"派单 (d)", "并单 (m)", "催办 (h)"} & palette
        for key in ("d", "x", "i", "D"):  # dispatch, close, take a call, duplicates
            await pilot.press(key)
        # what was said, once each (a notice shown again when an older one gives way counts once)
        await until(pilot, lambda: len({n.message for n in notices}) >= 4, what="four refusals")
        said = list(dict.fromkeys(n.message for n in notices))[-4:]
        assert said[0] == "承办单位账号不能派单：由中心办理"
        assert all(s.startswith("承办单位账号不能") for s in said)
        assert isinstance(app.screen, QueuesScreen)  # no dialog opened
        assert session.store.counts()[1] == 0  # nothing recorded

        await pilot.press("a")  # sign for
        await until(pilot, lambda: server_request(server, to_sign).state is State.accepted, what="accept")
        await pilot.press("s")
        await until(pilot, lambda: type(app.screen).__name__ == "ResolveDialog", what="the resolve dialog")
        await until(pilot, lambda: app.screen.focused is not None)
        await pilot.press(*"已清理完毕", "enter")
        await until(pilot, lambda: server_request(server, to_sign).state is State.resolved, what="resolve")
        events = server.store.audit(to_sign)
        assert [e.action for e in events[-2:]] == ["accept", "resolve"]
        assert {e.actor for e in events[-2:]} == {LOGIN}

        await show_request(pilot, app, co_handled)  # co-handled: the lead signs for it
        count = len(notices)
        await pilot.press("a")
        await until(pilot, lambda: len(notices) > count, what="the co-unit's refusal")
        assert "只有主办单位" in notices[-1].message
        assert server_request(server, co_handled).state is State.dispatched


async def test_an_offline_start_opens_as_the_unit_it_was(server: LiveServer, tmp_path: Path) -> None:
    staged(server)
    cache = tmp_path / "cache"
    mine = units_requests(server, UNIT)

    def shows_mine(app: HotlineApp) -> bool:
        return app.loaded and {row.id for row in app.model.rows()} == mine

    async with noting(unit_session(server, cache)) as (app, pilot, _notices):
        await until(pilot, lambda: app.own_unit == UNIT and synced(app), what="the identity and a sync")
        await until(pilot, lambda: shows_mine(app), what="the unit's rows")
        # the directory came and was kept (the unit's name is in it): an offline start can name it
        await until(pilot, lambda: UNIT_NAME in on_screen(app), what="the unit named online")
    server.stop()
    offline = Session.open(cache, api_url=server.url, dispatcher=LOGIN, token=None)
    async with noting(offline, sync=False) as (app, pilot, _notices):
        assert app.own_unit == UNIT  # before any server answers
        await until(pilot, lambda: shows_mine(app), what="the cached rows")
        screen = queues(app)
        assert screen.order == UNIT_QUEUES and screen.kind is QueueKind.to_sign
        assert "待签收" in bar_text(app)
        await until(pilot, lambda: UNIT_NAME in on_screen(app), what="the unit in the status bar")


def test_hotline_learns_a_units_login_before_the_app_opens(server: LiveServer, tmp_path: Path) -> None:
    token = server.store.create_token(LOGIN, Role.unit, unit=UNIT)
    settings = load_settings(tmp_path / "hotline.toml", api_url=server.url)
    session = Session.open(tmp_path / "cache", api_url=server.url, dispatcher=LOGIN, token=token)
    try:
        _learn_identity(settings, token, session)
        assert session.own_unit == UNIT
    finally:
        session.close()
    server.stop()  # unreachable: left to the app, which asks once online
    session = Session.open(tmp_path / "other", api_url=server.url, dispatcher=LOGIN, token=token)
    try:
        _learn_identity(settings, token, session)
        assert session.identity is None
    finally:
        session.close()


# --------------------------------------------------------------------------- what it looks like


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    return seeded_central(tmp_path_factory.mktemp("central"), 60)


def test_the_units_queue_at_80x24_in_chinese(
    snap_compare: Compare, central: Central, tmp_path: Path, fixed_zone: None
) -> None:
    """The unit's login offline on what its unit has: its queues, the chase mark, its name."""
    unit = "st-enforce"
    changes = [c for c in central.page.changes if c.request.lead_unit == unit or unit in c.request.co_units]
    last = central.page.head
    accepted = next(c.request for c in reversed(changes) if c.request.state is State.accepted)
    chased = accepted.model_copy(
        update={"chases": 2, "version": accepted.version + 1, "change_seq": last + 1}
    )
    changes.append(Change(seq=last + 1, action="chase", request=chased))
    page = ChangesPage(changes=changes, next_since=last + 1, head=last + 1, has_more=False)
    mine = Central(page=page, directory=central.directory)
    with cached_session(mine, tmp_path / "cache") as session:
        session.set_identity(Identity(name="城管执法队值班", role=Role.unit, unit=unit))
        app = frozen_app(session, "zh")

        async def run_before(pilot: Pilot[Any]) -> None:
            await until(pilot, lambda: app.loaded and isinstance(app.screen, QueuesScreen), what="the queues")
            await pilot.press("6")
            screen = queues(app)
            await until(pilot, lambda: screen.table.row_count == len({c.request.id for c in changes}))

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
