"""The SSE stream: it carries the changes (or, when it cannot, a notice to pull), promptly,
coalesced, resumable with no gap and no duplicate, pinging, fed by other processes, and never
holding up shutdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_support import Db
from server_helpers import SSEReader, intake, new_request

from api_client.models import NewRequest
from central_api import change_ring
from central_api.routes import events
from central_api.server import LiveServer
from central_api.sql_store import SqlStore

Api = Callable[..., httpx.Client]
NEW = NewRequest.model_validate(new_request())


def page(event: dict[str, str] | None) -> dict[str, Any]:
    """The page a `changes` event carries (checked against its id)."""
    assert event is not None and event["event"] == "changes", event
    data: dict[str, Any] = orjson.loads(event["data"])
    assert data["next_since"] == data["head"] == int(event["id"]) and data["has_more"] is False
    return data


def seqs(data: dict[str, Any]) -> list[int]:
    return [change["seq"] for change in data["changes"]]


def test_event_follows_a_change(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    # how soon is measured by bench/load.py (change to visible, many clients); a test only
    # proves that the event comes and carries the change: timings are not asserted here
    token = make_token()
    reader = SSEReader(live_server.url, token)
    try:
        assert reader.status == 200 and reader.content_type.startswith("text/event-stream")
        assert reader.next_event(0.3) is None  # nothing to say yet
        client = httpx.Client(
            timeout=30, base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}
        )
        created = intake(client)
        event = reader.next_event(15.0)
        carried = page(event)
        assert carried["since"] == 0 and carried["changes"] == [
            {"seq": 1, "action": "intake", "request": created}
        ]
        client.close()
    finally:
        reader.close()


def test_burst_is_coalesced(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    token = make_token()
    reader = SSEReader(live_server.url, token)
    try:
        for _ in range(30):
            live_server.store.create_request(NEW, actor="burst", idempotency_key=None)
        pages = [page(e) for e in reader.drain(0.5) if "comment" not in e]
        assert 1 <= len(pages) < 30
        # each event follows the one before: together, every change once, in order
        assert [p["since"] for p in pages] == [0] + [p["next_since"] for p in pages[:-1]]
        assert [seq for p in pages for seq in seqs(p)] == list(range(1, 31))
    finally:
        reader.close()


def test_last_event_id_resumes(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    for _ in range(3):
        live_server.store.create_request(NEW, actor="x", idempotency_key=None)
    token = make_token()
    behind = SSEReader(live_server.url, token, last_event_id=1)
    up_to_date = SSEReader(live_server.url, token, last_event_id=3)
    ahead = SSEReader(live_server.url, token, last_event_id=50)  # e.g. the database was reset
    try:
        carried = page(behind.next_event(1.0))
        assert carried["since"] == 1 and seqs(carried) == [2, 3]
        assert up_to_date.next_event(0.4) is None
        assert ahead.next_event(1.0) == {"event": "change", "id": "3", "data": '{"seq":3}'}
    finally:
        for reader in (behind, up_to_date, ahead):
            reader.close()
    r = httpx.get(
        f"{live_server.url}/v1/events",
        headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "x1"},
        timeout=30,
    )
    assert r.status_code == 422
    r = httpx.get(
        f"{live_server.url}/v1/events",
        params={"last_event_id": -1},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 422


def test_query_last_event_id(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    live_server.store.create_request(NEW, actor="x", idempotency_key=None)
    token = make_token()
    client = httpx.Client(timeout=5)
    with client.stream(
        "GET", f"{live_server.url}/v1/events?last_event_id=0", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        event, data, ident = (next(lines) for _ in range(3))
        assert (event, ident) == ("event: changes", "id: 1")
        assert data.startswith('data: {"since":0,"changes":[{"seq":1,"action":"intake","request":{')
    client.close()


def test_ping_comment(
    live_server: LiveServer, make_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "PING_SECONDS", 0.2)  # 15 s in production
    reader = SSEReader(live_server.url, make_token())
    try:
        assert reader.next(2.0) == {"comment": "ping"}
    finally:
        reader.close()


def test_writes_by_another_process_are_noticed(
    live_server: LiveServer, make_token: Callable[..., str], tmp_db: Db
) -> None:
    reader = SSEReader(live_server.url, make_token())
    other = SqlStore.open(tmp_db)  # not wired to this server's notifier: only the poll sees it
    try:
        other.create_request(NEW, actor="elsewhere", idempotency_key=None)
        event = reader.next_event(15.0)  # the poll's interval is a bench figure, not a test's
        assert seqs(page(event)) == [1]
    finally:
        other.close()
        reader.close()


def test_stop_is_prompt_with_a_client_connected(tmp_db: Db) -> None:
    server = LiveServer(tmp_db).start()
    token = server.create_token("watcher")
    reader = SSEReader(server.url, token)
    server.stop()  # returns: an open stream does not hold the server up
    assert reader.finished.wait(15.0)
    reader.close()


def test_restart_same_port_and_database(tmp_db: Db) -> None:
    server = LiveServer(tmp_db).start()
    try:
        token = server.create_token("d")
        port = server.port
        client = httpx.Client(timeout=30, base_url=server.url, headers={"Authorization": f"Bearer {token}"})
        created = intake(client)
        reader = SSEReader(server.url, token, last_event_id=1)
        server.stop()
        assert reader.finished.wait(3.0)
        reader.close()
        server.start()
        assert server.port == port
        assert client.get(f"/v1/requests/{created['id']}").json() == created
        reader = SSEReader(server.url, token, last_event_id=1)
        intake(client)
        carried = page(reader.next_event(1.0))
        assert carried["since"] == 1 and seqs(carried) == [2]
        reader.close()
        client.close()
    finally:
        server.stop()


def test_a_stream_the_server_cannot_carry_gets_a_notice(
    live_server: LiveServer, make_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_ring, "MAX_CARRIED", 2)
    live_server.store.create_requests([NEW] * 3, actor="x")
    token = make_token()
    far = SSEReader(live_server.url, token, last_event_id=0)  # 3 changes behind: too many
    near = SSEReader(live_server.url, token, last_event_id=1)
    try:
        assert far.next_event(1.0) == {"event": "change", "id": "3", "data": '{"seq":3}'}
        assert seqs(page(near.next_event(1.0))) == [2, 3]
        live_server.store.create_request(NEW, actor="x", idempotency_key=None)
        # both are at 3 now: the next change is carried to each, the same bytes
        assert far.next_event(1.0) == near.next_event(1.0)
    finally:
        far.close()
        near.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rounds=st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.integers(0, 4)), min_size=1, max_size=4)
)
def test_resuming_with_last_event_id_loses_and_repeats_nothing(
    live_server: LiveServer, make_token: Callable[..., str], rounds: list[tuple[int, bool, int]]
) -> None:
    """Each round: some writes while connected, read them all or not, disconnect, some writes
    while away, reconnect from the last event read. Every change comes exactly once, in order."""
    store = live_server.store
    token = make_token()
    start = last = store.head()
    got: list[int] = []
    reader = SSEReader(live_server.url, token, last_event_id=last)
    try:
        for connected, read_all, away in rounds:
            for _ in range(connected):
                store.create_request(NEW, actor="x", idempotency_key=None)
            if read_all:
                last = _follow(reader, last, store.head(), got)
            reader.close()
            for _ in range(away):
                store.create_request(NEW, actor="x", idempotency_key=None)
            reader = SSEReader(live_server.url, token, last_event_id=last)
        last = _follow(reader, last, store.head(), got)
    finally:
        reader.close()
    assert got == list(range(start + 1, store.head() + 1))


def _follow(reader: SSEReader, last: int, head: int, got: list[int]) -> int:
    """Read events until the stream reaches `head`; each page must start where the last ended."""
    while last < head:
        carried = page(reader.next_event(2.0))
        assert carried["since"] == last
        got.extend(seqs(carried))
        last = carried["next_since"]
    return last
