"""A call taken in offline (issue 14, point 1's durability): the outbox queues the intake under a
temporary id with the actions recorded on it; when the server is back one sync takes it in
exactly once, renames the temporary id to the server's everywhere, and sends what follows it."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from test_sync_cli import environment, hotline, store_of
from test_sync_support import World, audit_actions, make_engine, seed, server_act

from api_client.actions import AddNote, Chase, Dispatch, Merge
from api_client.domain.lifecycle import TransitionRefused
from api_client.models import CallerIn, Channel, LocationIn, NewRequest, RequestType, State, Tier
from central_api.server import LiveServer
from central_api.store import RequestFilter
from local_cache.intakes import is_temporary
from local_cache.local_store import LocalStore
from local_cache.outbox_tables import PLAIN_SCHEMA, SCHEMA
from local_cache.storage import read_file
from tui.cli.words import sync_summary


def call(text: str, *, category: str = "roof_leak") -> NewRequest:
    """A call about a leak in community c01, its caller in full."""
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category=category,
        description=text,
        location=LocationIn(street="德胜里一区", community="c01", address="德胜里一区 3-2-401"),
        caller=CallerIn(name="王秀英", phone="13812345678"),
    )


def on_server(server: LiveServer, description: str) -> list[str]:
    """The ids of the server's requests with this description."""
    return [r.id for r in server.store.list_requests(RequestFilter()) if r.description == description]


def outbox_schema(store: LocalStore) -> int:
    """The schema the outbox file says it is written in."""
    found = read_file(store.outbox.path)
    assert found is not None
    raw, _key, fd = found
    os.close(fd)
    schema: int = orjson.loads(raw)["meta"]["1"]["schema"]
    return schema


async def test_a_call_taken_in_offline_and_dispatched_reaches_the_server_once(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 3), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    live_server.stop()

    recorded = store.record_intake(
        call("楼顶漏水，三楼天花板在滴水。"),
        tier=Tier.h24,
        then=[Dispatch(lead_unit="cc01")],
        actor=zhang.name,
    )
    temporary = recorded[0].request_id
    assert is_temporary(temporary) and temporary not in world.ids
    assert [p.request_id for p in recorded] == [temporary, temporary]
    assert [p.action.action for p in store.pending()] == ["intake", "dispatch"]
    # The local view: the request as the server would show it, the dispatch applied, unsent.
    view = store.view(temporary)
    assert view is not None
    assert (view.state, view.version, view.tier, view.lead_unit) == (State.dispatched, 2, Tier.h24, "cc01")
    assert view.due_at == view.received_at + Tier.h24.duration
    assert (view.caller.name, view.caller.phone) == ("王**", "138****5678")
    assert [step.action for step in view.history] == ["intake", "dispatch"]
    assert store.view_ids()[-1] == temporary and temporary in store.pending_request_ids()
    assert outbox_schema(store) == SCHEMA  # a hotline that knows no intakes leaves it alone
    offline = await make_engine(store, zhang.client()).sync_once()
    assert offline.offline and (offline.taken_in, offline.pushed) == (0, 0)
    store.close()

    store = zhang.open()  # a restart in between changes nothing
    assert [p.request_id for p in store.pending()] == [temporary, temporary]
    live_server.start()
    summary = await make_engine(store, zhang.client()).sync_once()
    assert (summary.taken_in, summary.pushed, summary.conflicts, summary.errors) == (1, 1, 0, [])
    assert sync_summary("en", summary, live_server.url).startswith(
        "took in 1 call, pushed 1 action, 0 conflicts"
    )

    [request_id] = on_server(live_server, "楼顶漏水，三楼天花板在滴水。")
    taken = live_server.store.get_request(request_id)
    assert (taken.state, taken.lead_unit, taken.received_at) == (State.dispatched, "cc01", view.received_at)
    events = live_server.store.audit(request_id)
    assert [(e.action, e.actor) for e in events] == [("intake", zhang.name), ("dispatch", zhang.name)]
    # The cache holds it under the server's id; no temporary id is left anywhere.
    assert store.counts()[1:] == (0, 0)
    assert not any(is_temporary(i) for i in store.view_ids())
    assert store.view(temporary) is None and store.resolve(temporary) == request_id
    cached = store.view(request_id)
    assert cached is not None and cached.version == taken.version and cached.caller.phone == "138****5678"
    on_disk = store.cache.get(request_id)  # flushed by the sync, under the server's id
    assert on_disk is not None and store.cache.saved_stamp(request_id) == (
        on_disk.change_seq,
        on_disk.version,
    )
    assert outbox_schema(store) == PLAIN_SCHEMA
    # An action recorded on the temporary id afterwards reaches the server's request.
    assert store.record(temporary, AddNote(text="又来电催"), actor=zhang.name).request_id == request_id
    again = await make_engine(store, zhang.client()).sync_once()
    assert (again.taken_in, again.pushed, again.errors) == (0, 1, [])
    assert audit_actions(live_server, request_id) == ["intake", "dispatch", "note"]
    assert len(on_server(live_server, "楼顶漏水，三楼天花板在滴水。")) == 1
    store.close()


