"""A call taken in survives a crash at every point of its way to the server, and is taken in
exactly once with what was recorded on it (issue 14, point 1).

A real process (`tests/cache_worker.py intake`) takes calls in and kills itself with SIGKILL at
one point: before any sync; after the server took the call in, before its answer was saved; inside
the outbox write that renames the temporary id (the new file written beside the old, not yet in
place); just after that write; after the server took the first action behind it. A restart and a
sync then leave exactly one request per call on the server, with its actions once each, in order,
by the one who took the call, and no temporary id in the cache.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_sync_support import REPO, World, make_engine, seed

from api_client.models import State
from central_api.server import LiveServer
from central_api.store import RequestFilter
from local_cache.intakes import is_temporary

#: Where the worker dies, and what the outbox holds then: (intakes, actions on temporary ids).
POINTS = {
    "recorded": (2, 4),
    "posted": (2, 4),
    "renaming": (2, 4),
    "renamed": (1, 2),
    "followed": (1, 2),
}


def run_worker(world: World, name: str, token: str, cache: Path, point: str, calls: int) -> list[list[str]]:
    """Run the worker until it kills itself at `point`; its `TOOK` lines, split."""
    script = str(REPO / "tests" / "cache_worker.py")
    worker = subprocess.run(
        [sys.executable, script, str(cache), world.server.url, name, "intake", str(calls)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "HOTLINE_TOKEN": token, "CACHE_WORKER_DIE": point},
        timeout=60,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    return [line.split(" ", 3) for line in worker.stdout.splitlines() if line.startswith("TOOK ")]


@pytest.mark.parametrize("point", list(POINTS))
async def test_a_call_taken_in_survives_a_crash_and_is_taken_in_once(
    live_server: LiveServer, tmp_path: Path, point: str
) -> None:
    world = World(live_server, seed(live_server, 2), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    store.close()

    took = run_worker(world, zhang.name, zhang.token, zhang.cache, point, calls=2)
    assert len(took) == 2
    store = zhang.open()
    assert store.messages == []  # nothing to recover: every write was whole
    pending = store.pending()
    intakes = [p for p in pending if p.intake is not None]
    on_temporary = [p for p in pending if p.intake is None and is_temporary(p.request_id)]
    assert (len(intakes), len(on_temporary)) == POINTS[point]
    assert {p.key for p in intakes} <= {key for _word, _temp, key, _text in took}

    summary = await make_engine(store, zhang.client()).sync_once()
    assert summary.errors == [] and summary.conflicts == 0 and store.counts()[1:] == (0, 0)
    requests = live_server.store.list_requests(RequestFilter())
    for _word, temporary, _key, description in took:
        [request] = [r for r in requests if r.description == description]
        events = live_server.store.audit(request.id)
        assert [e.action for e in events] == ["intake", "dispatch", "note"], (point, description)
        assert {e.actor for e in events} == {zhang.name}
        assert request.state is State.dispatched and request.lead_unit == "cc01"
        assert store.resolve(temporary) == request.id
        cached = store.view(request.id)
        assert cached is not None and cached.version == request.version
    assert not any(is_temporary(request_id) for request_id in store.view_ids())
    again = await make_engine(store, zhang.client()).sync_once()
    assert (again.taken_in, again.pushed, again.errors) == (0, 0, [])
    store.close()
    for client in zhang.clients:
        await client.aclose()
