"""Bulk actions from the queue: mark with space / V / *, one dialog, one durable write, then
followed to the server; merge and unmerge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until

from api_client.actions import Accept, Dispatch, Resolve
from api_client.models import Channel, Location, NewRequest, RequestType, Role, State, Tier
from central_api.server import LiveServer
from central_api.store import RequestFilter
from tui.core.session import Session
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.queues import QueuesScreen

STORM = 500
MARKER = "暴雨批量"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 20)
    try:
        store = made.store
        with store.batch():
            for i in range(STORM):
                store.create_request(
                    NewRequest(
                        channel=Channel.phone,
                        type=RequestType.help,
                        category="roof_leak",
                        description=f"{MARKER}：德胜里{i % 40 + 1}号楼顶层漏雨",
                        location=Location(community="c01", address=f"德胜里{i % 40 + 1}号楼"),
                    ),
                    actor="话务-测试",
                    idempotency_key=None,
                )
        yield made
    finally:
        made.stop()


def queues_of(app: object) -> QueuesScreen:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, QueuesScreen)
    return screen


def dispatches(server: LiveServer, request_id: str) -> int:
    return [event.action for event in server.store.audit(request_id)].count("dispatch")


async def test_bulk_dispatch_of_500_marked_requests(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session, size=(120, 40)) as (app, pilot):
        await until(pilot, lambda: synced(app, 20 + STORM), timeout=30, what="the first sync")
        screen = queues_of(app)
        await pilot.press("1", "slash", *MARKER, "enter")
        await until(pilot, lambda: screen.table.row_count == STORM)
        await pilot.press("asterisk")
        assert len(screen.marked) == STORM and app.check_action("transition", ("dispatch",))
        # the server goes away first: everything must be in the outbox and nothing shown as sent
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online)
        await pilot.press("d")
        await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog")
        await pilot.press("c", "c", "0", "1", "enter", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen))
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        await until(pilot, lambda: len(bulk.keys) == STORM, what="all recorded")
        assert screen.marked == []  # the marks are used up
        assert session.store.counts()[1] == STORM
        assert {action.key for action in session.store.pending()} == set(bulk.keys.values())
        progress = bulk.query_one("#bulk-progress")
        assert progress.total == STORM and progress.progress == 0 and not bulk.done  # type: ignore[attr-defined]
        assert set(bulk.results) == {app.strings("bulk.queued")}
        server.restart()
        await until(pilot, lambda: bulk.done, timeout=60, what="every item answered")
        assert progress.progress == progress.total == STORM  # type: ignore[attr-defined]
        assert session.store.counts()[1] == 0
        assert set(bulk.results) == {app.strings("bulk.sent")}
        ids = [request_id for request_id, _ in bulk.items]
        for request_id in ids:
            request = server_request(server, request_id)
            assert request.state is State.dispatched and request.lead_unit == "cc01"
        assert {dispatches(server, request_id) for request_id in ids} == {1}
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueuesScreen))
        await until(pilot, lambda: screen.table.row_count == 0)  # none is new any more


async def test_an_interrupted_bulk_action_is_sent_after_a_restart(server: LiveServer, tmp_path: Path) -> None:
    session = open_session(server, tmp_path)
    cache = session.store.directory
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 20 + STORM), timeout=30)
        screen = queues_of(app)
        await pilot.press("1", "slash", *MARKER, "enter")
        await until(pilot, lambda: screen.table.row_count == STORM)
        server.stop()
        await until(pilot, lambda: app.last_status is not None and not app.last_status.online)
        # the first ten by space, the next ones as a range with V
        await pilot.press(*["space"] * 10, "j", "j", "V")
        assert len(screen.marked) == 13
        await pilot.press("a")  # accept is refused for new requests: the key does nothing
        await pilot.press("n")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteDialog")
        await pilot.press(*"bulk", "enter")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen) and len(app.screen.keys) == 13)
        assert session.store.counts()[1] == 13
        # the app ends before anything was sent
    server.restart()
    token = server.store.create_token("张敏 (again)", Role.dispatcher)
    again = Session.open(cache, api_url=server.url, dispatcher="张敏", token=token)
    async with running_app(again) as (app, pilot):
        await until(pilot, lambda: synced(app), timeout=30, what="the restart's sync")
    everything = server.store.list_requests(RequestFilter(limit=10_000))
    noted = [r for r in everything if any(n.text == "bulk" for n in r.notes)]
    assert len(noted) == 13
    assert all(sum(n.text == "bulk" for n in r.notes) == 1 for r in noted)


async def test_merge_marked_requests_into_the_one_under_the_cursor_and_unmerge(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 20 + STORM), timeout=30)
        screen = queues_of(app)
        await pilot.press("1", "slash", *MARKER, "enter")
        await until(pilot, lambda: screen.table.row_count == STORM)
        await pilot.press("space", "space", "space")  # three children, the cursor on the fourth
        children = list(screen.marked)
        parent = screen.current_request_id()
        assert parent is not None and parent not in children
        callers = {child: server_request(server, child).caller for child in children}
        await pilot.press("m")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen))
        bulk = app.screen
        assert isinstance(bulk, BulkScreen)
        await until(pilot, lambda: bulk.done, timeout=30)
        for child in children:
            request = server_request(server, child)
            assert request.state is State.merged and request.merged_into == parent
            assert request.caller == callers[child]  # the caller is kept
        await pilot.press("escape", "escape", "6", "slash", *children[0], "enter")
        await until(pilot, lambda: screen.current_request_id() == children[0])
        assert app.check_action("unmerge", ()) is True
        await pilot.press("u")
        await until(pilot, lambda: server_request(server, children[0]).state is State.new, timeout=20)
        assert [server_request(server, child).state for child in children[1:]] == [State.merged] * 2

        # The parent is handled and resolved: the two still merged are resolved with it, and
        # each caller waits for a callback of their own.
        for action in (Dispatch(lead_unit="cc01"), Accept(), Resolve(summary="已统一修复")):
            version = server_request(server, parent).version
            server.store.apply(parent, action, actor="李强", if_match=version, idempotency_key=None)
        handled = {parent, *children[1:]}
        await until(pilot, lambda: all(app.model.get(r).state is State.resolved for r in handled))  # type: ignore[union-attr]
        await pilot.press("escape", "4")
        await until(
            pilot, lambda: {row.id for row in screen.table.rows} >= handled, what="the callback queue"
        )
        assert children[0] not in {row.id for row in screen.table.rows}
        await pilot.press("slash", *children[1], "enter")
        await until(pilot, lambda: screen.current_request_id() == children[1])
        assert app.check_action("transition", ("callback",)) is True
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.request is not None)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(pilot, lambda: f"with {parent}" in str(detail.query_one("#detail").render()))
        assert callers[children[1]].name in str(detail.query_one("#detail").render())


async def test_a_duplicate_cluster_is_found_and_merged_into_its_parent(tmp_path: Path) -> None:
    made = seeded_server(tmp_path, 10)
    try:
        reports = [
            ("王女士", "德胜里3号楼", "德胜里3号楼顶楼漏雨，雨水顺着墙往下流，家里全湿了"),
            ("李先生", "德胜里小区3号楼2单元", "3号楼顶层漏雨很严重，墙面都泡了，请尽快处理"),
            ("赵大爷", "德胜里３号楼", "我们3号楼楼顶漏雨，顶楼好几家都进水了"),
        ]
        ids = []
        for name, address, text in reports:
            ids.append(
                made.store.create_request(
                    NewRequest(
                        channel=Channel.phone,
                        type=RequestType.help,
                        category="roof_leak",
                        description=text,
                        location=Location(community="c01", address=address),
                        caller={"name": name, "phone": "13900001111"},  # type: ignore[arg-type]
                    ),
                    actor="话务-测试",
                    idempotency_key=None,
                ).request.id
            )
        session = open_session(made, tmp_path)
        async with running_app(session) as (app, pilot):
            await until(pilot, lambda: synced(app, 13))
            await pilot.press("D")
            await until(pilot, lambda: type(app.screen).__name__ == "DuplicatesScreen")
            screen = app.screen
            await until(pilot, lambda: bool(screen.clusters))  # type: ignore[attr-defined]
            cluster = next(c for c in screen.clusters if set(c.member_ids) == set(ids))  # type: ignore[attr-defined]
            assert cluster.parent_id == ids[0]  # the earliest report
            while screen.current_request_id() != cluster.parent_id:  # type: ignore[attr-defined]
                await pilot.press("down")
            # 提级响应: the whole cluster to the 2-hour tier, one reason for all
            await pilot.press("exclamation_mark")
            await until(pilot, lambda: type(app.screen).__name__ == "EscalateDialog")
            await pilot.press(*"roof", "enter")
            await until(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.done, timeout=20)
            assert {server_request(made, r).tier for r in ids} == {Tier.h2}
            await pilot.press("escape")
            await until(pilot, lambda: type(app.screen).__name__ == "DuplicatesScreen")
            await until(pilot, lambda: screen.current_request_id() == cluster.parent_id)  # type: ignore[attr-defined]
            await pilot.press("m")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.done, timeout=20)
            for child in ids[1:]:
                request = server_request(made, child)
                assert request.state is State.merged and request.merged_into == ids[0]
                assert request.caller.name in {"李**", "赵**"}  # each keeps its caller (masked)
            await pilot.press("escape")
            await until(pilot, lambda: not any(set(c.member_ids) == set(ids) for c in screen.clusters))  # type: ignore[attr-defined]
    finally:
        made.stop()


async def test_a_surge_of_arrivals_shows_a_banner(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from tui.ui.widgets.surge_banner import SurgeBanner

    made = seeded_server(tmp_path, 10)
    try:
        session = open_session(made, tmp_path)
        async with running_app(session, size=(120, 30)) as (app, pilot):
            await until(pilot, lambda: synced(app, 10) and session.directory is not None)
            banner = queues_of(app).query_one(SurgeBanner)
            assert not banner.has_class("-surging")
            now = datetime.now(UTC)
            with made.store.batch():
                for i in range(30):  # a storm: 30 roof leaks in 德胜里 within ten minutes
                    made.store.create_request(
                        NewRequest(
                            channel=Channel.phone,
                            type=RequestType.help,
                            category="roof_leak",
                            description=f"德胜里{i}号楼漏雨",
                            location=Location(community="c01", address=f"德胜里{i}号楼"),
                            received_at=now - timedelta(seconds=20 * i),
                        ),
                        actor="话务-测试",
                        idempotency_key=None,
                    )
            # shown, and laid out at the screen's width (hidden, it had none)
            await until(pilot, lambda: banner.has_class("-surging"), timeout=20, what="the banner")
            await until(pilot, lambda: banner.size.width == app.size.width, what="the banner's width")
            shown = str(banner.render())
            assert session.names.categories["roof_leak"] in shown and "德胜里" in shown
            assert {s.key for s in banner.surges} >= {"roof_leak", "c01"}
    finally:
        made.stop()


async def test_merge_all_merges_every_cluster_into_its_own_parent(tmp_path: Path) -> None:
    made = seeded_server(tmp_path, 10)
    try:
        groups: list[list[str]] = []
        for building in (3, 7):
            ids = []
            for n, (name, text) in enumerate(
                (("王女士", "顶楼漏雨，墙都湿了"), ("李先生", "楼顶漏雨很严重"), ("赵大爷", "顶层漏雨进水了"))
            ):
                ids.append(
                    made.store.create_request(
                        NewRequest(
                            channel=Channel.phone,
                            type=RequestType.help,
                            category="roof_leak",
                            description=f"德胜里{building}号楼{text}",
                            location=Location(community="c01", address=f"德胜里{building}号楼{n + 1}单元"),
                            caller={"name": name, "phone": f"1390000{building}{n:03d}"},  # type: ignore[arg-type]
                        ),
                        actor="话务-测试",
                        idempotency_key=None,
                    ).request.id
                )
            groups.append(ids)
        session = open_session(made, tmp_path)
        async with running_app(session) as (app, pilot):
            await until(pilot, lambda: synced(app, 16))
            await pilot.press("D")
            await until(pilot, lambda: type(app.screen).__name__ == "DuplicatesScreen")
            screen = app.screen
            await until(pilot, lambda: len(screen.clusters) >= 2)  # type: ignore[attr-defined]
            await pilot.press("M")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.done, timeout=20)
        for ids in groups:
            assert [server_request(made, child).merged_into for child in ids[1:]] == [ids[0], ids[0]]
    finally:
        made.stop()
