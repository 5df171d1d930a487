"""Benchmark of the local cache against naive TinyDB, in the same run.

    python bench/cache.py [--sizes 10000,50000,100000] [--actions 200] [--naive-actions 10]

Prints one JSON object per line, one per size:
- `load_s`: a fresh process opens the cache (cold open) and answers its first query;
- `action_p50_ms`, `action_p99_ms`: recording one dispatcher action durably (outbox write, fsync);
- `pull_per_s`: requests per second pulled from a real local central API into the cache;
- `naive_action_p99_ms`: the same action with TinyDB as it comes (default JSONStorage, everything
  in one file, one write per action);
- `speedup_p99`: naive_action_p99_ms / action_p99_ms.
Targets at 100,000: action_p99_ms <= 10, pull_per_s >= 10,000, load_s <= 1.0.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds queue.py, which would shadow the standard library's `queue` for every
# import below: keep the folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import tempfile
import time

from api_client.actions import AddNote
from api_client.client import HotlineClient
from api_client.models import Caller, Channel, Location, NewRequest, RequestType, Role
from central_api.sql_store import SqlStore
from local_cache.local_store import LocalStore
from local_cache.paths import cache_dir
from local_cache.sync import SyncEngine
from tui.core.collector import paused

DISPATCHER = "bench"
CHUNK = 10_000

#: Run in a fresh interpreter: imports first (not timed), then open + first query (timed).
COLD_OPEN = """
import sys, time, json
from pathlib import Path
from local_cache.local_store import LocalStore
from tui.core.collector import paused
start = time.perf_counter()
with paused():  # as the app opens it (`Session.open`)
    store = LocalStore.open(Path(sys.argv[1]), server_url=sys.argv[2], dispatcher=sys.argv[3])
first = next(iter(store.cache.ids()))
answer = store.view(first)
new = len(store.cache.by_state("new"))
elapsed = time.perf_counter() - start
store.close()
print(json.dumps({"load_s": elapsed, "cached": len(store.cache), "new": new, "found": answer is not None}))
"""


def request_body(i: int) -> NewRequest:
    community = f"c{i % 20 + 1:02d}"
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category=("roof_leak", "waterlogging", "noise", "heating")[i % 4],
        description=f"第{i}号诉求：家里顶楼漏雨，墙面渗水，屋里已经有积水了，请尽快派人来看看。",
        location=Location(
            street="德胜门外大街", community=community, address=f"新外大街{i % 300}号院{i % 12}号楼"
        ),
        caller=Caller(name="王女士", phone=f"138{i:08d}"[:11]),
        vulnerable=i % 13 == 0,
    )


def populate(db: Path, size: int) -> None:
    store = SqlStore.open(db)
    try:
        for start in range(0, size, CHUNK):
            store.create_requests(
                [request_body(i) for i in range(start, min(size, start + CHUNK))], actor="bench"
            )
    finally:
        store.close()


async def pull_into(directory: Path, url: str, token: str) -> float:
    store = LocalStore.open(directory, server_url=url, dispatcher=DISPATCHER)
    try:
        async with HotlineClient(url, token, deadline=120) as client:
            engine = SyncEngine(store, client, page_size=1000)
            started = time.perf_counter()
            await engine.pull()
            return time.perf_counter() - started
    finally:
        store.close()


def cold_open(directory: Path, url: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", COLD_OPEN, str(directory), url, DISPATCHER],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def record_actions(directory: Path, url: str, count: int) -> list[float]:
    with paused():
        store = LocalStore.open(directory, server_url=url, dispatcher=DISPATCHER)
    try:
        ids = list(store.cache.ids())
        timings = []
        for i in range(count):
            started = time.perf_counter()
            store.record(ids[(i * 7919) % len(ids)], AddNote(text=f"已电话联系 {i}"), actor=DISPATCHER)
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        store.close()


def naive_actions(workdir: Path, size: int, count: int) -> list[float]:
    """TinyDB as it comes: default JSONStorage, the requests and the actions in one file."""
    from tinydb import TinyDB

    docs = [request_body(i).model_dump(mode="json") | {"id": f"R-{i:06d}"} for i in range(size)]
    with TinyDB(workdir / "naive.json") as db:
        db.table("requests").insert_multiple(docs)
        outbox = db.table("outbox")
        timings = []
        for i in range(count):
            started = time.perf_counter()
            outbox.insert(
                {"request_id": f"R-{i:06d}", "action": {"action": "note", "text": f"已电话联系 {i}"}}
            )
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class ServerProcess:
    """`hotline serve` in its own process, as a centre runs it (not sharing this one's GIL)."""

    def __init__(self, db: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "serve", "--db", str(db), "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_size(size: int, actions: int, naive_count: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        work = Path(tmp)
        db = work / "central.db"
        populate(db, size)
        store = SqlStore.open(db)
        token = store.create_token("bench", Role.dispatcher)
        store.close()
        server = ServerProcess(db)
        try:
            directory = cache_dir(work / "cache", server.url, DISPATCHER)
            pull_s = asyncio.run(pull_into(directory, server.url, token))
            opened = cold_open(directory, server.url)
            assert opened["cached"] == size and opened["found"], opened
            timings = record_actions(directory, server.url, actions)
        finally:
            server.stop()
        naive = naive_actions(work, size, naive_count)
    p99 = percentile(timings, 0.99)
    naive_p99 = percentile(naive, 0.99)
    return {
        "size": size,
        "load_s": round(float(opened["load_s"]), 3),  # type: ignore[arg-type]
        "action_p50_ms": round(statistics.median(timings), 2),
        "action_p99_ms": round(p99, 2),
        "pull_per_s": round(size / pull_s),
        "naive_action_p99_ms": round(naive_p99, 1),
        "speedup_p99": round(naive_p99 / p99, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--actions", type=int, default=200, help="actions recorded per size")
    parser.add_argument("--naive-actions", type=int, default=10, help="naive TinyDB writes per size")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(run_size(size, args.actions, args.naive_actions)), flush=True)


if __name__ == "__main__":
    main()