async def test_a_repeat_call_linked_offline_is_merged_and_chases_once(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 3), tmp_path)
    parent = world.ids[0]
    server_act(live_server, parent, Dispatch(lead_unit="cc02"))
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    live_server.stop()

    recorded = store.record_intake(
        call("又是楼顶漏水，第二次打了。"),
        tier=Tier.d7,
        then=[Merge(parent_id=parent)],
        elsewhere=[(parent, Chase(text="第二位来电人"))],
        actor=zhang.name,
    )
    temporary = recorded[0].request_id
    view, chased = store.view(temporary), store.view(parent)
    assert view is not None and view.state is State.merged and view.merged_into == parent
    assert chased is not None and chased.chases == 1
    live_server.start()
    summary = await make_engine(store, zhang.client()).sync_once()
    assert (summary.taken_in, summary.pushed, summary.conflicts, summary.errors) == (1, 2, 0, [])
    [child] = on_server(live_server, "又是楼顶漏水，第二次打了。")
    assert live_server.store.get_request(child).merged_into == parent
    assert live_server.store.get_request(parent).chases == 1
    assert audit_actions(live_server, child) == ["intake", "merge"]
    assert audit_actions(live_server, parent) == ["intake", "dispatch", "chase"]
    again = await make_engine(store, zhang.client()).sync_once()
    assert (again.taken_in, again.pushed) == (0, 0)
    assert live_server.store.get_request(parent).chases == 1
    store.close()


