"""Shared fixtures: a temporary database on either store, a live API server on it, tokens and
HTTP clients.

- `store_kind`: "sqlite" or "postgres". Tests in the modules of `BOTH_STORES` that use `tmp_db`
  run once on each; elsewhere on SQLite. `@pytest.mark.stores("sqlite", "postgres")` on a test
  (or a module's `pytestmark`) says which stores it runs on, wherever it is.
- `tmp_db`: a fresh database: a path to a (not yet existing) SQLite file in a temp dir, or the URL
  of a new empty database in this worker's throwaway PostgreSQL cluster (one per xdist worker,
  started on first use; `databases.cluster`), dropped after the test. For a test with
  `live_server`, that database is a copy of one a store has opened (the server would open it
  first anyway). Without PostgreSQL's programs a postgres test fails with the reason; it is never
  skipped. `databases.new(...)` makes more (`pg_support.Databases`).
- `live_server`: a started `central_api.server.LiveServer` (real uvicorn on 127.0.0.1, free port)
  over `tmp_db`; stopped after the test. `live_server.url`, `live_server.store`.
- `make_token(role="dispatcher", name=None) -> str`: a new bearer token on `live_server`.
- `api(role="dispatcher", name=None) -> httpx.Client`: a client with base_url and a token for
  that role; closed after the test.
- `bearer(token) -> dict`: the Authorization header for a token.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest
from pg_support import STORES, Databases, Db, StoreKind

from api_client.models import Role
from central_api.server import LiveServer

_names = itertools.count(1)

#: Modules whose tests (those using `tmp_db`) run on SQLite and on PostgreSQL: the server's, the
#: sync engine's and `hotline sync`'s ...
BOTH_STORES = ("test_server_*", "test_open311*", "test_tokens", "test_acceptance_client", "test_sync_*")
#: ... but this one: it kills clients, and its minutes go to the cache and the outbox, whatever
#: the server stores in.
SQLITE_ONLY = ("test_sync_crash",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stores(*kinds): the stores ('sqlite', 'postgres') a test using tmp_db runs on"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("stores")
    if marker is not None:
        kinds = tuple(marker.args)
    elif any(fnmatch(metafunc.module.__name__, p) for p in BOTH_STORES) and (
        metafunc.module.__name__ not in SQLITE_ONLY
    ):
        kinds = STORES
    else:
        kinds = ("sqlite",)
    if kinds != ("sqlite",):  # a SQLite-only test keeps its plain name
        metafunc.parametrize("store_kind", kinds, indirect=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    made = Databases(tmp_path_factory.getbasetemp())
    yield made
    made.close()


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> StoreKind:
    kind: StoreKind = getattr(request, "param", "sqlite")
    return kind


@pytest.fixture
def tmp_db(
    store_kind: StoreKind, tmp_path: Path, databases: Databases, request: pytest.FixtureRequest
) -> Iterator[Db]:
    # `live_server` opens the database first, as a copy of an opened one would already be.
    db = databases.new(store_kind, tmp_path, opened="live_server" in request.fixturenames)
    yield db
    databases.drop(db)


@pytest.fixture
def live_server(tmp_db: Db) -> Iterator[LiveServer]:
    server = LiveServer(tmp_db).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_token(live_server: LiveServer) -> Callable[..., str]:
    def make(role: Role | str = Role.dispatcher, name: str | None = None) -> str:
        role = Role(role)
        return live_server.store.create_token(name or f"{role.value}-{next(_names)}", role)

    return make


@pytest.fixture
def api(live_server: LiveServer, make_token: Callable[..., str]) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def client(role: Role | str = Role.dispatcher, name: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=live_server.url, headers=bearer(make_token(role, name)), timeout=30)
        clients.append(c)
        return c

    yield client
    for c in clients:
        c.close()


@pytest.fixture
def fixed_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to China Standard Time (`snapshot_support.TZ`) for the
    test, and put back after it: screens show local times."""
    from snapshot_support import TZ

    monkeypatch.setenv("TZ", TZ)
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()
