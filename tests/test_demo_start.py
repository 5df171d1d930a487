"""How `hotline demo` starts: the demo data written in bulk is what the store's writes make, and the
demo's server runs in a child process that says how to reach it, seeds, serves and stops.

Nothing here is timed: `python bench/demo_start.py` measures the start.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from api_client.models import RoutingRuleIn, State
from central_api.seed import seed_store
from central_api.seed_bulk import seed_new_database
from central_api.sql_store import SqlStore
from central_api.store import RequestFilter
from tui.cli.demo_server import DemoSpec, ServerProcess
from tui.cli.output import CliError

SUMMER = datetime(2025, 7, 31, 10, 0, tzinfo=UTC)  # a rainstorm in the month
WINTER = datetime(2026, 1, 20, 2, 30, tzinfo=UTC)  # a cold wave


def new_database(path: Path, template: Path) -> str:
    """A copy of the new database `template` (the same catalogue and callers' secret); its URL."""
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return f"sqlite:///{path}"


def table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in storage order."""
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall() for name in names}


@pytest.mark.parametrize(("now", "seed"), [(SUMMER, 3), (WINTER, 12345)])
def test_the_bulk_seed_writes_what_the_store_writes(tmp_path: Path, now: datetime, seed: int) -> None:
    template = tmp_path / "new.db"
    SqlStore.open(template).close()
    through_store, in_bulk = tmp_path / "store.db", tmp_path / "bulk.db"
    store = SqlStore.open(new_database(through_store, template))
    try:
        assert seed_store(store, seed=seed, count=300, now=now) == 300
    finally:
        store.close()
    assert seed_new_database(new_database(in_bulk, template), seed=seed, count=300, now=now) == 300

    expected, written = table_rows(through_store), table_rows(in_bulk)
    assert written.keys() == expected.keys()
    for name in expected:  # the same requests, callers, change feed and audit trail, byte for byte
        assert written[name] == expected[name], name
    store = SqlStore.open(in_bulk)
    try:
        requests = store.list_requests(RequestFilter(limit=1000))
        assert len(requests) == 300
        assert {r.state for r in requests} >= {State.new, State.accepted, State.closed, State.resolved}
        resolved_with_parent = [
            e for r in requests if r.merged_into for e in store.audit(r.id) if "with_parent" in e.detail
        ]
        assert resolved_with_parent  # merges and their resolution with the parent are covered
        assert store.head() == len(expected["changes"]) > 300
    finally:
        store.close()


def test_the_bulk_seed_wants_a_new_database(tmp_path: Path) -> None:
    store = SqlStore.open(tmp_path / "demo.db")
    try:
        seed_new_database(store.url, seed=1, count=5, now=SUMMER)
        with pytest.raises(ValueError, match="without requests"):
            seed_new_database(store.url, seed=1, count=5, now=SUMMER)
    finally:
        store.close()
    store = SqlStore.open(tmp_path / "rules.db")
    try:
        rule = RoutingRuleIn(category="waterlogging", lead_unit="pm01", auto_dispatch=True)
        store.put_routing_rule("storm", rule, actor="supervisor", if_match=None)
        with pytest.raises(ValueError, match="auto-dispatch"):
            seed_new_database(store.url, seed=1, count=5, now=SUMMER)
        assert store.head() == 0
    finally:
        store.close()
    assert seed_new_database(SqlStore.open(tmp_path / "empty.db").url, seed=1, count=0, now=SUMMER) == 0


def test_the_demo_server_process_answers_then_seeds_serves_and_stops(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.mkdir(mode=0o700)
    log = workdir / "server.log"
    spec = DemoSpec(db=workdir / "demo.db", fresh=True, port=0, seed=7, count=40)
    process = ServerProcess(spec, log=log).start()
    try:
        reach = process.reachable()
        assert reach.dispatcher == "demo-dispatcher" and reach.url.startswith("http://127.0.0.1:")
        headers = {"Authorization": f"Bearer {reach.token}"}
        deadline = time.monotonic() + 60
        total = 0
        while total < 40 and time.monotonic() < deadline:  # the data lands in one transaction
            total = httpx.get(f"{reach.url}/v1/stats", headers=headers, timeout=30).json()["total"]
            time.sleep(0.1)
        assert total == 40
    finally:
        process.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{reach.url}/v1/stats", headers=headers, timeout=2)
    assert log.stat().st_mode & 0o777 == 0o600
    store = SqlStore.open(spec.db)  # a second run on the kept database: another token, no new data
    try:
        assert [t.name for t in store.tokens()] == ["demo-dispatcher"]
    finally:
        store.close()
    again = ServerProcess(DemoSpec(db=spec.db, fresh=False, port=0, seed=7, count=40), log=log).start()
    try:
        assert again.reachable().dispatcher == "demo-dispatcher-2"
    finally:
        again.stop()


def test_a_demo_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("not a database\n")
    os.chmod(not_a_database, 0o600)
    spec = DemoSpec(db=not_a_database, fresh=False, port=0, seed=7, count=5)
    process = ServerProcess(spec, log=tmp_path / "server.log").start()
    try:
        with pytest.raises(CliError, match="database"):
            process.reachable()
    finally:
        process.stop()


def test_a_port_in_use_is_refused_before_the_server_process_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = DemoSpec(db=tmp_path / "demo.db", fresh=True, port=port, seed=7, count=5)
        with pytest.raises(CliError, match=f"cannot listen on 127.0.0.1:{port}"):
            ServerProcess(spec, log=tmp_path / "server.log").start()
    assert not spec.db.exists()


def test_without_fork_the_server_runs_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(method: str) -> None:
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    spec = DemoSpec(db=tmp_path / "demo.db", fresh=True, port=0, seed=7, count=12)
    process = ServerProcess(spec, log=tmp_path / "server.log").start()
    try:
        reach = process.reachable()  # seeded before it answers
        stats = httpx.get(
            f"{reach.url}/v1/stats", headers={"Authorization": f"Bearer {reach.token}"}, timeout=30
        )
        assert stats.json()["total"] == 12
    finally:
        assert process.stop() is None
