"""The same store over PostgreSQL. Runs only when HOTLINE_TEST_POSTGRES_URL names an empty
database (e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/hotline_test`) and a driver is
installed; skipped otherwise. The tables it creates are dropped afterwards."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import httpx
import pytest
from conftest import bearer
from server_helpers import new_request

from api_client.actions import Accept, Action, Dispatch, LogCallback, Resolve
from api_client.models import NewRequest, Role, Satisfaction
from central_api.server import LiveServer
from central_api.sql import tables
from central_api.sql_store import SqlStore

URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set HOTLINE_TEST_POSTGRES_URL to test PostgreSQL")


@pytest.fixture
def pg_url() -> Iterator[str]:
    pytest.importorskip("psycopg")
    yield URL
    from sqlalchemy import create_engine

    engine = create_engine(URL)
    tables.metadata.drop_all(engine)
    engine.dispose()


def test_store_on_postgres(pg_url: str) -> None:
    store = SqlStore.open(pg_url)
    other = SqlStore.open(pg_url)  # as another server process would: only the database serializes us
    try:
        new = NewRequest.model_validate(new_request())
        first = store.create_request(new, actor="a", idempotency_key="k").request
        assert store.create_request(new, actor="a", idempotency_key="k").replayed
        req = first
        steps: list[Action] = [
            Dispatch(lead_unit="cc01"),
            Accept(),
            Resolve(),
            LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied),
        ]
        for version, action in enumerate(steps, start=1):
            req = store.apply(req.id, action, actor="a", if_match=version, idempotency_key=None).request
        assert req.state == "closed" and req.change_seq == 5
        rates = store.stats(since=None, until=None, unit="cc01").rates
        assert (rates.dispatched, rates.responded_in_time, rates.valid_callbacks, rates.satisfied) == (
            1,
            1,
            1,
            1,
        )

        def write(target: SqlStore) -> None:
            for _ in range(25):
                target.create_request(new, actor="t", idempotency_key=None)

        threads = [threading.Thread(target=write, args=(s,)) for s in (store, store, other, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        changes, head = store.changes(0, 1000)
        assert [c.seq for c in changes] == list(range(1, head + 1)) and head == 105
        assert all(c.request.change_seq == c.seq for c in changes)
        assert store.get_request(first.id).received_at == first.received_at
    finally:
        other.close()
        store.close()


def test_live_server_on_postgres(pg_url: str) -> None:
    server = LiveServer(pg_url).start()
    try:
        client = httpx.Client(base_url=server.url, headers=bearer(server.create_token("p", Role.dispatcher)))
        assert client.post("/v1/requests", json=new_request()).status_code == 201
        assert client.get("/v1/changes").json()["head"] == 1
        assert client.get("/v1/stats").json()["total"] == 1
        client.close()
    finally:
        server.stop()
