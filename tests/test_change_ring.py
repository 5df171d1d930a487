"""The change ring: one fill per change, every change after its floor, one encoding per cursor,
and a notice where it cannot carry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from server_helpers import new_request

from api_client.models import NewRequest
from central_api import change_ring
from central_api.change_ring import ChangeRing
from central_api.notifier import Notifier
from central_api.sql_store import SqlStore

NEW = NewRequest.model_validate(new_request())


@asynccontextmanager
async def running(db: Path) -> AsyncIterator[tuple[SqlStore, ChangeRing]]:
    """A store with a notifier woken by its writes, and a ring over them (read once)."""
    store = SqlStore.open(db)
    notifier = Notifier(store.head, read_tokens_version=store.tokens_version)
    await notifier.start()
    store.add_listener(notifier.notify)
    try:
        ring = ChangeRing(store, notifier)
        ring.run_task()
        await asyncio.wait_for(ring.ready(), 5)
        yield store, ring
    finally:
        store.remove_listener(notifier.notify)
        await notifier.stop()
        store.close()


async def until_top(ring: ChangeRing, seq: int) -> None:
    async with asyncio.timeout(5):
        while ring.top < seq:
            await asyncio.sleep(0.01)


def event(raw: bytes) -> tuple[str, dict[str, Any], int]:
    """(kind, data, id) of one encoded event."""
    kind, data, ident, end = raw.split(b"\n", 3)
    assert kind.startswith(b"event: ") and data.startswith(b"data: ") and ident.startswith(b"id: ")
    assert end == b"\n"
    return kind[7:].decode(), orjson.loads(data[6:]), int(ident[4:])


async def test_one_encoding_per_cursor_shared_by_every_stream_there(tmp_path: Path) -> None:
    async with running(tmp_path / "h.db") as (store, ring):
        made = [store.create_request(NEW, actor="x", idempotency_key=None).request for _ in range(3)]
        await until_top(ring, 3)
        first, top = ring.event_after(0)
        assert top == 3 and ring.event_after(0)[0] is first
        kind, data, ident = event(first)
        assert (kind, ident, data["since"], data["next_since"], data["head"]) == ("changes", 3, 0, 3, 3)
        assert [c["request"]["id"] for c in data["changes"]] == [r.id for r in made]
        assert [c["seq"] for c in event(ring.event_after(1)[0])[1]["changes"]] == [2, 3]
        store.create_request(NEW, actor="x", idempotency_key=None)
        await until_top(ring, 4)
        again = ring.event_after(0)[0]
        assert again is not first and [c["seq"] for c in event(again)[1]["changes"]] == [1, 2, 3, 4]


async def test_the_ring_keeps_every_change_after_its_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(change_ring, "CAPACITY", 4)
    db = tmp_path / "h.db"
    async with running(db) as (store, ring):
        for _ in range(10):
            store.create_request(NEW, actor="x", idempotency_key=None)
            await until_top(ring, store.head())
        assert 0 < ring.floor < 10
        assert [c["seq"] for c in event(ring.event_after(ring.floor)[0])[1]["changes"]] == list(
            range(ring.floor + 1, 11)
        )
        assert event(ring.event_after(ring.floor - 1)[0])[:2] == ("change", {"seq": 10})
    async with running(db) as (store, ring):  # a new process reads the newest CAPACITY at start
        assert (ring.floor, ring.top) == (6, 10)
        assert [c["seq"] for c in event(ring.event_after(6)[0])[1]["changes"]] == [7, 8, 9, 10]


async def test_too_much_to_carry_is_a_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tmp_path / "h.db") as (store, ring):
        store.create_requests([NEW] * 3, actor="x")
        await until_top(ring, 3)
        monkeypatch.setattr(change_ring, "MAX_CARRIED", 2)
        assert event(ring.event_after(0)[0])[:2] == ("change", {"seq": 3})
        assert event(ring.event_after(1)[0])[0] == "changes"
        monkeypatch.setattr(change_ring, "MAX_CARRIED_BYTES", 10)
        assert event(ring.event_after(2)[0])[:2] == ("change", {"seq": 3})
