"""Bad files: the request cache is moved aside and re-pulled; the outbox is never thrown away."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from cache_worker import page_of, synthetic
from tinydb import TinyDB

from api_client.actions import AddNote
from local_cache import AtomicJSONStorage, LocalStore, NewerCacheVersion, Outbox
from local_cache.outbox_tables import SCHEMA

SERVER = "http://127.0.0.1:8345"


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """A cache with 20 requests and 3 pending actions."""
    directory = tmp_path / "cache"
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        store.apply_page(page_of([synthetic(i) for i in range(1, 21)], 0))
        store.flush()
        for i in (1, 2, 3):
            store.record(f"R-{i:06d}", AddNote(text=f"note {i}"), actor="d")
    return directory


def aside(directory: Path, prefix: str) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith(prefix))


def reopen(directory: Path) -> LocalStore:
    return LocalStore.open(directory, server_url=SERVER, dispatcher="d")


def damage_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def damage_not_an_object(path: Path) -> None:
    path.write_bytes(b"[1, 2, 3]")


def damage_newer_schema(path: Path) -> None:
    _rewrite_meta(path, schema=2)


def damage_other_server(path: Path) -> None:
    _rewrite_meta(path, server="http://elsewhere.example:9000")


def _rewrite_meta(path: Path, **changes: object) -> None:
    data = orjson.loads(path.read_bytes())
    data["meta"]["1"].update(changes)
    path.write_bytes(orjson.dumps(data))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (damage_truncated, "damaged"),
        (damage_garbage, "damaged"),
        (damage_not_an_object, "not an object"),
        (damage_newer_schema, "newer hotline"),
        (damage_other_server, "another server"),
    ],
)
def test_a_bad_request_cache_is_moved_aside_and_starts_empty(
    directory: Path, damage: object, said: str
) -> None:
    requests, outbox = directory / "requests.json", directory / "outbox.json"
    outbox_before = outbox.read_bytes()
    damage(requests)  # type: ignore[operator]
    bad = requests.read_bytes()
    with reopen(directory) as store:
        (moved,) = aside(directory, "requests.json.bad-")
        assert moved.read_bytes() == bad
        assert len(store.messages) == 1
        message = store.messages[0]
        assert said in message and str(moved) in message and "downloaded again" in message
        assert len(store.cache) == 0 and store.cache.cursor == 0
        assert [a.request_id for a in store.pending()] == ["R-000001", "R-000002", "R-000003"]
        assert store.view("R-000001") is None  # not cached any more; its action is kept
        assert outbox.read_bytes() == outbox_before
        store.apply_page(page_of([synthetic(i) for i in range(1, 6)], 0))  # the re-pull
        assert store.view("R-000001") is not None and len(store.view("R-000001").notes) == 1  # type: ignore[union-attr]
    with reopen(directory) as store:
        assert store.messages == [] and len(store.cache) == 5


def test_a_cache_written_by_plain_tinydb_is_read_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "requests.json"
    path.parent.mkdir(mode=0o700)
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("requests").insert_multiple(synthetic(i).model_dump(mode="json") for i in range(1, 8))
        db.table("meta").insert({"schema": 1, "cursor": 7, "server": SERVER, "last_sync": None})
    with reopen(path.parent) as store:
        assert store.messages == [] and len(store.cache) == 7 and store.cache.cursor == 7
        assert store.view("R-000003") == synthetic(3)
        assert store.flush() is True  # rewritten with its index
    assert path.read_bytes().startswith(b'{"layout"')
    with reopen(path.parent) as store:
        assert store.view("R-000003") == synthetic(3) and store.flush() is False


def test_a_changed_byte_is_caught_by_the_checksum(directory: Path) -> None:
    """An edit that keeps every offset (accepted -> returned, same length) must not leave the
    index saying `accepted`: the CRC fails, the file is read whole and rewritten."""
    path = directory / "requests.json"
    data = path.read_bytes()
    at = data.index(b'"state":"accepted"')
    id_at = data.rindex(b'{"id":"', 0, at) + len(b'{"id":"')
    request_id = data[id_at : data.index(b'"', id_at)].decode()
    path.write_bytes(data[:at] + b'"state":"returned"' + data[at + 18 :])
    with reopen(directory) as store:
        assert store.messages == []
        assert request_id in store.cache.by_state("returned")
        assert request_id not in store.cache.by_state("accepted")
        assert store.view(request_id).state == "returned"  # type: ignore[union-attr]
        assert store.flush() is True


def test_a_cached_request_this_version_cannot_read_is_dropped_and_re_pulled(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "requests.json"
    path.parent.mkdir(mode=0o700)
    rows = [synthetic(i).model_dump(mode="json") for i in range(1, 4)]
    rows[1]["due_at"] = "not a time"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("requests").insert_multiple(rows)
        db.table("meta").insert({"schema": 1, "cursor": 3, "server": SERVER, "last_sync": None})
    with reopen(path.parent) as store:
        assert store.view("R-000002") is None
        assert store.cache.cursor == 0 and "downloaded again" in store.cache.messages[-1]
        assert len(store.cache) == 2 and store.view("R-000001") is not None


@pytest.mark.parametrize(
    "content", [b'{"actions": {"1": {"key": "a"', b"\x00garbage\xff", b'{"actions": [1]}']
)
def test_a_corrupt_outbox_is_moved_aside_kept_and_named(directory: Path, content: bytes) -> None:
    outbox = directory / "outbox.json"
    outbox.write_bytes(content)
    with reopen(directory) as store:
        (moved,) = aside(directory, "outbox.json.corrupt-")
        assert moved.read_bytes() == content
        assert any(str(moved) in m and "NOT been sent" in m for m in store.messages)
        assert store.pending() == [] and len(store.cache) == 20
        store.record("R-000004", AddNote(text="after"), actor="d")  # the new outbox works
    assert moved.exists()
    with reopen(directory) as store:
        assert store.messages == [] and len(store.pending()) == 1


def test_an_outbox_with_one_unreadable_action_keeps_the_others(directory: Path) -> None:
    outbox = directory / "outbox.json"
    data = orjson.loads(outbox.read_bytes())
    doc_id = sorted(data["actions"])[1]
    data["actions"][doc_id]["action"] = {"action": "teleport"}
    outbox.write_bytes(orjson.dumps(data))
    original = outbox.read_bytes()
    with reopen(directory) as store:
        assert [a.request_id for a in store.pending()] == ["R-000001", "R-000003"]
        (copy,) = aside(directory, "outbox.json.corrupt-")
        assert copy.read_bytes() == original
        assert any(str(copy) in m and "1 record(s)" in m for m in store.messages)


def test_a_newer_outbox_is_refused_and_left_untouched(directory: Path) -> None:
    outbox = directory / "outbox.json"
    data = orjson.loads(outbox.read_bytes())
    data["meta"]["1"]["schema"] = SCHEMA + 1
    outbox.write_bytes(orjson.dumps(data))
    before = outbox.read_bytes()
    with pytest.raises(NewerCacheVersion, match="newer hotline"):
        reopen(directory)
    assert outbox.read_bytes() == before
    assert aside(directory, "outbox.json.") == [directory / "outbox.json.lock"]


def test_an_empty_outbox_file_is_an_empty_outbox(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    path.write_bytes(b"")
    outbox = Outbox.open(path)
    assert outbox.messages == [] and outbox.counts() == (0, 0)
