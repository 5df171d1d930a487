"""The sync engine against a real central API: push, pull, order, refusals, failures, run()."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
from test_sync_support import (
    World,
    audit_actions,
    fast_client,
    make_engine,
    open_world,
    server_act,
    synced_store,
)

from api_client.actions import Accept, AddNote, Dispatch, Merge
from api_client.models import Request, State
from central_api.server import LiveServer
from local_cache.errors import CacheBusy
from local_cache.sync import SyncStatus
from tui.cli.words import sync_summary


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path) as made:
        yield made


async def test_push_then_pull_round_trip(world: World) -> None:
    zhang = world.dispatcher("张敏")
    store, engine = await synced_store(zhang)
    first, second = world.ids[:2]
    assert store.counts() == (10, 0, 0)
    store.record(first, Dispatch(lead_unit="cc01"), actor=zhang.name)
    store.record(first, Accept(), actor=zhang.name)
    store.record(second, AddNote(text="called back, no answer"), actor=zhang.name)
    assert engine.status.pending == 3

    summary = await engine.sync_once()

    assert (summary.pushed, summary.conflicts, summary.refused, summary.errors) == (3, 0, 0, [])
    assert summary.cursor == world.server.store.head() == store.cache.cursor
    assert world.server.store.get_request(first).state is State.accepted
    assert audit_actions(world.server, first) == ["intake", "dispatch", "accept"]
    assert [n.text for n in world.server.store.get_request(second).notes] == ["called back, no answer"]
    status = engine.status
    assert (status.online, status.pending, status.conflicts, status.cached) == (True, 0, 0, 10)
    assert status.last_sync is not None and status.last_error == ""
    view = store.view(first)
    assert view is not None and view.state is State.accepted
    assert view.version == world.server.store.get_request(first).version
    assert "pushed 3 actions, 0 conflicts, pulled 3 changes" in sync_summary("en", summary, world.server.url)
    store.close()


async def test_pull_pages_through_the_feed_and_saves_the_cursor_with_them(world: World) -> None:
    for request_id in world.ids:
        server_act(world.server, request_id, AddNote(text="from the centre"))
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client(), page_size=3, flush_interval=0.0)
    assert await engine.pull() == 20
    assert store.cache.cursor == world.server.store.head() == 20
    store.close()
    reopened = zhang.open()  # the cursor and the data came back from disk together
    assert reopened.cache.cursor == 20 and len(reopened.cache) == 10
    for request_id in world.ids:
        cached = reopened.cache.get(request_id)
        assert cached is not None and cached.notes[0].text == "from the centre"
    assert await make_engine(reopened, zhang.client()).pull() == 0
    reopened.close()


async def test_a_refused_action_becomes_a_conflict_and_holds_the_rest_of_its_request(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store, engine = await synced_store(zhang)
    child, parent, grandparent, other = world.ids[:4]
    # Someone merges the parent away: the server will refuse to merge into it (409), which
    # the local state machine cannot know.
    server_act(world.server, parent, Merge(parent_id=grandparent))
    store.record(child, Merge(parent_id=parent), actor=zhang.name)
    store.record(child, AddNote(text="merged as a duplicate"), actor=zhang.name)
    store.record(other, AddNote(text="unrelated"), actor=zhang.name)

    result = await engine.push()

    assert (result.pushed, result.conflicts, result.refused, result.held, result.error) == (1, 0, 1, 1, "")
    [conflict] = store.conflicts()
    assert conflict.kind == "refused" and conflict.action.request_id == child
    assert "merged" in conflict.message
    assert conflict.server is not None and conflict.server.state is State.new
    assert conflict.local is not None and conflict.local.version == conflict.server.version
    [held] = store.pending()
    assert held.request_id == child and held.action == AddNote(text="merged as a duplicate")
    assert audit_actions(world.server, child) == ["intake"]
    assert [n.text for n in world.server.store.get_request(other).notes] == ["unrelated"]
    # The held action waits for the dispatcher: another push sends nothing.
    again = await engine.push()
    assert (again.pushed, again.held) == (0, 1)
    # Dropping the merge frees the note, but the note was taken on the view that showed the
    # merge: the server's version differs, so it becomes a stale conflict in turn (never sent
    # blindly); retried on the current version, it goes through.
    store.drop_conflict(conflict.id)
    after_drop = await engine.push()
    assert (after_drop.pushed, after_drop.conflicts) == (0, 1)
    [stale] = store.conflicts()
    assert stale.kind == "stale" and stale.action.action == AddNote(text="merged as a duplicate")
    store.retry_conflict(stale.id)
    assert (await engine.push()).pushed == 1
    assert audit_actions(world.server, child) == ["intake", "note"]
    assert store.counts()[1:] == (0, 0)
    store.close()


async def test_unreachable_server_keeps_every_action_pending(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store, engine = await synced_store(zhang)
    for request_id in world.ids[:3]:
        store.record(request_id, AddNote(text="offline note"), actor=zhang.name)
    world.server.stop()

    summary = await engine.sync_once()

    assert summary.offline and summary.pushed == 0 and summary.held == 2
    assert "cannot reach the central API" in summary.errors[0]
    pending = store.pending()
    assert len(pending) == 3 and store.conflicts() == []
    assert pending[0].attempts == 1 and "cannot reach" in pending[0].last_error
    assert (engine.status.online, engine.status.pending) == (False, 3)
    world.server.start()
    assert (await engine.sync_once()).pushed == 3
    store.close()


async def test_a_bad_token_stops_the_push_and_keeps_the_actions(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store, _engine = await synced_store(zhang)
    store.record(world.ids[0], AddNote(text="x"), actor=zhang.name)
    async with fast_client(world.server.url, "not-a-token") as bad:
        summary = await make_engine(store, bad).sync_once()
    assert not summary.ok and not summary.offline
    assert "token" in summary.errors[0]
    assert len(store.pending()) == 1 and store.conflicts() == []
    store.close()


async def test_run_pushes_on_wake_pulls_on_notice_and_rides_out_an_outage(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    statuses: list[SyncStatus] = []
    engine = make_engine(store, zhang.client(), on_status=statuses.append, poll_interval=0.3)
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.status.cached == 10 and engine.status.online)
        # A dispatcher action goes out at once.
        store.record(world.ids[0], Dispatch(lead_unit="cc01"), actor=zhang.name)
        engine.wake()
        await until(lambda: world.server.store.get_request(world.ids[0]).state is State.dispatched)
        await until(lambda: engine.status.pending == 0)
        # Another dispatcher's change arrives through the event stream.
        server_act(world.server, world.ids[1], AddNote(text="from elsewhere"))
        await until(lambda: cached_notes(store, world.ids[1]) == ["from elsewhere"])
        # The server goes away: the engine says so, keeps the action, and delivers it later.
        world.server.stop()
        store.record(world.ids[2], AddNote(text="during the outage"), actor=zhang.name)
        engine.wake()
        await until(lambda: not engine.status.online and engine.status.pending == 1)
        world.server.start()
        await until(lambda: engine.status.online and engine.status.pending == 0, timeout=15)
        assert [n.text for n in world.server.store.get_request(world.ids[2]).notes] == ["during the outage"]
        await until(lambda: store.cache.cursor == world.server.store.head())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()
    assert any(not s.online for s in statuses) and statuses[-1].online
    assert any(s.pending == 1 for s in statuses) and statuses[-1].pending == 0
    assert all(a != b for a, b in itertools.pairwise(statuses))  # only changes are told


async def test_a_long_backoff_ends_when_the_event_stream_is_back(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client(), backoff_initial=60.0, backoff_max=60.0, poll_interval=60.0)
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.status.cached == 10 and engine.status.online)
        world.server.stop()
        store.record(world.ids[0], AddNote(text="queued in the outage"), actor=zhang.name)
        engine.wake()
        await until(lambda: not engine.status.online)  # now backing off for a minute
        world.server.start()
        # No change happened on the server, so no notice comes: the stream's reconnect alone
        # (within its own few seconds of backoff) ends the engine's minute.
        await until(lambda: engine.status.pending == 0, timeout=15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()
    assert [n.text for n in world.server.store.get_request(world.ids[0]).notes] == ["queued in the outage"]


async def test_only_the_owner_syncs_the_other_process_follows_and_takes_over(world: World) -> None:
    zhang = world.dispatcher("zhang")
    owner = zhang.open()
    follower = zhang.open()
    assert owner.is_sync_owner and not follower.is_sync_owner
    owner_engine = make_engine(owner, zhang.client(), poll_interval=0.2)
    follower_engine = make_engine(follower, zhang.client(), poll_interval=0.2)
    owner_task = asyncio.create_task(owner_engine.run())
    follower_task = asyncio.create_task(follower_engine.run())
    try:
        await until(lambda: len(follower.cache) == 10)
        # The follower records; the owner pushes it (the outbox is shared) and the follower
        # sees the server's copy once the owner has flushed it.
        follower.record(world.ids[0], AddNote(text="recorded by the follower"), actor=zhang.name)
        await until(lambda: cached_notes(follower, world.ids[0]) == ["recorded by the follower"])
        assert owner.counts()[1] == 0 and follower.counts()[1] == 0
        assert not follower.is_sync_owner
        # The owner quits: the follower takes over and syncs by itself.
        owner_task.cancel()
        await asyncio.gather(owner_task, return_exceptions=True)
        owner.close()
        await until(lambda: follower.is_sync_owner)
        follower.record(world.ids[1], AddNote(text="after the take-over"), actor=zhang.name)
        follower_engine.wake()
        await until(lambda: follower_engine.status.pending == 0 and follower_engine.status.online)
    finally:
        for task in (owner_task, follower_task):
            task.cancel()
        await asyncio.gather(owner_task, follower_task, return_exceptions=True)
        follower.close()
        owner.close()
    for request_id, text in zip(world.ids, ["recorded by the follower", "after the take-over"], strict=False):
        assert [n.text for n in world.server.store.get_request(request_id).notes] == [text]


async def test_run_shows_a_cache_failure_and_carries_on(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store, _ = await synced_store(zhang)
    real_confirm = store.confirm_many
    failures = [CacheBusy("the hotline cache is busy: another hotline process holds outbox.json.lock")]

    def confirm_many(confirmed: Sequence[tuple[str, Request]]) -> None:
        if failures:
            raise failures.pop()
        real_confirm(confirmed)

    store.confirm_many = confirm_many  # type: ignore[method-assign]
    statuses: list[SyncStatus] = []
    engine = make_engine(store, zhang.client(), on_status=statuses.append)
    store.record(world.ids[0], AddNote(text="once"), actor=zhang.name)
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.status.pending == 0 and engine.status.last_error == "")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()
    assert any("cache is busy" in s.last_error for s in statuses)
    # The server applied it on the first try; the retry was a replay of the same key.
    assert [n.text for n in world.server.store.get_request(world.ids[0]).notes] == ["once"]


def cached_notes(store: object, request_id: str) -> list[str]:
    from local_cache.local_store import LocalStore

    assert isinstance(store, LocalStore)
    cached = store.cache.get(request_id)
    return [] if cached is None else [n.text for n in cached.notes]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (polling) until `condition()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_on_changed_names_the_requests_a_push_or_a_pull_touched(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    seen: list[list[str]] = []
    engine = make_engine(store, zhang.client(), page_size=4, on_changed=seen.append)
    await engine.pull()
    assert sorted(itertools.chain.from_iterable(seen)) == sorted(world.ids)
    assert all(len(batch) <= 4 for batch in seen)  # one call per page

    seen.clear()
    first = world.ids[0]
    store.record(first, Dispatch(lead_unit="cc01"), actor=zhang.name)
    server_act(world.server, world.ids[1], AddNote(text="from the centre"))
    await engine.sync_once()
    changed = set(itertools.chain.from_iterable(seen))
    assert first in changed and world.ids[1] in changed
    assert changed <= {first, world.ids[1]}
    store.close()


async def test_a_push_confirms_in_batches_and_every_action_reaches_the_server_once(world: World) -> None:
    from local_cache.push import CONFIRM_BATCH

    zhang = world.dispatcher("zhang")
    store, engine = await synced_store(zhang)
    real_confirm = store.confirm_many
    batches: list[int] = []

    def confirm_many(confirmed: Sequence[tuple[str, Request]]) -> None:
        batches.append(len(confirmed))
        real_confirm(confirmed)

    store.confirm_many = confirm_many  # type: ignore[method-assign]
    count = 2 * CONFIRM_BATCH + 10
    store.record_batch(
        [(world.ids[i % len(world.ids)], AddNote(text=f"n{i}")) for i in range(count)], actor=zhang.name
    )
    summary = await engine.sync_once()
    assert summary.pushed == count and store.counts()[1:] == (0, 0)
    assert sum(batches) == count and max(batches) <= CONFIRM_BATCH and len(batches) < count
    texts = [n.text for r in world.ids for n in world.server.store.get_request(r).notes]
    assert sorted(texts) == sorted(f"n{i}" for i in range(count))
    store.close()
