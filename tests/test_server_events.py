"""The SSE stream: prompt, coalesced, resumable, pinging, fed by other processes, and never
holding up shutdown."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import fastapi.routing
import httpx
import pytest
from server_helpers import SSEReader, intake, new_request

from api_client.models import NewRequest
from central_api.server import LiveServer
from central_api.sql_store import SqlStore

Api = Callable[..., httpx.Client]


def test_event_within_a_second_of_a_change(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    token = make_token()
    reader = SSEReader(live_server.url, token)
    try:
        assert reader.status == 200 and reader.content_type.startswith("text/event-stream")
        assert reader.next_event(0.3) is None  # nothing to say yet
        client = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
        started = time.monotonic()
        intake(client)
        event = reader.next_event(1.0)
        assert event == {"event": "change", "id": "1", "data": '{"seq":1}'}
        assert time.monotonic() - started < 1.0
        client.close()
    finally:
        reader.close()


def test_burst_is_coalesced(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    token = make_token()
    reader = SSEReader(live_server.url, token)
    try:
        new = NewRequest.model_validate(new_request())
        for _ in range(30):
            live_server.store.create_request(new, actor="burst", idempotency_key=None)
        events = [e for e in reader.drain(0.5) if "comment" not in e]
        assert 1 <= len(events) < 30
        assert events[-1]["id"] == "30"
        ids = [int(e["id"]) for e in events]
        assert ids == sorted(set(ids))
    finally:
        reader.close()


def test_last_event_id_resumes(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    new = NewRequest.model_validate(new_request())
    for _ in range(3):
        live_server.store.create_request(new, actor="x", idempotency_key=None)
    token = make_token()
    behind = SSEReader(live_server.url, token, last_event_id=1)
    up_to_date = SSEReader(live_server.url, token, last_event_id=3)
    ahead = SSEReader(live_server.url, token, last_event_id=50)  # e.g. the database was reset
    try:
        assert behind.next_event(1.0) == {"event": "change", "id": "3", "data": '{"seq":3}'}
        assert up_to_date.next_event(0.4) is None
        assert ahead.next_event(1.0) == {"event": "change", "id": "3", "data": '{"seq":3}'}
    finally:
        for reader in (behind, up_to_date, ahead):
            reader.close()
    r = httpx.get(
        f"{live_server.url}/v1/events",
        headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "x1"},
    )
    assert r.status_code == 422
    r = httpx.get(
        f"{live_server.url}/v1/events",
        params={"last_event_id": -1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422


def test_query_last_event_id(live_server: LiveServer, make_token: Callable[..., str]) -> None:
    live_server.store.create_request(
        NewRequest.model_validate(new_request()), actor="x", idempotency_key=None
    )
    token = make_token()
    client = httpx.Client(timeout=5)
    with client.stream(
        "GET", f"{live_server.url}/v1/events?last_event_id=0", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        lines = response.iter_lines()
        assert [next(lines) for _ in range(3)] == ["event: change", 'data: {"seq":1}', "id: 1"]
    client.close()


def test_ping_comment(
    live_server: LiveServer, make_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.2)  # 15 s in production
    reader = SSEReader(live_server.url, make_token())
    try:
        assert reader.next(2.0) == {"comment": "ping"}
    finally:
        reader.close()


def test_writes_by_another_process_are_noticed(
    live_server: LiveServer, make_token: Callable[..., str], tmp_db: Path
) -> None:
    reader = SSEReader(live_server.url, make_token())
    other = SqlStore.open(tmp_db)  # not wired to this server's notifier: only the poll sees it
    try:
        started = time.monotonic()
        other.create_request(
            NewRequest.model_validate(new_request()), actor="elsewhere", idempotency_key=None
        )
        event = reader.next_event(1.5)
        assert event is not None and event["id"] == "1"
        assert time.monotonic() - started < 1.0
    finally:
        other.close()
        reader.close()


def test_stop_is_prompt_with_a_client_connected(tmp_db: Path) -> None:
    server = LiveServer(tmp_db).start()
    token = server.create_token("watcher")
    reader = SSEReader(server.url, token)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3.0
    assert reader.finished.wait(3.0)
    reader.close()


def test_restart_same_port_and_database(tmp_db: Path) -> None:
    server = LiveServer(tmp_db).start()
    try:
        token = server.create_token("d")
        port = server.port
        client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
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
        assert reader.next_event(1.0) == {"event": "change", "id": "2", "data": '{"seq":2}'}
        reader.close()
        client.close()
    finally:
        server.stop()
