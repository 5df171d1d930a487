"""Shared fixtures: a temporary SQLite file, a live API server on it, tokens and HTTP clients.

- `tmp_db`: a path to a (not yet existing) SQLite file in a temp dir.
- `live_server`: a started `central_api.server.LiveServer` (real uvicorn on 127.0.0.1, free port)
  over `tmp_db`; stopped after the test. `live_server.url`, `live_server.store`.
- `make_token(role="dispatcher", name=None) -> str`: a new bearer token on `live_server`.
- `api(role="dispatcher", name=None) -> httpx.Client`: a client with base_url and a token for
  that role; closed after the test.
- `bearer(token) -> dict`: the Authorization header for a token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from api_client.models import Role
from central_api.server import LiveServer

_names = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    return tmp_path / "hotline.db"


@pytest.fixture
def live_server(tmp_db: Path) -> Iterator[LiveServer]:
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
        c = httpx.Client(base_url=live_server.url, headers=bearer(make_token(role, name)), timeout=10)
        clients.append(c)
        return c

    yield client
    for c in clients:
        c.close()
