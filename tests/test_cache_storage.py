"""Atomic storage, locks and the request cache's file format: real files, real processes, kill -9.

No timing asserts: a crash test checks what is on disk after the kill, never how fast.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from cache_worker import page_of, synthetic
from tinydb import TinyDB

from api_client.models import State
from local_cache import (
    AtomicJSONStorage,
    CacheBusy,
    CorruptCache,
    FileLock,
    LocalStore,
    Outbox,
    RequestCache,
    try_exclusive,
)
from local_cache.storage import remove_stale_temps

REPO = Path(__file__).resolve().parent.parent
WORKER = REPO / "tests" / "cache_worker.py"
SERVER = "http://127.0.0.1:8345"


def temps(directory: Path) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


# ----- AtomicJSONStorage -------------------------------------------------------------------


def test_tinydb_works_on_the_atomic_storage(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("things").insert_multiple([{"n": i} for i in range(5)])
        db.table("things").update({"seen": True}, doc_ids=[2])
    assert (os.stat(path).st_mode & 0o777) == 0o600
    assert json.loads(path.read_text())["things"]["2"] == {"n": 1, "seen": True}
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert [d["n"] for d in db.table("things").all()] == [0, 1, 2, 3, 4]
    assert temps(tmp_path) == []


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    writer, reader = AtomicJSONStorage(path), AtomicJSONStorage(path)
    writer.write({"t": {"1": {"v": 1}}})
    first = reader.read()
    generation = reader.generation
    assert reader.read() is first and reader.generation == generation
    writer.write({"t": {"1": {"v": 2}}})
    assert reader.changed_on_disk()
    assert reader.read() == {"t": {"1": {"v": 2}}}
    assert reader.generation > generation


def test_empty_and_new_files_read_as_none(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "new.json")
    assert storage.read() is None
    assert (tmp_path / "new.json").exists()


@pytest.mark.parametrize("content", [b'{"t": {"1": ', b"\x00\xff garbage", b"[1, 2, 3]", b'"text"'])
def test_a_bad_file_raises_corrupt_cache_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(content)
    with pytest.raises(CorruptCache, match=str(path)):
        AtomicJSONStorage(path).read()


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"v": 1}}})
    with pytest.raises(TypeError):
        storage.write({"t": {"1": {"v": object()}}})
    assert json.loads(path.read_text()) == {"t": {"1": {"v": 1}}}
    assert storage.read() == {"t": {"1": {"v": 1}}}
    assert temps(tmp_path) == []


def test_temp_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".db.json.{dead.stdout.strip()}.abcdef.tmp"
    live = tmp_path / f".db.json.{os.getpid()}.abcdef.tmp"
    other = tmp_path / f".other.json.{dead.stdout.strip()}.abcdef.tmp"
    for file in (stale, live, other):
        file.write_bytes(b"{")
    assert remove_stale_temps(path) == 1
    assert not stale.exists() and live.exists() and other.exists()


def _hammer(path: Path) -> None:
    """In a forked child: rewrite a ~1 MB self-checking document forever."""
    storage = AtomicJSONStorage(path)
    n = 0
    while True:
        n += 1
        pad = "x" * (1000 + n % 500)
        storage.write(
            {"t": {str(i): {"n": n, "i": i, "pad": pad, "check": n * 7 + i} for i in range(1, 800)}}
        )


def _check_document(path: Path) -> int:
    data = orjson.loads(path.read_bytes())
    docs = data["t"]
    assert len(docs) == 799
    (n,) = {doc["n"] for doc in docs.values()}
    assert all(doc["check"] == n * 7 + doc["i"] for doc in docs.values())
    return int(n)


def test_atomic_storage_survives_50_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    AtomicJSONStorage(path).write({"t": {str(i): {"n": 0, "i": i, "check": i} for i in range(1, 800)}})
    rng = random.Random(1234)
    seen: list[int] = []
    for _ in range(50):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _hammer(path)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.005, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.append(_check_document(path))
        AtomicJSONStorage(path)  # opening removes the killed writer's temp file
        assert temps(tmp_path) == []
    assert seen[-1] > 0  # the children did write


# ----- locks ----------------------------------------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from local_cache.locking import FileLock
lock = FileLock(Path(sys.argv[1]))
lock.acquire()
print("HELD", flush=True)
sys.stdin.readline()
"""


def test_a_lock_held_by_another_process_times_out_as_cache_busy(tmp_path: Path) -> None:
    target = tmp_path / "outbox.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        with pytest.raises(CacheBusy, match=r"outbox\.json\.lock"):
            FileLock(target, timeout=0.2).acquire()
        assert try_exclusive(target) is None
    finally:
        holder.communicate("\n", timeout=10)
    with FileLock(target, timeout=5):
        assert (os.stat(tmp_path / "outbox.json.lock").st_mode & 0o777) == 0o600


