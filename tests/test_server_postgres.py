"""The store over PostgreSQL, and the throwaway cluster the tests run it on.

By default each test gets a new database in this worker's own cluster (`central_api.sql.pg_cluster`,
started from the installed binaries). `HOTLINE_TEST_POSTGRES_URL` names an empty database of
another server to use instead (e.g. `postgresql+psycopg://postgres@127.0.0.1:5432/hotline_test`);
the tables made there are dropped afterwards. The rest of the suite runs on PostgreSQL through
`tmp_db` (`conftest.py`)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import bearer
from pg_support import Databases
from server_helpers import new_request
from sqlalchemy import create_engine

from api_client.actions import Accept, Action, Dispatch, LogCallback, Resolve
from api_client.models import NewRequest, Role, Satisfaction
from central_api.server import LiveServer
from central_api.sql import tables
from central_api.sql.pg_cluster import MAX_CONNECTIONS, PgCluster, PgUnavailable
from central_api.sql_store import SqlStore

URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL", "")


@pytest.fixture
def pg_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    if not URL:
        url = str(databases.new("postgres", tmp_path))
        yield url
        databases.drop(url)
        return
    yield URL
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
            Resolve(summary="屋顶已修好"),
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
        client = httpx.Client(
            timeout=30, base_url=server.url, headers=bearer(server.create_token("p", Role.dispatcher))
        )
        assert client.post("/v1/requests", json=new_request()).status_code == 201
        assert client.get("/v1/changes").json()["head"] == 1
        assert client.get("/v1/stats").json()["total"] == 1
        client.close()
    finally:
        server.stop()


def test_the_cluster_is_fast_loopback_only_and_trusting(databases: Databases) -> None:
    cluster = databases.cluster
    names = ("fsync", "synchronous_commit", "full_page_writes", "max_connections", "listen_addresses")
    with psycopg.connect(host="127.0.0.1", port=cluster.port, user=cluster.user, dbname="postgres") as conn:
        shown = {name: conn.execute(f"SHOW {name}".encode()).fetchall()[0][0] for name in names}
        sockets = conn.execute(b"SHOW unix_socket_directories").fetchall()[0][0]
    assert shown == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": str(MAX_CONNECTIONS),
        "listen_addresses": "127.0.0.1",
    }
    assert sockets == ""  # TCP only: no socket file to clash with another cluster's


def test_a_cluster_stops_and_its_port_is_free(tmp_path: Path) -> None:
    with PgCluster.start(tmp_path) as cluster:
        url = cluster.create_database("one")
        assert url == f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/one" == cluster.url("one")
        store = SqlStore.open(url)
        store.close()
        cluster.drop_database("one")
        with pytest.raises(ValueError):
            cluster.create_database("Robert'); DROP")
    assert not cluster.running
    cluster.stop()  # again: nothing
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", cluster.port)) != 0


def test_without_the_programs_the_reason_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(PgUnavailable, match=r"^PostgreSQL's server programs \(initdb, pg_ctl\) are not in"):
        PgCluster.start(tmp_path, bindir=tmp_path)
