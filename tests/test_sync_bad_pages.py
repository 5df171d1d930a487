"""Acceptance 5 (the server's side): a server sending malformed change pages. The pull stops
with a clear message, the cursor stays at the last good page (on disk too), pending actions are
never touched, and the next sync against a sound server recovers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from faultservers import Conn, FaultServer, response
from test_sync_support import (
    World,
    fast_client,
    make_engine,
    open_world,
    server_act,
    synced_store,
)

from api_client.actions import AddNote
from api_client.errors import InvalidResponse
from central_api.server import LiveServer

Page = dict[str, Any]


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path) as made:
        yield made


def missing_id(page: Page) -> bytes:
    del page["changes"][0]["request"]["id"]
    return orjson.dumps(page)


def unknown_state(page: Page) -> bytes:
    page["changes"][1]["request"]["state"] = "exploded"
    return orjson.dumps(page)


def backwards(page: Page) -> bytes:
    page["changes"].reverse()
    return orjson.dumps(page)


def skips_ahead(page: Page) -> bytes:
    page["next_since"] += 50
    return orjson.dumps(page)


def empty_but_more(page: Page) -> bytes:
    return orjson.dumps({**page, "changes": [], "has_more": True})


def stale_seq(page: Page) -> bytes:
    page["changes"][0]["seq"] = 3
    return orjson.dumps(page)


def head_behind(page: Page) -> bytes:
    return orjson.dumps({**page, "changes": [], "next_since": 13, "head": 7, "has_more": False})


def truncated(page: Page) -> bytes:
    return orjson.dumps(page)[:100]


BAD_PAGES: dict[str, tuple[Callable[[Page], bytes], str]] = {
    "missing field": (missing_id, "field 'changes.0.request.id'"),
    "unknown state": (unknown_state, "field 'changes.1.request.state'"),
    "seqs backwards": (backwards, "change 15 follows 16"),
    "next_since skips": (skips_ahead, "next_since 66 is not the last change 16"),
    "empty with has_more": (empty_but_more, "an empty page must end at 13"),
    "seq before the cursor": (stale_seq, "change 3 is not after 13"),
    "server restored from a backup": (head_behind, "ends at 7, before this cache's cursor 13"),
    "truncated JSON": (truncated, "malformed JSON"),
}


@pytest.mark.parametrize("case", list(BAD_PAGES))
async def test_a_bad_page_stops_the_pull_keeps_the_cursor_and_the_outbox(world: World, case: str) -> None:
    corrupt, expected = BAD_PAGES[case]
    await assert_a_bad_page_stops_the_pull(
        world,
        good=lambda token: orjson.dumps(real_page(world, token, since=10)),
        bad=lambda token: corrupt(real_page(world, token, since=13)),
        content_type="application/json",
        expected=expected,
    )


async def assert_a_bad_page_stops_the_pull(
    world: World,
    *,
    good: Callable[[str], bytes],
    bad: Callable[[str], bytes],
    content_type: str,
    expected: str,
) -> None:
    """A server sends the good page after seq 10 (11..13), then `bad` after 13: the pull stops
    with `expected` in its message, the cursor at 13 (on disk too), the outbox untouched; a sound
    server afterwards brings everything. `good` and `bad` make a page's body for a token."""
    zhang = world.dispatcher("zhang")
    store, _ = await synced_store(zhang)
    assert store.cache.cursor == 10
    for request_id in world.ids[:3]:
        store.record(request_id, AddNote(text=f"pending on {request_id}"), actor=zhang.name)
    for request_id in world.ids[3:9]:
        server_act(world.server, request_id, AddNote(text="new on the server"))  # seqs 11..16
    good_body, bad_body = good(zhang.token), bad(zhang.token)

    async def serve(conn: Conn) -> None:
        since = int(parse_qs(urlsplit(conn.hit.target).query)["since"][0])
        await conn.send(response(200, good_body if since == 10 else bad_body, content_type=content_type))

    async with FaultServer(serve) as fault, fast_client(fault.url, zhang.token, attempts=1) as client:
        engine = make_engine(store, client, page_size=3, flush_interval=60.0)
        with pytest.raises(InvalidResponse) as caught:
            await engine.pull()
    assert expected in caught.value.message
    assert caught.value.message.startswith("the central API")
    assert store.cache.cursor == 13  # the good page is kept; the bad one moved nothing
    assert store.counts() == (10, 3, 0)
    store.close()

    reopened = zhang.open()  # the good page and its cursor were flushed together
    assert reopened.cache.cursor == 13 and reopened.counts() == (10, 3, 0)
    in_good, in_bad = reopened.cache.get(world.ids[5]), reopened.cache.get(world.ids[8])
    assert in_good is not None and len(in_good.notes) == 1  # seq 13: the good page
    assert in_bad is not None and in_bad.notes == []  # seq 16: the bad page
    summary = await make_engine(reopened, zhang.client()).sync_once()  # a sound server again
    assert (summary.pushed, summary.errors) == (3, [])
    assert reopened.cache.cursor == world.server.store.head() == 19
    for request_id in world.ids[:9]:
        assert reopened.cache.get(request_id) == world.server.store.get_request(request_id)
    reopened.close()


async def test_sync_once_reports_a_bad_page_in_its_summary(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store = zhang.open()

    async def serve(conn: Conn) -> None:
        await conn.send(response(200, b"<html>proxy login</html>", content_type="text/html"))

    async with FaultServer(serve) as fault, fast_client(fault.url, zhang.token, attempts=1) as client:
        summary = await make_engine(store, client).sync_once()
    assert not summary.ok and not summary.offline
    assert "text/html instead of JSON" in summary.errors[0]
    assert (summary.pulled, summary.cursor, store.cache.cursor) == (0, 0, 0)
    store.close()


def real_page(world: World, token: str, *, since: int) -> Page:
    """A page of the live server's feed as JSON (limit 3)."""
    answer = httpx.get(
        f"{world.server.url}/v1/changes",
        params={"since": since, "limit": 3},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    answer.raise_for_status()
    page: Page = answer.json()
    return page
