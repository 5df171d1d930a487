"""The pull's pages: the change feed sent as lines (`CHANGE_LINES`) or as JSON by an older
server, each request checked for its stamp when pulled and in full when first read. A bad page
stops the pull with the cursor at the last good page; a request that turns out invalid when
first read is left out with a message naming the field, and nothing else is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import orjson
import pytest
from faultservers import Conn, FaultServer, response
from test_sync_bad_pages import assert_a_bad_page_stops_the_pull
from test_sync_support import World, fast_client, make_engine, open_world, server_act, synced_store

from api_client.actions import AddNote
from api_client.models import CHANGE_LINES, Request
from central_api.server import LiveServer


@pytest.fixture
async def world(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(live_server, tmp_path) as made:
        yield made


def lines_page(world: World, token: str, *, since: int, limit: int = 3) -> list[bytes]:
    """A page of the live server's feed as lines (the head first, then one line per request)."""
    answer = httpx.get(
        f"{world.server.url}/v1/changes",
        params={"since": since, "limit": limit},
        headers={"Authorization": f"Bearer {token}", "Accept": CHANGE_LINES},
        timeout=5,
    )
    answer.raise_for_status()
    assert answer.headers["Content-Type"].startswith(CHANGE_LINES)
    assert answer.content.endswith(b"\n")
    return answer.content.split(b"\n")[:-1]