def test_threads_take_turns_on_one_lock(tmp_path: Path) -> None:
    target = tmp_path / "counter"
    target.write_text("0")

    def bump() -> None:
        for _ in range(200):
            with FileLock(target):
                target.write_text(str(int(target.read_text()) + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert target.read_text() == "800"


def test_try_exclusive_is_single_within_a_process_too(tmp_path: Path) -> None:
    first = try_exclusive(tmp_path / "sync.lock")
    assert first is not None
    assert try_exclusive(tmp_path / "sync.lock") is None
    first.release()
    again = try_exclusive(tmp_path / "sync.lock")
    assert again is not None
    again.release()


# ----- the request cache's file ---------------------------------------------------------------


def full_parse(path: Path) -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    """What any TinyDB reader sees: requests by id, and the meta document."""
    data = orjson.loads(path.read_bytes())
    return {row["id"]: row for row in data["requests"].values()}, data["meta"]["1"]


def test_the_cache_file_is_plain_tinydb_and_matches_memory(tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    cache = RequestCache.open(path, server_url=SERVER)
    assert cache.apply_page(page_of([synthetic(i) for i in range(1, 51)], 0)) == 50
    assert cache.flush() is True
    assert cache.flush() is False  # nothing changed since
    rows, meta = full_parse(path)
    assert meta["cursor"] == 50 and meta["server"] == SERVER and meta["schema"] == 1
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert len(db.table("requests")) == 50
    reopened = RequestCache.open(path, server_url=SERVER)
    assert reopened.messages == [] and reopened.cursor == 50
    assert all(reopened.raw(i) == rows[i] for i in reopened.ids())
    assert reopened.get("R-000007") == synthetic(7)


def test_random_changes_and_flushes_keep_file_and_memory_equal(tmp_path: Path) -> None:
    """The layout copies unchanged requests as bytes: check it against a full parse."""
    path = tmp_path / "requests.json"
    rng = random.Random(7)
    cache = RequestCache.open(path, server_url=SERVER)
    expected: dict[str, dict[str, object]] = {}
    seq = 0
    for _round in range(25):
        batch = []
        for _ in range(rng.randint(0, 30)):
            seq += 1
            number = rng.randint(1, 120)
            state = rng.choice(list(State))
            request = synthetic(number, state=state, version=seq, change_seq=seq)
            batch.append(request)
            expected[request.id] = request.model_dump(mode="json")
        cache.apply_page(page_of(batch, cache.cursor))
        if rng.random() < 0.7:
            cache.flush()
        if rng.random() < 0.3:
            cache.flush()
            cache = RequestCache.open(path, server_url=SERVER)
            assert cache.messages == []
        assert {i: cache.raw(i) for i in cache.ids()} == expected
        for state in State:
            wanted = sorted(i for i, r in expected.items() if r["state"] == state.value)
            assert sorted(cache.by_state(state)) == wanted
    cache.flush()
    rows, meta = full_parse(path)
    assert rows == expected and meta["cursor"] == seq


def test_an_older_copy_never_replaces_a_newer_one(tmp_path: Path) -> None:
    cache = RequestCache.open(tmp_path / "requests.json", server_url=SERVER)
    cache.apply_page(page_of([synthetic(1, change_seq=5, version=3)], 0))
    assert cache.put(synthetic(1, change_seq=4, version=2)) is False
    assert cache.apply_page(page_of([synthetic(1, change_seq=5, version=3)], 5)) == 0
    assert cache.put(synthetic(1, state=State.closed, change_seq=9, version=4)) is True
    assert cache.by_state(State.closed) == ["R-000001"]
    assert cache.get("R-000001") is not None and cache.get("R-000001").version == 4  # type: ignore[union-attr]


def test_two_writers_merge_instead_of_losing_each_other(tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    first = RequestCache.open(path, server_url=SERVER)
    first.apply_page(page_of([synthetic(i) for i in range(1, 11)], 0))
    first.flush()
    second = RequestCache.open(path, server_url=SERVER)
    first.apply_page(page_of([synthetic(1, change_seq=11, version=2)], 10))
    first.flush()
    second.put(synthetic(2, change_seq=12, version=2))  # e.g. an action's answer
    second.flush()  # must take in first's change 11, not overwrite it
    rows, meta = full_parse(path)
    assert rows["R-000001"]["change_seq"] == 11 and rows["R-000002"]["change_seq"] == 12
    assert meta["cursor"] == 11
    assert first.reload_if_changed() is True
    assert first.stamp("R-000002") == (12, 2)
    assert first.reload_if_changed() is False


def test_crashing_workers_never_lose_an_acknowledged_action(tmp_path: Path) -> None:
    """kill -9 a real worker process mid-way, 15 times: files parse, every ACK is in the outbox."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    with LocalStore.open(directory, server_url=SERVER, dispatcher="w") as store:
        for start in range(1, 301, 100):
            store.apply_page(page_of([synthetic(i) for i in range(start, start + 100)], store.cache.cursor))
    acked: set[str] = set()
    rng = random.Random(99)
    for _ in range(15):
        proc = subprocess.Popen(
            [sys.executable, "-u", str(WORKER), str(directory), SERVER, "w", "mixed", "100000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
        )
        assert proc.stdout is not None
        lines = [proc.stdout.readline()]  # it has started working
        deadline = time.monotonic() + rng.uniform(0.02, 0.3)
        while time.monotonic() < deadline:
            lines.append(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        acked |= {line.split()[1] for line in [*lines, *rest.splitlines()] if line.startswith("ACK ")}
        orjson.loads((directory / "outbox.json").read_bytes())
        full_parse(directory / "requests.json")
        outbox = Outbox.open(directory / "outbox.json")
        assert outbox.messages == []
        assert acked <= {action.key for action in outbox.pending()}
        assert RequestCache.open(directory / "requests.json", server_url=SERVER).messages == []
    assert acked
