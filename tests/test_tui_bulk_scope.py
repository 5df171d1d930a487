"""A bulk action asks once, and says how many requests it will act on and how many of the marked
ones it skips (the action does not apply to them now) before anything runs; only the ones it
applies to are acted on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until

from api_client.actions import Dispatch
from api_client.models import Channel, Location, NewRequest, RequestType, State
from central_api.server import LiveServer
from central_api.store import RequestFilter
from tui.core.i18n import Strings
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.screens.transitions import ConfirmDialog, RequestHeader

MARKER = "批量范围"
MARKED = 9
ELSEWHERE = 3  # dispatched by a colleague before the marks: accept applies to these only


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 10)
    try:
        ids = [
            made.store.create_request(
                NewRequest(
                    channel=Channel.phone,
                    type=RequestType.help,
                    category="roof_leak",
                    description=f"{MARKER}：德胜里{i + 1}号楼顶层漏雨",
                    location=Location(community="c01", address=f"德胜里{i + 1}号楼"),
                ),
                actor="话务-测试",
                idempotency_key=None,
            ).request.id
            for i in range(MARKED)
        ]
        for request_id in ids[:ELSEWHERE]:
            version = server_request(made, request_id).version
            made.store.apply(
                request_id, Dispatch(lead_unit="cc01"), actor="李强", if_match=version, idempotency_key=None
            )
        yield made
    finally:
        made.stop()


def marked_in(server: LiveServer, state: State) -> int:
    requests = server.store.list_requests(RequestFilter())
    return sum(1 for r in requests if MARKER in r.description and r.state is state)


def header_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return str(screen.query_one(RequestHeader).render())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_bulk_accept_names_the_count_and_the_skipped_and_acts_on_the_rest(
    server: LiveServer, tmp_path: Path, lang: str
) -> None:
    strings = Strings(lang)
    async with running_app(open_session(server, tmp_path), lang=lang, size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: synced(app, 10 + MARKED), what="the first sync")
        screen = app.screen
        assert isinstance(screen, QueuesScreen)
        await pilot.press("6", "slash", *MARKER, "enter")
        await until(pilot, lambda: screen.table.row_count == MARKED)
        await pilot.press("asterisk")
        assert len(screen.marked) == MARKED
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), what="one question")
        action = strings.action("accept")
        lines = header_text(app).splitlines()
        prefix = strings("bulk.scope", action=action, n=ELSEWHERE, first="\0").split("\0")[0]
        assert lines[0].startswith(prefix) and lines[0].removeprefix(prefix).startswith("R-")
        assert lines[1] == strings("bulk.scope_skipped", n=MARKED - ELSEWHERE, action=action)
        assert marked_in(server, State.dispatched) == ELSEWHERE  # nothing ran yet
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen))
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        assert len(bulk.items) == ELSEWHERE
        await until(pilot, lambda: bulk.done, timeout=30, what="every item answered")
        assert set(bulk.results) == {strings("bulk.sent")}
        assert marked_in(server, State.accepted) == ELSEWHERE
        assert marked_in(server, State.new) == MARKED - ELSEWHERE


async def test_a_bulk_dispatch_dialog_says_how_many_instead_of_one_id(
    server: LiveServer, tmp_path: Path
) -> None:
    strings = Strings("zh")
    async with running_app(open_session(server, tmp_path), lang="zh", size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: synced(app, 10 + MARKED), what="the first sync")
        screen = app.screen
        assert isinstance(screen, QueuesScreen)
        await pilot.press("6", "slash", *MARKER, "enter")
        await until(pilot, lambda: screen.table.row_count == MARKED)
        await pilot.press("asterisk", "d")
        await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog")
        lines = header_text(app).splitlines()
        action = strings.action("dispatch")
        assert lines[0].startswith(f"批量{action}：共 {MARKED} 件（R-")  # a dispatch again is allowed too
        assert lines[1] == strings("bulk.scope_all", action=action)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen))
