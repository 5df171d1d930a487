"""Acceptance 3: a storm with the network down. 500 actions on 100 requests are recorded with
the server stopped; when it is back, one sync delivers every one exactly once, in order per
request, and the status counts the pending actions correctly throughout."""

from __future__ import annotations

from pathlib import Path

from test_sync_support import World, audit_actions, make_engine, seed

from api_client.actions import Accept, Action, AddNote, Dispatch, LogCallback, Resolve
from api_client.models import Satisfaction, State
from central_api.server import LiveServer


def steps(i: int) -> list[Action]:
    """Five actions whose order matters: any other order is refused by the state machine."""
    return [
        Dispatch(lead_unit=f"cc{1 + i % 20:02d}"),
        Accept(),
        AddNote(text=f"storm note {i}"),
        Resolve(summary=f"fixed {i}"),
        LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied),
    ]


async def test_offline_storm_then_one_sync_delivers_everything_once_in_order(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 100), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client())
    assert await engine.pull() == 100
    live_server.stop()

    plans = {request_id: steps(i) for i, request_id in enumerate(world.ids)}
    recorded = 0
    for round_ in range(5):  # round-robin, so each request's actions interleave with others'
        for request_id, plan in plans.items():
            store.record(request_id, plan[round_], actor=zhang.name)
            recorded += 1
            assert engine.status.pending == recorded
    assert engine.status == engine.status  # stable while nothing happens
    assert store.counts() == (100, 500, 0)
    view = store.view(world.ids[0])
    assert view is not None and view.state is State.closed  # the optimistic view, offline

    failed = await engine.sync_once()  # still offline: nothing lost, nothing sent
    assert failed.offline and failed.pushed == 0 and "cannot reach" in failed.errors[0]
    assert (engine.status.pending, engine.status.online) == (500, False)
    store.close()

    reopened = zhang.open()  # a restart in between changes nothing
    assert reopened.counts() == (100, 500, 0)
    live_server.start()
    engine = make_engine(reopened, zhang.client())
    summary = await engine.sync_once()

    assert (summary.pushed, summary.conflicts, summary.refused, summary.errors) == (500, 0, 0, [])
    assert summary.pulled == 500 and summary.cursor == live_server.store.head() == 600
    assert engine.status.pending == 0 and engine.status.conflicts == 0
    for i, request_id in enumerate(world.ids):
        assert audit_actions(live_server, request_id) == [
            "intake",
            "dispatch",
            "accept",
            "note",
            "resolve",
            "callback",
        ]
        on_server = live_server.store.get_request(request_id)
        assert on_server.state is State.closed and on_server.version == 6
        assert [n.text for n in on_server.notes] == [f"storm note {i}"]
        cached = reopened.cache.get(request_id)
        assert cached is not None and cached.version == 6
    # A second sync has nothing to do.
    again = await engine.sync_once()
    assert (again.pushed, again.pulled, again.errors) == (0, 0, [])
    reopened.close()
