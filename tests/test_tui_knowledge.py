"""Direct answers in the app against a real central API, by keys: an enquiry answered from the
knowledge base on the queue (`K`, pick, yes), online and offline (sent once when the server is
back); what the picker refuses; the detail naming the entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until
from textual.pilot import Pilot
from textual.widgets import Static

from api_client.models import Channel, LocationIn, NewRequest, RequestType, State
from central_api.server import LiveServer
from tui.core.i18n import Strings
from tui.ui.app import HotlineApp
from tui.ui.palette import palette_commands
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.help import help_text
from tui.ui.screens.knowledge import KnowledgePicker
from tui.ui.screens.queues import QueuesScreen
from tui.ui.screens.transitions import ConfirmDialog


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 20)
    try:
        yield made
    finally:
        made.stop()


def enquiry(server: LiveServer, text: str = "您好，想问一下我妈申请低保要带什么材料", **changes: Any) -> str:
    new = NewRequest(
        channel=Channel.phone,
        type=changes.pop("type", RequestType.enquiry),
        category=changes.pop("category", "policy_enquiry"),
        description=text,
        location=LocationIn(community="c01", street="德胜里一区", address="德胜里一区 3 号楼"),
    )
    return server.store.create_request(new, actor="接线员", idempotency_key=None).request.id


def ready(app: HotlineApp, count: int) -> bool:
    return synced(app, count) and app.session.knowledge is not None


async def show_request(pilot: Pilot[Any], app: HotlineApp, request_id: str) -> None:
    await pilot.press("6", "slash", *request_id, "enter")
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    await until(pilot, lambda: screen.current_request_id() == request_id, what=request_id)


async def picker_on(pilot: Pilot[Any], app: HotlineApp) -> KnowledgePicker:
    await until(pilot, lambda: isinstance(app.screen, KnowledgePicker), what="the picker")
    picker = app.screen
    assert isinstance(picker, KnowledgePicker)
    await until(pilot, lambda: bool(picker.matches), what="the picker's matches")
    return picker


async def answer_by_keys(pilot: Pilot[Any], app: HotlineApp, request_id: str) -> None:
    await show_request(pilot, app, request_id)
    assert app.check_action("answer", ()) is True
    await pilot.press("K")
    picker = await picker_on(pilot, app)
    assert picker.matches[0].id == "kb-dibao"  # found from the request's own words
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="the confirmation")
    await pilot.press("y")


async def test_an_enquiry_answered_from_the_queue_by_keys(server: LiveServer, tmp_path: Path) -> None:
    request_id = enquiry(server)
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: ready(app, 21), what="the first sync and the knowledge base")
        await answer_by_keys(pilot, app, request_id)
        await until(pilot, lambda: server_request(server, request_id).state is State.closed, what="sent")
        sent = server_request(server, request_id)
        assert sent.answered_with == "kb-dibao" and sent.dispatched_at is None
        await until(pilot, lambda: not app.model.get(request_id).unsent)  # type: ignore[union-attr]
        assert [e.action for e in server.store.audit(request_id)].count("answer") == 1

        await pilot.press("enter")  # the detail names the entry
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), what="the detail")
        detail = app.screen.query_one("#detail", Static)
        await until(pilot, lambda: "Answered directly with" in str(detail.render()), what="the detail")
        assert "最低生活保障（低保）申请条件和办理" in str(detail.render())


async def test_offline_the_answer_waits_and_is_sent_once(server: LiveServer, tmp_path: Path) -> None:
    request_id = enquiry(server)
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: ready(app, 21), what="the first sync and the knowledge base")
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online, what="offline")
        await answer_by_keys(pilot, app, request_id)
        await until(pilot, lambda: app.model.get(request_id).unsent)  # type: ignore[union-attr]
        assert app.model.get(request_id).state is State.closed  # type: ignore[union-attr]

        server.restart()
        await until(pilot, lambda: synced(app), timeout=30, what="the server to come back")
        assert server_request(server, request_id).answered_with == "kb-dibao"
        assert [e.action for e in server.store.audit(request_id)].count("answer") == 1


async def test_the_picker_never_picks_an_entry_out_of_force(server: LiveServer, tmp_path: Path) -> None:
    request_id = enquiry(server, "去年冬天的临时采暖补助还能申请吗")
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: ready(app, 21), what="the first sync and the knowledge base")
        await show_request(pilot, app, request_id)
        await pilot.press("K")
        picker = await picker_on(pilot, app)
        ids = [entry.id for entry in picker.matches]
        assert "kb-gongnuan-linshi-2025" in ids  # expired: shown, marked, after those in force
        await pilot.press(*["down"] * ids.index("kb-gongnuan-linshi-2025"), "enter")
        assert isinstance(app.screen, KnowledgePicker)
        assert "expired" in str(app.screen.query_one("#error", Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen))
        assert app.model.get(request_id).state is State.new  # type: ignore[union-attr]
        assert app.session.store.counts()[1] == 0


async def test_only_a_new_enquiry_offers_the_key(server: LiveServer, tmp_path: Path) -> None:
    help_id = enquiry(server, "楼上漏水", type=RequestType.help, category="roof_leak")
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        await until(pilot, lambda: ready(app, 21), what="the first sync and the knowledge base")
        await show_request(pilot, app, help_id)
        offered = [c for c in palette_commands(app, app.screen) if "直接答复" in c.words]
        assert [c.title for c in offered] == ["Answer directly (K)"]
        await pilot.press("K")  # new, but not an enquiry: said, and nothing opens
        await pilot.pause(0.2)
        assert isinstance(app.screen, QueuesScreen)
        closed = next(row.id for row in app.model.rows() if row.state is State.closed)
        await show_request(pilot, app, closed)
        assert app.check_action("answer", ()) is False


def test_the_key_is_in_the_help_in_both_languages() -> None:
    for strings, words in ((Strings("en"), "Answer directly"), (Strings("zh"), "直接答复")):
        shown = help_text(strings, {}).plain
        line = next(line for line in shown.splitlines() if "request.answer" in line)
        assert "K" in line and words in line
    assert "request.answer" in help_text(Strings("en"), {"request.answer": "ctrl+k"}).plain
