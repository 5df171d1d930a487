"""SqlStore directly: opening, the catalogue, pragmas, datetimes, directory audit, listeners."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pg_support import Db
from server_helpers import new_request

from api_client.actions import Dispatch
from api_client.models import Category, Community, NewRequest, Role, State, Tier, Unit, UnitKind
from central_api import catalogue
from central_api.sql.engine import DatabaseUnavailable, database_url
from central_api.sql.schema import Catalogue
from central_api.sql_store import SqlStore
from central_api.store import InvalidInput, RequestFilter, RequestNotFound, UnitNotFound

TINY = Catalogue(
    units=[Unit(id="u1", name="Unit one", kind=UnitKind.community)],
    categories=[Category(code="noise", name="Noise", tier=Tier.d7)],
    communities=[Community(id="k1", name="Community one")],
)


def test_urls_and_paths(tmp_path: Path) -> None:
    assert database_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert database_url("postgresql://h/db") == "postgresql://h/db"
    for url in (str(tmp_path / "plain.db"), f"sqlite:///{tmp_path / 'url.db'}"):
        store = SqlStore.open(url)
        assert store.head() == 0 and store.categories()
        store.close()
    assert (tmp_path / "plain.db").exists() and (tmp_path / "url.db").exists()
    with pytest.raises(DatabaseUnavailable):
        SqlStore.open("sqlite://")
    with pytest.raises(DatabaseUnavailable, match="No such file or directory"):
        SqlStore.open(tmp_path / "no" / "such" / "dir" / "x.db")
    with pytest.raises(DatabaseUnavailable):
        SqlStore.open("nosuchdialect://x/y")
    (tmp_path / "not-a-db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseUnavailable):
        SqlStore.open(tmp_path / "not-a-db")


def test_catalogue_loaded_once(tmp_db: Db) -> None:
    db = tmp_db
    store = SqlStore.open(db)
    assert [u.id for u in store.units()] == [u.id for u in catalogue.UNITS]
    assert store.categories() == catalogue.CATEGORIES
    centres = catalogue.COMMUNITY_CENTRES  # served with each community, for the map
    assert store.communities() == [
        c.model_copy(update={"centre": centres[c.id]}) for c in catalogue.COMMUNITIES
    ]
    store.set_unit_on_duty("cc01", False, actor="sup")
    store.close()
    again = SqlStore.open(db, catalogue=TINY)  # an existing database keeps its own directory
    assert len(again.units()) == len(catalogue.UNITS)
    assert next(u for u in again.units() if u.id == "cc01").on_duty is False
    again.close()


def test_tiny_catalogue_and_wal(tmp_db: Db) -> None:
    db = tmp_db
    store = SqlStore.open(db, catalogue=TINY)
    assert [c.code for c in store.categories()] == ["noise"]
    created = store.create_request(
        NewRequest.model_validate(new_request(category="noise", location={"community": "k1"})),
        actor="a",
        idempotency_key=None,
    ).request
    assert created.tier is Tier.d7
    with pytest.raises(InvalidInput):
        store.apply(created.id, Dispatch(lead_unit="cc01"), actor="a", if_match=1, idempotency_key=None)
    store.close()
    if isinstance(db, Path):  # a SQLite file
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_datetimes_round_trip(tmp_db: Db) -> None:
    beijing = timezone(timedelta(hours=8))
    fixed = datetime(2026, 5, 1, 20, 30, tzinfo=beijing)
    store = SqlStore.open(tmp_db, clock=lambda: fixed)
    body = new_request(received_at="2026-05-01T09:15:00.123456+08:00")
    req = store.create_request(NewRequest.model_validate(body), actor="a", idempotency_key=None).request
    assert req.received_at == datetime(2026, 5, 1, 1, 15, 0, 123456, tzinfo=UTC)
    assert req.updated_at == fixed
    stored = store.get_request(req.id)
    assert stored == req
    window = RequestFilter(received_from=datetime(2026, 5, 1, 9, 15, tzinfo=beijing))
    assert [r.id for r in store.list_requests(window)] == [req.id]
    late = RequestFilter(received_from=datetime(2026, 5, 1, 9, 16, tzinfo=beijing))
    assert store.list_requests(late) == []
    audit = store.audit(req.id)
    assert audit[0].at == fixed and audit[0].action == "intake"
    store.close()


def test_list_requests_filters(tmp_db: Db) -> None:
    store = SqlStore.open(tmp_db)
    ids = []
    for i, category in enumerate(["roof_leak", "roof_leak", "gas_leak"]):
        body = new_request(category=category, received_at=f"2026-01-0{i + 1}T00:00:00Z")
        ids.append(
            store.create_request(NewRequest.model_validate(body), actor="a", idempotency_key=None).request.id
        )
    assert [r.id for r in store.list_requests(RequestFilter())] == ids[::-1]  # newest first
    assert [r.id for r in store.list_requests(RequestFilter(ids=[ids[0]]))] == [ids[0]]
    assert len(store.list_requests(RequestFilter(categories=["roof_leak"]))) == 2
    assert [r.id for r in store.list_requests(RequestFilter(offset=1, limit=1))] == [ids[1]]
    assert len(store.list_requests(RequestFilter(states=[State.new]))) == 3
    assert store.list_requests(RequestFilter(states=[State.closed])) == []
    store.close()


def test_errors_and_tokens(tmp_db: Db) -> None:
    store = SqlStore.open(tmp_db)
    with pytest.raises(RequestNotFound):
        store.get_request("R-1")
    with pytest.raises(RequestNotFound):
        store.audit("R-1")
    with pytest.raises(UnitNotFound):
        store.set_unit_on_duty("nope", True, actor="x")
    with pytest.raises(InvalidInput):
        store.stats(since=None, until=None, unit="nope")
    token = store.create_token("ops", Role.admin)
    identity = store.identify(token)
    assert identity is not None and identity.name == "ops" and identity.role is Role.admin
    assert store.identify(token + "x") is None
    store.close()


def test_listeners_called_after_commit(tmp_db: Db) -> None:
    store = SqlStore.open(tmp_db)
    heard: list[tuple[int, int]] = []
    store.add_listener(lambda seq: heard.append((seq, store.head())))

    def failing(seq: int) -> None:
        raise RuntimeError("a failing listener never undoes a write")

    store.add_listener(failing)
    new = NewRequest.model_validate(new_request())
    threads = [
        threading.Thread(
            target=store.create_request, args=(new,), kwargs={"actor": "a", "idempotency_key": None}
        )
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seq for seq, _ in heard) == [1, 2, 3, 4, 5]
    assert all(head >= seq for seq, head in heard)  # the change was committed when we heard of it
    store.close()


def test_a_new_database_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = SqlStore.open(tmp_path / "private.db")
        store.create_token("x", Role.dispatcher)
        store.close()
    finally:
        os.umask(old)
    for name in ("private.db", "private.db-wal", "private.db-shm"):
        path = tmp_path / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_bulk_intake_is_all_or_nothing(tmp_db: Db) -> None:
    store = SqlStore.open(tmp_db)
    good = NewRequest.model_validate(new_request())
    bad = NewRequest.model_validate(new_request(category="no_such_category"))
    with pytest.raises(InvalidInput, match="no_such_category"):
        store.create_requests([good, good, bad], actor="import")
    assert store.head() == 0
    created = store.create_requests([good] * 3, actor="import")
    assert [r.change_seq for r in created] == [1, 2, 3]
    assert [c.request for c in store.changes(0, 10)[0]] == created
    assert store.audit(created[1].id)[0].actor == "import"
    store.close()
