"""Acceptance 4: two dispatchers (two caches) dispatch the same requests while one of them is
offline. The loser's sync turns each into a conflict holding both versions; nothing is
overwritten silently; the dispatcher resolves each one by retrying on the new version or by
dropping it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faultservers import closed_port
from test_sync_support import (
    World,
    audit_actions,
    fast_client,
    make_engine,
    open_world,
    synced_store,
)

from api_client.actions import AddNote, Dispatch
from api_client.models import State
from central_api.server import LiveServer


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path) as made:
        yield made


async def test_the_loser_holds_both_versions_and_resolves_by_retry_or_drop(world: World) -> None:
    wang, li = world.dispatcher("王"), world.dispatcher("李")
    wang_store, wang_engine = await synced_store(wang)
    li_store, _ = await synced_store(li)
    first, second, third = world.ids[:3]

    # 李 is offline (the server cannot be reached from his side) and dispatches three requests.
    async with fast_client(f"http://127.0.0.1:{closed_port()}", li.token) as dead:
        li_offline = make_engine(li_store, dead)
        li_store.record(first, Dispatch(lead_unit="cc02"), actor=li.name)
        li_store.record(first, AddNote(text="李: sent to cc02"), actor=li.name)
        li_store.record(second, Dispatch(lead_unit="cc03"), actor=li.name)
        li_store.record(third, AddNote(text="李: no conflict here"), actor=li.name)
        assert (await li_offline.sync_once()).offline
    # 王, online, dispatches the first two to other units first.
    wang_store.record(first, Dispatch(lead_unit="cc01"), actor=wang.name)
    wang_store.record(second, Dispatch(lead_unit="cc01"), actor=wang.name)
    assert (await wang_engine.sync_once()).pushed == 2

    li_engine = make_engine(li_store, li.client())
    summary = await li_engine.sync_once()

    assert (summary.pushed, summary.conflicts, summary.held, summary.errors) == (1, 2, 1, [])
    assert li_engine.status.conflicts == 2 and li_engine.status.pending == 1
    conflicts = {c.action.request_id: c for c in li_store.conflicts()}
    assert set(conflicts) == {first, second}
    lost = conflicts[first]
    # Both versions are held: 李's view when he acted, his action, and the server's version.
    assert lost.kind == "stale" and "changed by someone else" in lost.message
    assert lost.action.action == Dispatch(lead_unit="cc02") and lost.action.base_version == 1
    assert lost.local is not None and (lost.local.state, lost.local.version) == (State.new, 1)
    assert lost.server is not None and (lost.server.lead_unit, lost.server.version) == ("cc01", 2)
    # Nothing was overwritten: the server keeps 王's dispatch, 李's cache shows the server's
    # version, and his note behind the conflict is still pending, not sent.
    for request_id in (first, second):
        assert world.server.store.get_request(request_id).lead_unit == "cc01"
        assert audit_actions(world.server, request_id) == ["intake", "dispatch"]
    cached = li_store.cache.get(first)
    assert cached is not None and cached.lead_unit == "cc01"
    [held] = li_store.pending()
    assert held.action == AddNote(text="李: sent to cc02")
    assert [n.text for n in world.server.store.get_request(third).notes] == ["李: no conflict here"]

    # The conflicts survive a restart.
    li_store.close()
    li_store = li.open()
    assert {c.id for c in li_store.conflicts()} == {c.id for c in conflicts.values()}

    # Drop one: only that one goes, the server keeps 王's dispatch.
    li_store.drop_conflict(conflicts[second].id)
    assert [c.id for c in li_store.conflicts()] == [lost.id]
    li_engine = make_engine(li_store, li.client())
    assert (await li_engine.sync_once()).pushed == 0  # the held note still waits for the first
    assert world.server.store.get_request(second).lead_unit == "cc01"

    # Retry the other on the server's new version: it goes through, and the note held behind
    # it follows it, in the order 李 took them.
    retried = li_store.retry_conflict(lost.id)
    assert retried.key != lost.action.key and retried.base_version == 2
    summary = await li_engine.sync_once()
    assert (summary.pushed, summary.conflicts, summary.errors) == (2, 0, [])
    on_server = world.server.store.get_request(first)
    assert on_server.lead_unit == "cc02" and [n.text for n in on_server.notes] == ["李: sent to cc02"]
    assert [(e.action, e.actor) for e in world.server.store.audit(first)][1:] == [
        ("dispatch", "王"),
        ("dispatch", "李"),
        ("note", "李"),
    ]
    assert li_store.counts()[1:] == (0, 0)
    # 王 learns of it on his next sync.
    await wang_engine.sync_once()
    cached = wang_store.cache.get(first)
    assert cached is not None and cached.lead_unit == "cc02"
    li_store.close()
    wang_store.close()