async def test_a_merge_into_a_call_not_yet_taken_in_waits_for_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """Another request merged into the new one names its temporary id: it is held until the call
    is taken in, then sent naming the server's id."""
    world = World(live_server, seed(live_server, 2), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    live_server.stop()
    temporary = store.record_intake(call("一楼漏水"), tier=Tier.d7, actor=zhang.name)[0].request_id
    store.record(world.ids[1], Merge(parent_id=temporary), actor=zhang.name)
    live_server.start()
    summary = await make_engine(store, zhang.client()).sync_once()
    assert (summary.taken_in, summary.pushed, summary.errors) == (1, 1, [])
    [new_id] = on_server(live_server, "一楼漏水")
    assert live_server.store.get_request(world.ids[1]).merged_into == new_id
    store.close()


async def test_a_refused_intake_is_a_conflict_and_holds_what_follows_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 2), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    recorded = store.record_intake(
        call("不知道归哪类", category="no_such_category"),
        tier=Tier.d7,
        then=[Dispatch(lead_unit="cc01")],
        actor=zhang.name,
    )
    temporary = recorded[0].request_id
    summary = await make_engine(store, zhang.client()).sync_once()
    assert (summary.taken_in, summary.pushed, summary.refused, summary.held) == (0, 0, 1, 1)
    [conflict] = store.conflicts()
    assert conflict.kind == "refused" and conflict.code == "unknown_category"
    assert conflict.action.request_id == temporary and conflict.action.intake is not None
    assert [p.request_id for p in store.pending()] == [temporary]  # the dispatch, held
    view = store.view(temporary)  # still shown, for a person to decide
    assert view is not None and view.state is State.dispatched and temporary in store.view_ids()
    assert on_server(live_server, "不知道归哪类") == []
    again = await make_engine(store, zhang.client()).sync_once()
    assert (again.taken_in, again.pushed, again.held) == (0, 0, 1)
    # Retried: queued again as it was, what waited behind it following it.
    store.retry_conflict(conflict.id)
    assert [(p.request_id, p.action.action, p.base_version) for p in store.pending()] == [
        (temporary, "intake", 0),
        (temporary, "dispatch", 1),
    ]
    third = await make_engine(store, zhang.client()).sync_once()
    assert (third.taken_in, third.refused, third.held) == (0, 1, 1)
    [conflict] = store.conflicts()
    # Given up: the call goes, and what waited behind it with it.
    store.drop_conflict(conflict.id)
    assert store.counts()[1:] == (0, 0) and store.view(temporary) is None
    assert outbox_schema(store) == PLAIN_SCHEMA
    store.close()


async def test_two_calls_taken_in_offline_keep_their_order(live_server: LiveServer, tmp_path: Path) -> None:
    world = World(live_server, seed(live_server, 1), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    live_server.stop()
    first = store.record_intake(call("第一个电话"), tier=Tier.d7, actor=zhang.name)[0].request_id
    second = store.record_intake(
        call("第二个电话"), tier=Tier.d7, then=[AddNote(text="后来的")], actor=zhang.name
    )[0].request_id
    assert first != second
    store.record(first, AddNote(text="先来的"), actor=zhang.name)
    assert store.temporary_ids() == [first, second]
    live_server.start()
    summary = await make_engine(store, zhang.client()).sync_once()
    assert (summary.taken_in, summary.pushed, summary.errors) == (2, 2, [])
    [one], [two] = on_server(live_server, "第一个电话"), on_server(live_server, "第二个电话")
    assert int(one[2:]) < int(two[2:])
    assert [n.text for n in live_server.store.get_request(one).notes] == ["先来的"]
    assert [n.text for n in live_server.store.get_request(two).notes] == ["后来的"]
    store.close()


async def test_a_call_whose_actions_do_not_apply_is_not_recorded(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """All or nothing: a chase of a request no unit has yet is refused, and the call with it."""
    world = World(live_server, seed(live_server, 1), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    with pytest.raises(TransitionRefused):
        store.record_intake(
            call("重复来电"),
            tier=Tier.d7,
            then=[Merge(parent_id=world.ids[0])],
            elsewhere=[(world.ids[0], Chase())],
            actor=zhang.name,
        )
    assert store.counts()[1:] == (0, 0) and store.temporary_ids() == []
    store.close()


async def test_hotline_sync_takes_calls_in_and_says_so(live_server: LiveServer, tmp_path: Path) -> None:
    World(live_server, seed(live_server, 2), tmp_path)
    env = environment(tmp_path, live_server.url, live_server.create_token("张敏"), "张敏")
    assert hotline("sync", env=env).returncode == 0
    store = store_of(tmp_path, live_server.url, "张敏")
    store.record_intake(call("门口井盖丢了"), tier=Tier.h2, then=[AddNote(text="已提醒绕行")], actor="张敏")
    store.close()
    status = hotline("status", env=env)
    assert "pending     2 actions\n  of which 1 call taken in, not yet sent\n" in status.stdout
    synced = hotline("sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("took in 1 call, pushed 1 action, 0 conflicts, pulled 2 changes")
    assert len(on_server(live_server, "门口井盖丢了")) == 1
