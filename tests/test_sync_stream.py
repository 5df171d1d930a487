"""The sync engine on the event stream: a connected client's cache takes the changes the stream
carries without pulling; a client the stream cannot carry pulls, then follows it again; a page it
cannot use is refused with a clear error and pulled instead; an older server's notices still
work. Pulls are counted on the server (its `GET /v1/changes` requests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from faultservers import SSE_HEAD, Conn, FaultServer, response, sse_event
from test_sync_support import World, fast_client, make_engine, new_request, open_world, server_act

import central_api.server
from api_client.actions import AddNote
from api_client.events import ChangeStream, RefusedPage
from api_client.models import Request
from central_api import change_ring
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from local_cache.local_store import LocalStore
from local_cache.sync import SyncEngine, SyncStatus

Scope = dict[str, Any]
Asgi = Callable[..., Any]


class PullCounter:
    """ASGI middleware: the query of every `GET /v1/changes` lands in `seen`."""

    def __init__(self, app: Asgi, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Asgi, send: Asgi) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/changes":
            self.seen.append(scope["query_string"].decode())
        await self.app(scope, receive, send)


@pytest.fixture
def pulls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pulls a server started after this fixture answers."""
    seen: list[str] = []
    real = central_api.server.create_app

    def counting(*args: Any, **kwargs: Any) -> Any:
        app = real(*args, **kwargs)
        app.add_middleware(PullCounter, seen=seen)
        return app

    monkeypatch.setattr(central_api.server, "create_app", counting)
    return seen


@pytest.fixture
def counted_server(pulls: list[str], tmp_db: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_db).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def world(counted_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(counted_server, tmp_path) as made:
        yield made


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def notes(store: LocalStore, request_id: str) -> list[str]:
    cached = store.cache.get(request_id)
    return [] if cached is None else [n.text for n in cached.notes]


async def test_a_write_reaches_a_connected_cache_without_a_pull(world: World, pulls: list[str]) -> None:
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client(), poll_interval=60.0)
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: len(pulls) == 1 and engine.status.cached == 10)  # the first pull
        # every line break JSON leaves raw travels inside one `data:` line
        text = "from the centre\r\nline\u2028two\u2029three\x85four\x0bfive\x0c\x1c\x1d\x1e end"
        for request_id in world.ids[:3]:
            server_act(world.server, request_id, AddNote(text=text))
        await until(lambda: all(notes(store, r) == [text] for r in world.ids[:3]))
        assert store.cache.cursor == world.server.store.head()
        assert pulls == ["since=0&limit=500"]
        assert engine.status.online and engine.status.last_error == ""
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()


async def test_a_client_behind_pulls_and_then_follows_the_stream(
    world: World, pulls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_ring, "MAX_CARRIED", 3)  # more changes than that at once: a notice
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client(), poll_interval=60.0)
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: len(pulls) == 1 and engine.status.cached == 10)
        burst = world.server.store.create_requests([new_request(i) for i in range(5)], actor="intake")
        await until(lambda: engine.status.cached == 15)
        assert len(pulls) == 2 and pulls[1].startswith("since=10&")
        server_act(world.server, burst[0].id, AddNote(text="carried again"))
        await until(lambda: notes(store, burst[0].id) == ["carried again"])
        assert len(pulls) == 2
        assert store.cache.cursor == world.server.store.head() == 16
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()


# -- a fake server ------------------------------------------------------------------------------


def made_request(tmp_path: Path) -> Request:
    """A real request, as a server stores it (seq 1)."""
    store = SqlStore.open(tmp_path / "made.db")
    try:
        return store.create_request(new_request(0), actor="intake", idempotency_key=None).request
    finally:
        store.close()


def carried_event(since: int, changes: list[dict[str, Any]], seq: int) -> bytes:
    page = {"since": since, "changes": changes, "next_since": seq, "head": seq, "has_more": False}
    return b"event: changes\ndata: %b\nid: %d\n\n" % (orjson.dumps(page), seq)


