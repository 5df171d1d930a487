"""The `D` screen as a dispatcher found it in a storm, fixed: each through the app against a real
server (reports written into its store, synced, then keys pressed).

- a request resolved, closed or merged is in no cluster, so merging is never refused for one,
  and a merged cluster is gone when the clusters are found again;
- after a merge or an escalation the cursor stays where the dispatcher was: the next `m` merges
  the cluster under it, not the first one;
- `!` is not offered on a cluster already at the 2-hour tier;
- each member shows its place, time and what the caller said (without the greetings), and why the
  cluster was grouped;
- a member can be taken out before the merge, which then leaves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from api_client.actions import Accept, Action, Dispatch, Escalate, Merge, Resolve
from api_client.models import Channel, LocationIn, NewRequest, RequestType, State, Tier
from central_api.server import LiveServer
from tui.core.i18n import Strings
from tui.ui.app import HotlineApp
from tui.ui.palette import app_commands
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.duplicates import DuplicatesScreen, substance
from tui.ui.screens.help import help_text

SEEDED = 10
#: What three neighbours under one leaking roof say (the first opens as callers do).
ROOF = (
    ("王女士", "喂，您好，我反映个事儿，{b}号楼顶楼漏雨，雨水顺着墙往下流，家里全湿了"),
    ("李先生", "{b}号楼顶层漏雨很严重，墙面都泡了，请尽快处理"),
    ("赵大爷", "我们{b}号楼楼顶漏雨，顶楼好几家都进水了"),
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, SEEDED)
    try:
        yield made
    finally:
        made.stop()


def roof_leak(
    server: LiveServer, building: int, reports: int = 3, *, at: datetime | None = None
) -> list[str]:
    """Reports of one leaking roof at 德胜里`building`号楼, a few minutes apart: their ids, oldest first."""
    start = at or datetime.now(UTC) - timedelta(hours=1)
    ids = []
    for n in range(reports):
        name, text = ROOF[n % len(ROOF)]
        new = NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="roof_leak",
            description=text.format(b=building),
            location=LocationIn(community="c01", address=f"德胜里{building}号楼{n + 1}单元"),
            caller={"name": name, "phone": f"1390000{building:02d}{n:02d}"},  # type: ignore[arg-type]
            received_at=start + timedelta(minutes=3 * n),
        )
        ids.append(server.store.create_request(new, actor="话务-测试", idempotency_key=None).request.id)
    return ids


def act(server: LiveServer, request_id: str, *actions: Action) -> None:
    for action in actions:
        version = server_request(server, request_id).version
        server.store.apply(request_id, action, actor="李强", if_match=version, idempotency_key=None)


async def duplicates(pilot: Pilot[Any], app: HotlineApp, count: int) -> DuplicatesScreen:
    await until(pilot, lambda: synced(app, count), timeout=30, what="the first sync")
    await pilot.press("D")
    await until(pilot, lambda: isinstance(app.screen, DuplicatesScreen), what="the D screen")
    screen = app.screen
    assert isinstance(screen, DuplicatesScreen)
    await until(pilot, lambda: bool(screen.clusters), what="clusters")
    return screen


def cluster_of(screen: DuplicatesScreen, request_id: str) -> tuple[str, ...] | None:
    return next((c.member_ids for c in screen.clusters if request_id in c.member_ids), None)


async def go_to(pilot: Pilot[Any], screen: DuplicatesScreen, parent: str) -> None:
    """Move the cursor of the cluster list to the cluster of `parent`."""
    target = next(i for i, c in enumerate(screen.clusters) if c.parent_id == parent)
    options = screen.query_one("#duplicates", OptionList)
    while options.highlighted != target:
        await pilot.press("down" if (options.highlighted or 0) < target else "up")


async def confirm_and_send(pilot: Pilot[Any], app: HotlineApp) -> BulkScreen:
    await until(pilot, lambda: type(app.screen).__name__ in {"ConfirmDialog", "EscalateDialog"})
    if type(app.screen).__name__ == "EscalateDialog":
        await pilot.press(*"storm", "enter")
    else:
        await pilot.press("y")
    await until(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.done, timeout=20)
    bulk = app.screen
    assert isinstance(bulk, BulkScreen)
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, DuplicatesScreen))
    return bulk


async def test_handled_requests_are_in_no_cluster_and_a_merged_cluster_is_gone(
    server: LiveServer, tmp_path: Path
) -> None:
    first, resolved, second, merged = roof_leak(server, 3, 4)
    act(server, resolved, Dispatch(lead_unit="pm01"), Accept(), Resolve(summary="已修好"))
    act(server, merged, Merge(parent_id=first))
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 4)
        assert cluster_of(screen, first) == (first, second)  # neither the resolved nor the merged one
        assert cluster_of(screen, resolved) is None and cluster_of(screen, merged) is None
        await go_to(pilot, screen, first)
        await pilot.press("m")
        bulk = await confirm_and_send(pilot, app)
        assert bulk.refused == {} and len(bulk.keys) == 1  # nothing the server could refuse
        assert server_request(server, second).merged_into == first
        await until(pilot, lambda: cluster_of(screen, first) is None, what="the merged cluster to go")
        before = screen.clusters
        await pilot.press("r")  # found again: still gone
        await until(pilot, lambda: screen.clusters is not before, what="the clusters found again")
        assert cluster_of(screen, first) is None


async def test_after_a_merge_or_an_escalation_the_cursor_stays_in_place(
    server: LiveServer, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    # three clusters of the same size: listed by their parents' ids, the order they were made in
    clusters = [
        roof_leak(server, building, at=start + timedelta(minutes=20 * n))
        for n, building in enumerate((3, 5, 7))
    ]
    top, middle, bottom = (ids[0] for ids in clusters)
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 9)
        await until(pilot, lambda: all(cluster_of(screen, parent) for parent in (top, middle, bottom)))
        order = [c.parent_id for c in screen.clusters]
        assert order.index(top) < order.index(middle) < order.index(bottom)
        await go_to(pilot, screen, middle)
        at = screen.query_one("#duplicates", OptionList).highlighted

        await pilot.press("m")
        await confirm_and_send(pilot, app)
        await until(pilot, lambda: cluster_of(screen, middle) is None, what="the merged cluster to go")
        assert screen.current_request_id() == bottom  # the next cluster took its place
        assert screen.query_one("#duplicates", OptionList).highlighted == at

        await pilot.press("exclamation_mark")  # 提级响应 for the cluster under the cursor
        await confirm_and_send(pilot, app)
        assert {server_request(server, r).tier for r in clusters[2]} == {Tier.h2}
        await until(pilot, lambda: not screen.check_action("escalate", ()), what="the new tiers")
        assert screen.current_request_id() == bottom  # still there

        await pilot.press("m")  # the next `m` merges the cluster under the cursor
        await confirm_and_send(pilot, app)
        assert [server_request(server, r).merged_into for r in clusters[2][1:]] == [bottom, bottom]
        assert all(server_request(server, r).state is State.new for r in clusters[0])  # untouched


async def test_escalate_is_not_offered_on_a_cluster_at_the_two_hour_tier(
    server: LiveServer, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(hours=2)
    urgent = roof_leak(server, 3, 2, at=start)
    partly = roof_leak(server, 5, 2, at=start + timedelta(minutes=30))
    for request_id in (*urgent, partly[0]):
        act(server, request_id, Escalate(reason="暴雨"))
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 4)
        await until(pilot, lambda: bool(cluster_of(screen, urgent[0]) and cluster_of(screen, partly[0])))

        await go_to(pilot, screen, urgent[0])
        await pilot.pause()
        assert screen.check_action("escalate", ()) is False
        assert app.check_action("transition", ("escalate",)) is False  # nor the app's `!` on its parent
        keys = {active.binding.id for active in screen.active_bindings.values() if active.enabled}
        assert "duplicates.escalate" not in keys and "duplicates.merge" in keys
        await pilot.press("exclamation_mark")
        await pilot.pause(0.3)
        assert app.screen is screen  # no dialog

        await go_to(pilot, screen, partly[0])
        await pilot.pause()
        assert screen.check_action("escalate", ()) is True
        await pilot.press("exclamation_mark")
        bulk = await confirm_and_send(pilot, app)
        assert [request_id for request_id, _ in bulk.items] == [partly[1]]  # only the one not at 2 h
        assert server_request(server, partly[1]).tier is Tier.h2


async def test_members_show_place_time_what_was_said_and_why_they_were_grouped(
    server: LiveServer, tmp_path: Path
) -> None:
    ids = roof_leak(server, 3)
    async with running_app(open_session(server, tmp_path), lang="zh", size=(100, 30)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 3)
        await until(pilot, lambda: cluster_of(screen, ids[0]) is not None)
        await go_to(pilot, screen, ids[0])
        members = screen.query_one("#duplicates-members", OptionList)
        await until(pilot, lambda: members.option_count == 3)
        shown = [str(members.get_option_at_index(i).prompt) for i in range(3)]
        for request_id, line, n in zip(ids, shown, range(3), strict=True):
            row = app.model.get(request_id)
            assert row is not None
            assert request_id in line and f"德胜里3号楼{n + 1}单元" in line
            assert datetime.fromtimestamp(row.received_at).strftime("%H:%M") in line
        assert shown[0].startswith("主单") and "3号楼顶楼漏雨，雨水顺着墙往下流" in shown[0]
        assert "喂" not in shown[0] and "反映个事儿" not in shown[0]
        why = str(screen.query_one("#duplicates-why", Static).content)
        assert ids[0] in why and "同一栋楼" in why and "同一问题" in why


def test_the_substance_skips_what_callers_open_with() -> None:
    assert substance("喂，您好，我反映个事儿，3号楼顶楼漏雨") == "3号楼顶楼漏雨"
    assert substance("您好！是这样的，我要反映一下，地下车库进水了") == "地下车库进水了"
    assert substance("喂喂喂") == "喂喂喂"  # nothing else: the text itself
    assert substance("德胜里3号楼，停电了", "德胜里3号楼") == "停电了"
    assert substance("那个，" * 5000 + "漏雨") == "漏雨"


async def test_a_member_taken_out_is_left_by_the_merge(server: LiveServer, tmp_path: Path) -> None:
    parent, child, other = roof_leak(server, 3)
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 3)
        await until(pilot, lambda: cluster_of(screen, parent) == (parent, child, other))
        await go_to(pilot, screen, parent)
        await pilot.press("tab")  # to the members
        members = screen.query_one("#duplicates-members", OptionList)
        assert members.has_focus
        await pilot.press("down", "down")
        assert screen.current_request_id() == other
        await pilot.press("minus")
        assert screen.left_out == {other: parent}
        assert str(members.get_option_at_index(2).prompt).startswith("out")
        await pilot.press("minus", "minus")  # back in, and out again
        assert other in screen.left_out
        await pilot.press("m")
        bulk = await confirm_and_send(pilot, app)
        assert [request_id for request_id, _ in bulk.items] == [child]
        assert server_request(server, child).merged_into == parent
        assert server_request(server, other).state is State.new  # left as it was
        await until(pilot, lambda: cluster_of(screen, parent) is None, what="the merged cluster to go")
        assert cluster_of(screen, other) is None  # not put back with the parent it was taken from


def test_the_new_keys_have_ids_words_and_a_place_in_the_help() -> None:
    for lang in ("zh", "en"):
        strings = Strings(lang)
        text = help_text(strings, {}).plain
        for binding_id in (
            "duplicates.leave_out",
            "duplicates.escalate",
            "queues.storm_map",
            "storm_map.back",
        ):
            assert binding_id in text
            assert strings(f"key.{binding_id}") != f"key.{binding_id}"
        assert strings("help.duplicates") in text and strings("help.storm_map") in text


async def test_the_palette_offers_the_screens_keys(server: LiveServer, tmp_path: Path) -> None:
    roof_leak(server, 3)
    async with running_app(open_session(server, tmp_path)) as (app, pilot):
        screen = await duplicates(pilot, app, SEEDED + 3)
        titles = [command.title for command in app_commands(app, screen)]
        assert "Leave out / put back (-)" in titles and "Merge into the parent (m)" in titles
