"""Acceptance 1 and 2: crashes and concurrent processes.

1. Processes are killed with SIGKILL at random moments, 200 times, while they record actions and
   apply pages pulled from the real server (and then while they push): the cache always opens,
   no acknowledged action is lost, and after a restart and a sync every action is on the server
   exactly once.
2. Two processes record 300 actions each on one cache (`tests/cache_worker.py`): all 600 survive
   and reach the server exactly once.
3. A process that dies after the server applied an action and the outbox forgot it, before the
   cache file took the server's copy: what is recorded after the restart is not a false conflict.

Starting a Python process that imports the client and the cache costs ~0.6 s here, so the kill
test forks its victims from a "zygote" process (this file run as a script) that has imported
everything once: each victim is a real process with its own memory and file descriptors, killed
with SIGKILL, and a fork costs milliseconds. Each victim writes `ACK <key> <text>` to its own
file once `record` has returned (the action is durable by then).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api_client.client import HotlineClient

#: How many processes each of the two lanes kills while they record and pull, then while they push.
KILLS_RECORDING = 97
KILLS_PUSHING = 3
#: Actions one victim records at most (it pulls after every second one).
RECORDS_PER_VICTIM = 4


# ----- the zygote and its victims (this file run as a script) ------------------------------


def zygote(url: str) -> None:
    """Say READY, then read `MODE<TAB>OUT<TAB>DIR<TAB>NAME<TAB>TAG<TAB>IDS` lines and fork a victim
    for each, printing its pid. The token comes from HOTLINE_TOKEN (never a command line)."""
    import local_cache.local_store
    import local_cache.sync  # noqa: F401  (imported once, here, for every victim)
    from api_client.client import HotlineClient

    async def warm_up() -> None:  # lazy imports and first-call costs, paid once here
        async with HotlineClient(url, os.environ["HOTLINE_TOKEN"]) as client:
            await client.changes(0, 1)

    asyncio.run(warm_up())
    # Made before the forks, never used here: no connection is open, so each victim's first
    # call opens its own; what is shared is only the costly setup (the TLS context).
    client = HotlineClient(url, os.environ["HOTLINE_TOKEN"])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # victims are reaped by the kernel
    gc.freeze()  # a victim's garbage collections then skip (and do not copy) the zygote's objects
    print("READY", flush=True)
    for line in sys.stdin:
        mode, out, directory, name, tag, ids = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                asyncio.run(victim(client, url, mode, Path(out), Path(directory), name, tag, ids.split(",")))
                code = 0
            finally:
                os._exit(code)
        print(pid, flush=True)


async def victim(
    client: HotlineClient,
    url: str,
    mode: str,
    out: Path,
    directory: Path,
    name: str,
    tag: str,
    ids: list[str],
) -> None:
    """What a victim does until it is killed (or done)."""
    from api_client.actions import AddNote
    from local_cache.local_store import LocalStore
    from local_cache.sync import SyncEngine

    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def say(text: str) -> None:
        os.write(fd, f"{text}\n".encode())

    store = LocalStore.open(directory, server_url=url, dispatcher=name)
    say("OPEN")
    async with client:
        engine = SyncEngine(store, client, page_size=4, flush_interval=0.0)
        if mode == "push":
            summary = await engine.sync_once()
            say(f"SYNCED {summary.pushed}")
        elif mode == "confirm-then-crash":
            pending = store.record(ids[0], AddNote(text=tag), actor=name)
            request = await client.act(
                pending.request_id, pending.action, version=pending.base_version, idempotency_key=pending.key
            )
            store.confirm(pending.key, request)
            os._exit(0)  # dies before anything flushes the cache
        else:
            for i in range(RECORDS_PER_VICTIM):
                text = f"{tag}-{i}"
                pending = store.record(random.choice(ids), AddNote(text=text), actor=name)
                say(f"ACK {pending.key} {text}")
                if i % 2 == 1:
                    await engine.pull()
                    say(f"PULLED {store.cache.cursor}")
    store.close()


if __name__ == "__main__":
    zygote(sys.argv[1])
    sys.exit(0)


# ----- the tests ---------------------------------------------------------------------------

from test_sync_support import (  # noqa: E402
    REPO,
    Dispatcher,
    World,
    make_engine,
    note_counts,
    seed,
    server_act,
)

from api_client.actions import AddNote  # noqa: E402
from central_api.server import LiveServer  # noqa: E402


class Zygote:
    """The fork server, as a subprocess; one per lane so that lanes run side by side."""

    def __init__(self, token: str, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "HOTLINE_TOKEN": token, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "READY\n", "the zygote did not start"

    def fork(self, *fields: str) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


def kill_and_reap(pid: int, delay: float) -> None:
    """SIGKILL `pid` after `delay` seconds and wait until it is gone."""
    time.sleep(delay)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return  # it finished first
    wait_gone(pid)


def wait_gone(pid: int) -> None:
    """Wait until process `pid` has ended (the zygote's kernel-reaped children vanish)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.002)
    raise AssertionError(f"process {pid} did not die")


def complete_lines(path: Path) -> list[str]:
    """The lines a victim finished writing (a line cut by the kill does not count)."""
    if not path.exists():
        return []
    text = path.read_text()
    return text.split("\n")[:-1]


@dataclass
class Lane:
    """One dispatcher whose processes are killed over and over."""

    who: Dispatcher
    ids: list[str]
    zygote: Zygote
    acked: dict[str, str] = field(default_factory=dict)  # key -> note text
    tags: list[str] = field(default_factory=list)
    kills: int = 0
    interrupted: int = 0  # victims killed before they were done
    lines_written: Counter[int] = field(default_factory=Counter)  # how far the victims got

    def calibrate(self, tmp: Path) -> float:
        """How long a recording victim takes when left alone (not counted as a kill)."""
        tag = f"{self.who.name}-calibrate"
        out = tmp / f"{tag}.out"
        started = time.monotonic()
        ids = ",".join(self.ids)
        pid = self.zygote.fork("record", str(out), str(self.who.cache), self.who.name, tag, ids)
        wait_gone(pid)
        lifetime = time.monotonic() - started
        self.take_acks(complete_lines(out))
        return lifetime

    def take_acks(self, lines: list[str]) -> None:
        for line in lines:
            if line.startswith("ACK "):
                _, key, text = line.split(" ", 2)
                self.acked[key] = text

    def run(self, mode: str, tmp: Path, delay: float) -> list[str]:
        tag = f"{self.who.name}-{len(self.tags)}"
        self.tags.append(tag)
        out = tmp / f"{tag}.out"
        pid = self.zygote.fork(mode, str(out), str(self.who.cache), self.who.name, tag, ",".join(self.ids))
        kill_and_reap(pid, delay)
        self.kills += 1
        lines = complete_lines(out)
        self.lines_written[len(lines)] += 1
        done = "SYNCED" if mode == "push" else "PULLED"
        acks = sum(line.startswith("ACK ") for line in lines)
        if not (lines and lines[-1].startswith(done) and (mode == "push" or acks == RECORDS_PER_VICTIM)):
            self.interrupted += 1
        self.take_acks(lines)
        return lines


def check_cache(lane: Lane, server: LiveServer) -> None:
    """The cache opens without any recovery; every acknowledged action is still pending; each
    cached request is exactly as the server's feed had it at the saved cursor."""
    store = lane.who.open()
    try:
        assert store.messages == []
        assert set(lane.acked) <= {a.key for a in store.pending()}
        cursor = store.cache.cursor
        changes, _head = server.store.changes(0, 1_000_000)
        at_cursor: dict[str, int] = {}
        for change in changes:
            if change.seq <= cursor:
                at_cursor[change.request.id] = change.seq
        for request_id, seq in at_cursor.items():
            stamp = store.cache.stamp(request_id)
            assert stamp is not None and stamp[0] == seq, (request_id, stamp, seq, cursor)
    finally:
        store.close()


def check_exactly_once(lane: Lane, server: LiveServer, *, delivered: bool) -> None:
    """No note of this lane is on the server twice; an acknowledged one is there, or pending."""
    counts = note_counts(server, lane.ids)
    mine = {text: n for text, n in counts.items() if text.startswith(f"{lane.who.name}-")}
    assert all(n == 1 for n in mine.values()), [t for t, n in mine.items() if n > 1]
    store = lane.who.open()
    try:
        pending = {a.key for a in store.pending()}
        assert store.conflicts() == []
    finally:
        store.close()
    for key, text in lane.acked.items():
        if delivered:
            assert mine.get(text) == 1, text
        else:
            assert mine.get(text) == 1 or key in pending, text


async def test_kill_minus_nine_two_hundred_times(live_server: LiveServer, tmp_path: Path) -> None:
    world = World(live_server, seed(live_server, 30), tmp_path)
    others = world.ids[20:]
    lanes: list[Lane] = []
    for number, name in enumerate(("a", "b")):
        who = world.dispatcher(name)
        store = who.open()
        await make_engine(store, who.client()).pull()
        store.close()
        lanes.append(Lane(who, world.ids[number * 10 : number * 10 + 10], Zygote(who.token, live_server.url)))
    rng = random.Random(20230729)
    lifetimes: list[float] = []
    try:
        # Recording and pulling, with the server changing other requests all along.
        def record_and_pull(lane: Lane) -> None:
            mine = others[:5] if lane is lanes[0] else others[5:]  # no race between the lanes
            lifetime = lane.calibrate(tmp_path)  # kill within a victim's life, however fast this machine
            lifetimes.append(lifetime)
            for n in range(KILLS_RECORDING):
                server_act(live_server, mine[n % len(mine)], AddNote(text=f"centre {lane.who.name} {n}"))
                lane.run("record", tmp_path, rng.uniform(0.0, lifetime))
                check_cache(lane, live_server)

        await asyncio.gather(*(asyncio.to_thread(record_and_pull, lane) for lane in lanes))
        for lane in lanes:
            assert len(lane.acked) > 50  # the kills did land while recording
            check_exactly_once(lane, live_server, delivered=False)

        # Pushing: killed halfway through a push, the next one resends with the same keys.
        def push(lane: Lane) -> None:
            for _ in range(KILLS_PUSHING):
                lane.run("push", tmp_path, rng.uniform(0.05, 0.6))
                check_exactly_once(lane, live_server, delivered=False)

        await asyncio.gather(*(asyncio.to_thread(push, lane) for lane in lanes))
    finally:
        for lane in lanes:
            lane.zygote.close()
    assert sum(lane.kills for lane in lanes) == 200
    assert sum(lane.interrupted for lane in lanes) >= 100  # most kills landed mid-work
    print(
        f"{sum(lane.kills for lane in lanes)} kills, {sum(lane.interrupted for lane in lanes)} mid-work,"
        f" {sum(len(lane.acked) for lane in lanes)} acknowledged actions; victims' lifetime"
        f" {', '.join(f'{t:.3f}' for t in lifetimes)} s; lines written by each victim:",
        sorted(sum((lane.lines_written for lane in lanes), Counter()).items()),
    )

    # Restart and sync: every acknowledged action is on the server exactly once.
    for lane in lanes:
        store = lane.who.open()
        summary = await make_engine(store, lane.who.client()).sync_once()
        assert summary.errors == [] and summary.conflicts == 0
        assert store.counts()[1:] == (0, 0)
        store.close()
        check_exactly_once(lane, live_server, delivered=True)
    for lane in lanes:
        for client in lane.who.clients:
            await client.aclose()


async def test_two_processes_record_three_hundred_actions_each_on_one_cache(
    live_server: LiveServer, tmp_path: Path
) -> None:
    world = World(live_server, seed(live_server, 12), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    engine = make_engine(store, zhang.client())
    await engine.pull()
    store.close()

    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "tests" / "cache_worker.py"),
                str(zhang.cache),
                live_server.url,
                zhang.name,
                "actions",
                "300",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=90) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    acked = [line.split()[1] for out, _ in outputs for line in out.splitlines() if line.startswith("ACK ")]
    assert len(acked) == len(set(acked)) == 600

    store = zhang.open()
    assert {a.key for a in store.pending()} == set(acked)
    assert [a.order for a in store.pending()] == sorted({a.order for a in store.pending()})
    engine = make_engine(store, zhang.client())
    summary = await engine.sync_once()
    assert (summary.pushed, summary.conflicts, summary.refused, summary.errors) == (600, 0, 0, [])
    assert store.counts()[1:] == (0, 0)
    store.close()
    counts = note_counts(live_server, world.ids)
    assert sum(counts.values()) == 600 and set(counts.values()) == {1}
    for client in zhang.clients:
        await client.aclose()


async def test_an_action_recorded_after_a_crash_between_confirm_and_flush_goes_through(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """A process dies after the server applied an action and the outbox forgot it, before the
    cache file took the server's copy: an action recorded after the restart must be based on
    that copy, not on the older one (else it would come back as a spurious 412 conflict)."""
    world = World(live_server, seed(live_server, 2), tmp_path)
    zhang = world.dispatcher("zhang")
    store = zhang.open()
    await make_engine(store, zhang.client()).pull()
    store.close()
    zygote = Zygote(zhang.token, live_server.url)
    try:
        out = tmp_path / "victim.out"
        pid = zygote.fork("confirm-then-crash", str(out), str(zhang.cache), zhang.name, "N", world.ids[0])
        wait_gone(pid)  # it ends itself with os._exit before anything flushes
    finally:
        zygote.close()
    assert Counter(note_counts(live_server, world.ids[:1]))["N"] == 1
    store = zhang.open()
    store.record(world.ids[0], AddNote(text="N+1"), actor=zhang.name)
    summary = await make_engine(store, zhang.client()).sync_once()
    store.close()
    for client in zhang.clients:
        await client.aclose()
    assert (summary.pushed, summary.conflicts) == (1, 0)