class FakeCentre:
    """A server whose event stream sends `event` once the first pull has been answered (empty);
    later pulls answer the page holding `request` at seq 1."""

    def __init__(self, event: bytes, request: Request) -> None:
        self.event = event
        self.page = {
            "changes": [{"seq": 1, "action": "intake", "request": orjson.loads(request.model_dump_json())}],
            "next_since": 1,
            "head": 1,
            "has_more": False,
        }
        self.pulled_once = asyncio.Event()
        self.pulls = 0

    async def handle(self, conn: Conn) -> None:
        if conn.hit.target.startswith("/v1/changes"):
            self.pulls += 1
            empty = {"changes": [], "next_since": 0, "head": 0, "has_more": False}
            await conn.send(response(200, self.page if self.pulled_once.is_set() else empty))
            self.pulled_once.set()
        elif conn.hit.target.startswith("/v1/events"):
            await self.pulled_once.wait()
            await conn.send(SSE_HEAD + self.event)
            await asyncio.sleep(3600)
        else:
            await conn.send(response(404, {"code": "not_found", "detail": "no", "params": {}}))


def events_for(request: Request) -> dict[str, bytes]:
    change = {"seq": 1, "action": "intake", "request": orjson.loads(request.model_dump_json())}
    no_state = {**change, "request": {k: v for k, v in change["request"].items() if k != "state"}}
    return {
        "malformed page": carried_event(0, [no_state], 1),
        "page breaking the feed's rules": carried_event(0, [change, change], 1),
        "page after a gap": carried_event(5, [{**change, "seq": 6}], 6),
        "older server's notice": sse_event(1),
    }


@pytest.mark.parametrize(
    "kind", ["malformed page", "page breaking the feed's rules", "page after a gap", "older server's notice"]
)
async def test_what_the_stream_cannot_bring_is_pulled(tmp_path: Path, kind: str) -> None:
    request = made_request(tmp_path)
    centre = FakeCentre(events_for(request)[kind], request)
    statuses: list[SyncStatus] = []
    async with FaultServer(centre.handle) as server, fast_client(server.url, "token") as client:
        cache = tmp_path / "cache"
        cache.mkdir(mode=0o700)
        store = LocalStore.open(cache, server_url=server.url, dispatcher="zhang")
        engine = SyncEngine(store, client, on_status=statuses.append, poll_interval=60.0, flush_interval=0.2)
        task = asyncio.create_task(engine.run())
        try:
            # The cursor is written before the engine says the pull succeeded: wait for both.
            await until(lambda: store.cache.cursor == 1 and bool(statuses) and not statuses[-1].last_error)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        cached = store.cache.get(request.id)
        assert cached is not None and cached.version == request.version
        store.close()
    assert centre.pulls == 2  # the first pull (empty), then the one the stream asked for
    errors = [s.last_error for s in statuses if s.last_error]
    if kind == "malformed page":
        assert errors and "GET /v1/events" in errors[0] and "changes.0.request.state" in errors[0]
    elif kind == "page breaking the feed's rules":
        assert errors and "malformed change page" in errors[0] and "change 1 follows 1" in errors[0]
    else:
        assert errors == []
    assert statuses[-1].last_error == ""


async def test_the_stream_says_why_it_refused_a_page(tmp_path: Path) -> None:
    request = made_request(tmp_path)
    centre = FakeCentre(events_for(request)["malformed page"], request)
    centre.pulled_once.set()
    async with FaultServer(centre.handle) as server, fast_client(server.url, "token") as client:
        stream = ChangeStream(client, read_timeout=5.0)
        async with asyncio.timeout(10), contextlib.aclosing(stream.notices()) as items:
            item = await anext(items)
    assert isinstance(item, RefusedPage) and item.seq == 1 == stream.last_event_id
    assert item.error.field == "changes.0.request.state"
    assert "the central API sent an invalid answer to GET /v1/events" in item.error.message
