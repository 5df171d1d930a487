"""Helpers for the sync tests (no tests here): seeded servers, fast clients, caches, dispatchers.

Imported by the `test_sync_*.py` modules; pytest collects this file and finds nothing to run.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_client.actions import Action
from api_client.client import HotlineClient
from api_client.models import Channel, LocationIn, NewRequest, Request, RequestType, Role
from central_api.server import LiveServer
from local_cache.local_store import LocalStore
from local_cache.sync import SyncEngine

REPO = Path(__file__).resolve().parent.parent


def new_request(i: int) -> NewRequest:
    """A valid intake (a roof leak in community c01), numbered so that descriptions differ."""
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description=f"Water through the ceiling, call {i}.",
        location=LocationIn(street="德胜里一区", community="c01", address=f"德胜里一区 3-2-{400 + i}"),
    )


def seed(server: LiveServer, count: int) -> list[Request]:
    """`count` new requests on `server`, in one transaction."""
    return server.store.create_requests([new_request(i) for i in range(count)], actor="intake")


def fast_client(url: str, token: str, *, attempts: int = 2, deadline: float = 8.0) -> HotlineClient:
    """A client that gives up quickly (the tests stop servers on purpose: a stopped server refuses
    at once). A live server on a loaded machine may take seconds to accept: 5 s to connect."""
    return HotlineClient(
        url,
        token,
        connect_timeout=5.0,
        read_timeout=5.0,
        deadline=deadline,
        attempts=attempts,
        wait_initial=0.05,
        wait_max=0.2,
        wait_jitter=0.05,
    )


def make_engine(store: LocalStore, client: HotlineClient, **options: Any) -> SyncEngine:
    """A SyncEngine with short intervals and backoff, for tests."""
    settings: dict[str, Any] = {
        "poll_interval": 0.5,
        "backoff_initial": 0.05,
        "backoff_max": 0.3,
        "backoff_jitter": 0.05,
        "flush_interval": 0.2,
    }
    settings.update(options)
    return SyncEngine(store, client, **settings)


def server_act(server: LiveServer, request_id: str, action: Action, actor: str = "other") -> Request:
    """Apply `action` straight in the server's store, as another dispatcher would."""
    current = server.store.get_request(request_id)
    outcome = server.store.apply(
        request_id, action, actor=actor, if_match=current.version, idempotency_key=None
    )
    return outcome.request


def note_counts(server: LiveServer, request_ids: list[str]) -> Counter[str]:
    """How often each note text appears on the server, over `request_ids`."""
    counts: Counter[str] = Counter()
    for request_id in request_ids:
        counts.update(n.text for n in server.store.get_request(request_id).notes)
    return counts


def audit_actions(server: LiveServer, request_id: str) -> list[str]:
    """The actions the server applied to a request, oldest first (the intake included)."""
    return [event.action for event in server.store.audit(request_id)]


def hotline_script() -> str:
    """The installed console script next to this interpreter."""
    script = Path(sys.executable).parent / "hotline"
    found = str(script) if script.exists() else shutil.which("hotline")
    assert found, "the hotline command is not installed: pip install -e ."
    return found


@dataclass
class Dispatcher:
    """A token holder with a private cache directory on one server."""

    name: str
    token: str
    cache: Path
    server: LiveServer
    clients: list[HotlineClient] = field(default_factory=list)

    def open(self) -> LocalStore:
        return LocalStore.open(self.cache, server_url=self.server.url, dispatcher=self.name)

    def client(self, **options: Any) -> HotlineClient:
        client = fast_client(self.server.url, self.token, **options)
        self.clients.append(client)
        return client


@dataclass
class World:
    """A live server with seeded requests, and dispatchers who sync against it."""

    server: LiveServer
    requests: list[Request]
    tmp: Path
    people: list[Dispatcher] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.requests]

    def dispatcher(self, name: str) -> Dispatcher:
        token = self.server.create_token(name, Role.dispatcher)
        cache = self.tmp / f"cache-{name}"
        cache.mkdir(mode=0o700)
        person = Dispatcher(name, token, cache, self.server)
        self.people.append(person)
        return person


@asynccontextmanager
async def open_world(server: LiveServer, tmp: Path, count: int = 10) -> AsyncIterator[World]:
    """The live server with `count` new requests; clients made through it are closed after."""
    made = World(server, seed(server, count), tmp)
    try:
        yield made
    finally:
        for person in made.people:
            for client in person.clients:
                await client.aclose()


async def synced_store(who: Dispatcher, **options: Any) -> tuple[LocalStore, SyncEngine]:
    """`who`'s cache, opened and pulled to the server's head, with its engine."""
    store = who.open()
    engine = make_engine(store, who.client(), **options)
    await engine.pull()
    return store, engine
