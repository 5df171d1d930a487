"""The app against a real central API: a seeded server, a dispatcher's cache, a running app.

    async with running_app(server, tmp_path) as (app, pilot):
        await until(pilot, lambda: app.loaded)

`seeded_server(tmp, count)` writes the demo data (the catalogue and `count` requests) into a new
SQLite file (or the empty database `db`) and serves it on a free port; `open_session` opens a
dispatcher's private cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pg_support import Db
from textual.pilot import Pilot

from api_client.models import ChangesPage, Request, Role
from central_api.seed import seed_store
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from local_cache.directory import Directory
from tui.core.i18n import Strings
from tui.core.session import Session
from tui.ui.app import HotlineApp

#: The demo data's "now": fixed, so seeded requests are the same in every run.
SEED_NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def seeded_server(tmp: Path, count: int = 60, *, seed: int = 7, db: Db | None = None) -> LiveServer:
    db = db if db is not None else tmp / "central.db"
    store = SqlStore.open(db)
    try:
        seed_store(store, seed=seed, count=count)
    finally:
        store.close()
    return LiveServer(db).start()


@dataclass(frozen=True, slots=True)
class Central:
    """What a dispatcher's cache is filled from: every change of the seeded store, and its directory."""

    page: ChangesPage
    directory: Directory


def seeded_central(tmp: Path, count: int = 60, *, seed: int = 7) -> Central:
    """The demo data (fixed seed, fixed now) as one page of changes and a directory: for a cache
    filled without a server."""
    store = SqlStore.open(str(tmp / "central.db"))
    try:
        seed_store(store, seed=seed, count=count, now=SEED_NOW)
        changes, head = store.changes(0, 100_000)
        directory = Directory(
            units=store.units(),
            categories=store.categories(),
            communities=store.communities(),
            fetched_at=SEED_NOW,
        )
    finally:
        store.close()
    page = ChangesPage(changes=changes, next_since=changes[-1].seq, head=head, has_more=False)
    return Central(page=page, directory=directory)


@contextmanager
def cached_session(central: Central, cache: Path, *, directory: bool = True) -> Iterator[Session]:
    """An offline session (no token: an app on it never syncs) whose cache holds `central`'s
    requests, and its directory unless `directory` is False."""
    opened = Session.open(cache, api_url="http://127.0.0.1:8345", dispatcher="张敏", token=None)
    try:
        opened.store.apply_page(central.page)
        opened.store.flush()
        if directory:
            opened.set_directory(central.directory)
        yield opened
    finally:
        opened.close()


def open_session(server: LiveServer, tmp: Path, name: str = "张敏", *, sync: bool = True) -> Session:
    token = server.store.create_token(name, Role.dispatcher) if sync else None
    cache = tmp / f"cache-{len(list(tmp.glob('cache-*')))}"
    return Session.open(cache, api_url=server.url, dispatcher=name, token=token)


async def until(
    pilot: Pilot[Any], check: Callable[[], object], timeout: float = 15.0, what: str = ""
) -> None:
    """Let the app run until `check()` is true (fails after `timeout` seconds)."""
    steps = int(timeout / 0.05)
    for _ in range(steps):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def synced(app: HotlineApp, count: int | None = None) -> bool:
    status = app.last_status
    ready = app.loaded and status is not None and status.online and status.pending == 0
    return ready and (count is None or len(app.model) >= count)


@asynccontextmanager
async def running_app(
    session: Session, *, lang: str = "en", size: tuple[int, int] = (100, 30), **options: Any
) -> AsyncIterator[tuple[HotlineApp, Pilot[Any]]]:
    app = HotlineApp(session, strings=Strings("zh" if lang == "zh" else "en"), **options)
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
    finally:
        session.close()


def server_request(server: LiveServer, request_id: str) -> Request:
    return server.store.get_request(request_id)