def joined(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def spoil_request(lines: list[bytes], index: int, **fields: object) -> list[bytes]:
    request = orjson.loads(lines[1 + index])
    for name, value in fields.items():
        if value is None:
            del request[name]
        else:
            request[name] = value
    return [*lines[: 1 + index], orjson.dumps(request), *lines[2 + index :]]


async def test_a_page_as_lines_is_the_json_page(world: World) -> None:
    zhang = world.dispatcher("zhang")
    tricky = 'two\nlines, "quoted", a \\ backslash, \u2028 and 中文'
    server_act(world.server, world.ids[0], AddNote(text=tricky))
    async with fast_client(world.server.url, zhang.token) as client:
        pulled = await client.pull_page(0, 100)
        page = await client.changes(0, 100)
    assert pulled.seqs == [change.seq for change in page.changes] == list(range(1, 12))
    assert [Request.model_validate_json(data) for data in pulled.requests] == [
        c.request for c in page.changes
    ]
    assert [stamp.id for stamp in pulled.stamps] == [c.request.id for c in page.changes]
    assert (pulled.next_since, pulled.head, pulled.has_more) == (11, 11, False)
    assert page.changes[-1].request.notes[0].text == tricky

    async def older_server(conn: Conn) -> None:  # one that only speaks JSON
        await conn.send(response(200, page.model_dump_json().encode()))

    async with FaultServer(older_server) as fault, fast_client(fault.url, zhang.token) as client:
        from_json = await client.pull_page(0, 100)
    assert fault.hits[0].headers["accept"].startswith(CHANGE_LINES)
    assert (from_json.seqs, from_json.stamps) == (pulled.seqs, pulled.stamps)
    assert [orjson.loads(data) for data in from_json.requests] == [orjson.loads(d) for d in pulled.requests]


BAD_LINES: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
    "request without id": (lambda lines: spoil_request(lines, 1, id=None), "field 'changes.1.request.id'"),
    "unknown state": (
        lambda lines: spoil_request(lines, 0, state="exploded"),
        "field 'changes.0.request.state'",
    ),
    "version 0": (lambda lines: spoil_request(lines, 2, version=0), "field 'changes.2.request.version'"),
    "request cut short": (
        lambda lines: [*lines[:3], lines[3][:40]],
        "field 'changes.2.request': Invalid JSON",
    ),
    "two requests on one line": (
        lambda lines: [lines[0], lines[1] + b"," + lines[2], lines[2], lines[3]],
        "field 'changes.0.request': Invalid JSON",
    ),
    "a request line missing": (lambda lines: lines[:3], "2 request lines for 3 changes"),
    "bad head": (
        lambda lines: [lines[0].replace(b'"has_more":false', b'"has_more":"perhaps"'), *lines[1:]],
        "field 'has_more'",
    ),
    "seqs backwards": (
        lambda lines: [lines[0].replace(b"[[14,", b"[[99,"), *lines[1:]],
        "change 15 follows 99",
    ),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
async def test_a_bad_page_of_lines_stops_the_pull_and_keeps_the_cursor(world: World, case: str) -> None:
    spoil, expected = BAD_LINES[case]
    await assert_a_bad_page_stops_the_pull(
        world,
        good=lambda token: joined(lines_page(world, token, since=10)),
        bad=lambda token: joined(spoil(lines_page(world, token, since=13))),
        content_type=CHANGE_LINES,
        expected=expected,
    )


async def test_a_request_invalid_when_first_read_is_left_out_with_a_message(world: World) -> None:
    zhang = world.dispatcher("zhang")
    store, _ = await synced_store(zhang)
    bad_id, good_id = world.ids[4], world.ids[5]
    server_act(world.server, bad_id, AddNote(text="new"))  # seq 11
    server_act(world.server, good_id, AddNote(text="new"))  # seq 12
    page = spoil_request(lines_page(world, zhang.token, since=10), 0, due_at="not a time")

    async def serve(conn: Conn) -> None:
        await conn.send(response(200, joined(page), content_type=CHANGE_LINES))

    changed: list[str] = []
    async with FaultServer(serve) as fault, fast_client(fault.url, zhang.token, attempts=1) as client:
        assert await make_engine(store, client, on_changed=changed.extend).pull() == 2
    assert changed == [bad_id, good_id] and store.cache.cursor == 12

    assert store.view(bad_id) is None  # first read: invalid, left out
    message = store.cache.messages[-1]
    assert f"the central API sent request {bad_id} with an invalid field 'due_at'" in message
    assert "left out" in message
    assert bad_id not in store.cache and store.cache.cursor == 12  # the feed would send it again
    assert store.view(bad_id) is None and len(store.cache.messages) == 1  # said once
    view = store.view(good_id)
    assert view is not None and [n.text for n in view.notes] == ["new"]
    store.close()

    reopened = zhang.open()
    assert reopened.messages == [] and bad_id not in reopened.cache and reopened.cache.cursor == 12
    server_act(world.server, bad_id, AddNote(text="again"))  # a newer, valid copy
    await make_engine(reopened, zhang.client()).pull()
    again = reopened.view(bad_id)
    assert again is not None and [n.text for n in again.notes] == ["new", "again"]
    reopened.close()


async def test_an_unread_invalid_request_on_disk_is_pulled_again_when_read(world: World) -> None:
    """Flushed before anyone read it, then read by a later process: that process cannot tell
    the server sent it, so it is the cached copy that is dropped, and everything pulled again."""
    zhang = world.dispatcher("zhang")
    store, _ = await synced_store(zhang)
    bad_id = world.ids[4]
    server_act(world.server, bad_id, AddNote(text="new"))  # seq 11
    page = spoil_request(lines_page(world, zhang.token, since=10), 0, received_at=None)

    async def serve(conn: Conn) -> None:
        await conn.send(response(200, joined(page), content_type=CHANGE_LINES))

    async with FaultServer(serve) as fault, fast_client(fault.url, zhang.token, attempts=1) as client:
        assert await make_engine(store, client).pull() == 1
    store.close()

    reopened = zhang.open()
    assert reopened.view(bad_id) is None
    assert reopened.cache.cursor == 0 and "downloaded again" in reopened.cache.messages[-1]
    await make_engine(reopened, zhang.client()).pull()  # the sound server's copy
    assert reopened.view(bad_id) == world.server.store.get_request(bad_id)
    reopened.close()
