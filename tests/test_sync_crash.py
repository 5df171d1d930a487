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
with SIGKILL, and a fork costs milliseconds.

Each victim writes its progress to its own file, one line per step, so that the test knows where
each kill landed: `OPEN <cursor>`; `RECORD` before it records an action and `ACK <key> <text>`
once `record` has returned (the action is durable by then); `PULLING <cursor>` before a pull,
`PAGE <cursor>` after each page it applied (pages are flushed in a thread meanwhile) and
`PULLED <cursor>`; `SENT <key>` when the server has taken an action it pushed, `SYNCED <pushed>`;
and `DONE` when it has closed the cache.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from api_client.client import HotlineClient

#: How many processes each of the two lanes kills while they record and pull, then while they push.
KILLS_RECORDING = 97
KILLS_PUSHING = 3
#: Actions one recording victim records at most: one, then one after each page its pull applied
#: (the others after the pull, if it brought fewer pages).
RECORDS_PER_VICTIM = 3
#: Before each recording victim runs, the server changes this many requests (each lane its own
#: ones; the other lane's changes come on top), and the victims pull pages this small: a pull
#: applies and flushes several pages, so that many kills land in the middle of one.
CHANGES_PER_ROUND = 10
OTHERS_PER_LANE = 24  # the requests the server changes for one lane, in turn
PAGE_SIZE = 4
#: About how many progress lines a recording victim writes (OPEN, RECORD and ACK for each action,
#: PULLING, a PAGE for each of 5 to 8 pages, PULLED, DONE): it is killed a little after a random
#: number of them.
RECORDING_LINES = 18


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
    """What a victim does until it is killed (or done), saying how far it got."""
    from api_client.actions import AddNote
    from local_cache.local_store import LocalStore
    from local_cache.sync import SyncEngine

    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def say(text: str) -> None:
        os.write(fd, f"{text}\n".encode())

    store = LocalStore.open(directory, server_url=url, dispatcher=name)
    say(f"OPEN {store.cache.cursor}")
    async with client:
        if mode == "push":
            send = client.act

            async def send_and_say(*args: Any, **options: Any) -> Any:
                answer = await send(*args, **options)
                say(f"SENT {options['idempotency_key']}")
                return answer

            client.act = send_and_say  # type: ignore[method-assign]  # this process's copy only
            engine = SyncEngine(store, client, page_size=PAGE_SIZE, flush_interval=0.0)
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
            texts = iter(f"{tag}-{i}" for i in range(RECORDS_PER_VICTIM))

            def record_one() -> None:
                text = next(texts, None)
                if text is not None:
                    say("RECORD")
                    pending = store.record(random.choice(ids), AddNote(text=text), actor=name)
                    say(f"ACK {pending.key} {text}")

            def page_applied(_ids: list[str]) -> None:
                say(f"PAGE {store.cache.cursor}")
                record_one()  # the dispatcher goes on recording while pages come in and flush

            engine = SyncEngine(
                store, client, page_size=PAGE_SIZE, flush_interval=0.0, on_changed=page_applied
            )
            record_one()
            say(f"PULLING {store.cache.cursor}")
            await engine.pull()
            say(f"PULLED {store.cache.cursor}")
            for _ in range(RECORDS_PER_VICTIM):
                record_one()
    store.close()
    say("DONE")


if __name__ == "__main__":
    zygote(sys.argv[1])
    sys.exit(0)


# ----- the tests ---------------------------------------------------------------------------

import orjson  # noqa: E402
from test_sync_support import (  # noqa: E402
    REPO,
    Dispatcher,
    World,
    make_engine,
    note_counts,
    seed,
)

from api_client.actions import AddNote  # noqa: E402
from central_api.server import LiveServer  # noqa: E402
from local_cache.push import CONFIRM_BATCH  # noqa: E402


class Zygote:
    """The fork server, as a subprocess; one per lane so that lanes run side by side. It starts
    in the background: the first `fork` waits until it is ready."""

    def __init__(self, token: str, url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "HOTLINE_TOKEN": token, "PYTHONPATH": str(REPO)},
        )
        self.ready = False

    def fork(self, *fields: str) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if not self.ready:
            assert self.proc.stdout.readline() == "READY\n", "the zygote did not start"
            self.ready = True
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (the zygote's kernel-reaped children vanish)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_and_reap(pid: int, delay: float) -> None:
    """SIGKILL `pid` after `delay` seconds and wait until it is gone."""
    time.sleep(delay)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return  # it finished first
    wait_gone(pid)


def wait_gone(pid: int) -> None:
    """Wait until process `pid` has ended."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.002)
    raise AssertionError(f"process {pid} did not die")


def wait_for_lines(pid: int, out: Path, prefix: str, count: int) -> None:
    """Wait until the victim `pid` wrote `count` lines starting with `prefix`, or ended."""
    needle = f"\n{prefix}".encode()
    deadline = time.monotonic() + 30
    while count > 0 and alive(pid) and time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(needle) >= count:
            return
        time.sleep(0.002)


def complete_lines(path: Path) -> list[str]:
    """The lines a victim finished writing (a line cut by the kill does not count)."""
    if not path.exists():
        return []
    text = path.read_text()
    return text.split("\n")[:-1]


def last_word(lines: list[str]) -> str:
    """Where a victim was when it died: the first word of its last complete line."""
    return lines[-1].split()[0] if lines else "NOTHING"


@dataclass
class Feed:
    """The server's change feed, read as it grows: the seqs of each request's changes."""

    seqs: dict[str, list[int]] = field(default_factory=dict)
    read_to: int = 0

    def last_changes(self, server: LiveServer, cursor: int) -> dict[str, int]:
        """For each request changed at or before `cursor`, the seq of its last such change."""
        if cursor > self.read_to:
            rows, _head = server.store.changes_raw(self.read_to, 1_000_000)
            for seq, _action, snapshot in rows:
                self.seqs.setdefault(orjson.loads(snapshot)["id"], []).append(seq)
                self.read_to = seq
        found: dict[str, int] = {}
        for request_id, seqs in self.seqs.items():
            before = bisect.bisect_right(seqs, cursor)
            if before:
                found[request_id] = seqs[before - 1]
        return found


@dataclass
class PushKill:
    """What one kill during a push left behind."""

    sent: int  # actions the server took from this victim before it died
    resent: int  # of those, how many were on the server already: sent again with the same key
    confirmed: int  # actions the outbox let go of (the server had taken them)
    delivered_pending: int  # actions on the server that the outbox still holds after the kill
    pending: int  # actions the outbox still holds after the kill


@dataclass
class Lane:
    """One dispatcher whose processes are killed over and over."""

    who: Dispatcher
    ids: list[str]  # the requests its victims record on
    others: list[str]  # the requests the server changes before each of its victims
    zygote: Zygote
    rng: random.Random
    feed: Feed = field(default_factory=Feed)
    acked: dict[str, str] = field(default_factory=dict)  # key -> note text
    tags: list[str] = field(default_factory=list)
    rounds: int = 0
    versions: dict[str, int] = field(default_factory=dict)  # of the `others`, on the server
    kills: int = 0
    interrupted: int = 0  # victims killed before they were done
    landed: Counter[str] = field(default_factory=Counter)  # each kill's victim's last line
    mid_record: int = 0  # recording victims killed inside `record`
    mid_pull: int = 0  # recording victims killed after a pull started, before it finished
    mid_pull_paged: int = 0  # ... with at least one of the pull's pages applied
    flushed_part: int = 0  # ... with part of the pull on disk (the cursor moved, the pull unfinished)
    lost_unflushed: int = 0  # ... with pages applied in memory that no flush had written yet
    push_kills: list[PushKill] = field(default_factory=list)

    def change_on_server(self, server: LiveServer) -> None:
        """The server changes CHANGES_PER_ROUND of this lane's other requests, in one transaction
        (only this lane changes them, so their versions are known here)."""
        first = self.rounds * CHANGES_PER_ROUND
        self.rounds += 1
        with server.store.batch():
            for j in range(CHANGES_PER_ROUND):  # distinct requests (a read sees only what committed)
                request_id = self.others[(first + j) % len(self.others)]
                if request_id not in self.versions:
                    self.versions[request_id] = server.store.get_request(request_id).version
                note = AddNote(text=f"centre {self.who.name} {first + j}")
                outcome = server.store.apply(
                    request_id, note, actor="other", if_match=self.versions[request_id], idempotency_key=None
                )
                self.versions[request_id] = outcome.request.version

    def fork(self, mode: str, tmp: Path) -> tuple[int, Path]:
        """Fork a victim; its pid and the file it writes its progress to."""
        tag = f"{self.who.name}-{len(self.tags)}"
        self.tags.append(tag)
        out = tmp / f"{tag}.out"
        pid = self.zygote.fork(mode, str(out), str(self.who.cache), self.who.name, tag, ",".join(self.ids))
        return pid, out

    def record(self, tmp: Path) -> list[str]:
        """Fork a recording victim and kill it at a random moment: a little after it wrote a
        random number of its progress lines (however fast or slow this machine is)."""
        pid, out = self.fork("record", tmp)
        wait_for_lines(pid, out, "", self.rng.randint(0, RECORDING_LINES - 1))
        kill_and_reap(pid, self.rng.uniform(0.0, 0.01))
        lines = complete_lines(out)
        self.counted(lines)
        self.take_acks(lines)
        return lines

    def push(self, tmp: Path, sends: int) -> list[str]:
        """Fork a pushing victim; kill it shortly after the server took `sends` of its actions."""
        pid, out = self.fork("push", tmp)
        wait_for_lines(pid, out, "SENT ", sends)
        kill_and_reap(pid, self.rng.uniform(0.0, 0.02))
        lines = complete_lines(out)
        self.counted(lines)
        return lines

    def counted(self, lines: list[str]) -> None:
        self.kills += 1
        self.landed[last_word(lines)] += 1
        if last_word(lines) != "DONE":
            self.interrupted += 1

    def take_acks(self, lines: list[str]) -> None:
        for line in lines:
            if line.startswith("ACK "):
                _, key, text = line.split(" ", 2)
                self.acked[key] = text

    def note_kill(self, lines: list[str], cursor_on_disk: int) -> None:
        """Count a kill that landed in the middle of a `record` or of a pull, and what it left."""
        if last_word(lines) == "RECORD":
            self.mid_record += 1
        starts = [i for i, line in enumerate(lines) if line.startswith("PULLING ")]
        if not starts or any(line.startswith("PULLED ") for line in lines[starts[-1] :]):
            return
        self.mid_pull += 1
        pulled_from = int(lines[starts[-1]].split()[1])
        pages = [int(line.split()[1]) for line in lines[starts[-1] :] if line.startswith("PAGE ")]
        if pages:
            self.mid_pull_paged += 1
        if cursor_on_disk > pulled_from:
            self.flushed_part += 1
        if pages and cursor_on_disk < pages[-1]:
            self.lost_unflushed += 1


def check_cache(lane: Lane, server: LiveServer) -> int:
    """After a kill while recording and pulling: the cache opens without any recovery; every
    acknowledged action is still pending; the cursor is the newest change the cache holds (the
    data it covers was written with it, nothing newer); each cached request is exactly as the
    server's feed had it at that cursor. Returns the cursor."""
    store = lane.who.open()
    try:
        assert store.messages == []
        assert set(lane.acked) <= {a.key for a in store.pending()}
        cursor = store.cache.cursor
        stamps = {request_id: store.cache.stamp(request_id) for request_id in store.cache.ids()}
    finally:
        store.close()
    assert max(stamp[0] for stamp in stamps.values() if stamp is not None) == cursor
    for request_id, seq in lane.feed.last_changes(server, cursor).items():
        stamp = stamps.get(request_id)
        assert stamp is not None and stamp[0] == seq, (request_id, stamp, seq, cursor)
    return cursor


def outbox_texts(lane: Lane) -> dict[str, str]:
    """The actions the lane's outbox holds: key -> note text (an action a victim recorded may be
    there though the kill cut its ACK line)."""
    store = lane.who.open()
    try:
        assert store.messages == []
        return {a.key: a.action.text for a in store.pending() if isinstance(a.action, AddNote)}
    finally:
        store.close()


def check_exactly_once(lane: Lane, server: LiveServer, *, delivered: bool) -> set[str]:
    """No note of this lane is on the server twice; an acknowledged one is there, or pending.
    Returns the texts of the lane's notes on the server."""
    counts = note_counts(server, lane.ids)
    mine = {text: n for text, n in counts.items() if text.startswith(f"{lane.who.name}-")}
    assert all(n == 1 for n in mine.values()), [t for t, n in mine.items() if n > 1]
    store = lane.who.open()
    try:
        assert store.messages == []
        pending = {a.key for a in store.pending()}
        assert store.conflicts() == []
    finally:
        store.close()
    for key, text in lane.acked.items():
        if delivered:
            assert mine.get(text) == 1, text
        else:
            assert mine.get(text) == 1 or key in pending, text
    return set(mine)


@pytest.mark.timeout(480)
async def test_kill_minus_nine_two_hundred_times(live_server: LiveServer, tmp_path: Path) -> None:
    world = World(live_server, seed(live_server, 20 + 2 * OTHERS_PER_LANE), tmp_path)
    lanes: list[Lane] = []
    for number, name in enumerate(("a", "b")):
        who = world.dispatcher(name)
        store = who.open()
        await make_engine(store, who.client()).pull()
        store.close()
        others = world.ids[20 + number * OTHERS_PER_LANE : 20 + (number + 1) * OTHERS_PER_LANE]
        zygote = Zygote(who.token, live_server.url)
        ids = world.ids[number * 10 : number * 10 + 10]
        lanes.append(Lane(who, ids, others, zygote, random.Random(20230729 + number)))
    try:
        # Recording and pulling: before each victim the server changes CHANGES_PER_ROUND other
        # requests (and the other lane's server changes come on top), so each pull applies
        # several small pages, flushing as it goes; the kill lands anywhere in the victim's life.
        def record_and_pull(lane: Lane) -> None:
            for _ in range(KILLS_RECORDING):
                lane.change_on_server(live_server)
                lines = lane.record(tmp_path)
                lane.note_kill(lines, check_cache(lane, live_server))

        await asyncio.gather(*(asyncio.to_thread(record_and_pull, lane) for lane in lanes))
        for lane in lanes:
            assert len(lane.acked) > 50  # the kills did land while recording
            check_exactly_once(lane, live_server, delivered=False)

        # Pushing: each victim is killed shortly after the server took a random number of its
        # actions: some are delivered, some still pending, and some delivered but not yet
        # confirmed in the outbox, which the next push sends again with the same idempotency key.
        def push(lane: Lane) -> None:
            for n in range(KILLS_PUSHING):
                on_server = check_exactly_once(lane, live_server, delivered=False)
                before = outbox_texts(lane)
                if n == 0:  # the first victim gets past a batch of confirmations
                    assert len(before) > 2 * CONFIRM_BATCH
                    sends = lane.rng.randint(CONFIRM_BATCH + 1, 2 * CONFIRM_BATCH)
                else:  # the others may not
                    sends = lane.rng.randint(1, max(1, min(CONFIRM_BATCH, len(before) - 1)))
                lines = lane.push(tmp_path, sends)
                after = check_exactly_once(lane, live_server, delivered=False)
                sent = [before[line.split()[1]] for line in lines if line.startswith("SENT ")]
                assert set(sent) <= after  # what the server answered is there
                pending = outbox_texts(lane)
                lane.push_kills.append(
                    PushKill(
                        sent=len(sent),
                        resent=sum(text in on_server for text in sent),
                        confirmed=len(before) - len(pending),
                        delivered_pending=sum(text in after for text in pending.values()),
                        pending=len(pending),
                    )
                )

        await asyncio.gather(*(asyncio.to_thread(push, lane) for lane in lanes))
    finally:
        for lane in lanes:
            lane.zygote.close()

    kills = sum(lane.kills for lane in lanes)
    recording = KILLS_RECORDING * len(lanes)
    mid_record = sum(lane.mid_record for lane in lanes)
    mid_pull = sum(lane.mid_pull for lane in lanes)
    mid_pull_paged = sum(lane.mid_pull_paged for lane in lanes)
    flushed_part = sum(lane.flushed_part for lane in lanes)
    lost_unflushed = sum(lane.lost_unflushed for lane in lanes)
    push_kills = [kill for lane in lanes for kill in lane.push_kills]
    landed = sorted(sum((lane.landed for lane in lanes), Counter()).items())
    print(
        f"{kills} kills, {sum(lane.interrupted for lane in lanes)} mid-work,"
        f" {sum(len(lane.acked) for lane in lanes)} acknowledged actions;"
        f" of {recording} while recording: {mid_record} inside `record`, {mid_pull} mid-pull,"
        f" {mid_pull_paged} of them after a page was applied, {flushed_part} with part of the"
        f" pull on disk, {lost_unflushed} losing unflushed pages;"
        f" where the kills landed: {landed};"
        f" push kills: {push_kills}"
    )
    assert kills == 200
    assert sum(lane.interrupted for lane in lanes) >= 100  # most kills landed mid-work
    # A good share of the kills landed while a pull was applying and flushing its pages (with
    # part of it on disk, or with pages not flushed yet), and some while an action was written.
    assert mid_pull >= recording // 2
    assert mid_pull_paged >= recording // 4
    assert flushed_part >= 20 and lost_unflushed >= 20
    assert mid_record >= 5
    # Some push kills left actions delivered (and let go of by the outbox) and others pending;
    # some left actions delivered but still in the outbox, which a later push sent again with the
    # same idempotency key (the server replayed them: each note is still there once).
    assert any(kill.confirmed > 0 and kill.pending > 0 for kill in push_kills)
    assert sum(kill.delivered_pending for kill in push_kills) > 0
    assert sum(kill.resent for kill in push_kills) > 0

    # Restart and sync: every acknowledged action is on the server exactly once.
    async def restart_and_sync(lane: Lane) -> None:
        store = lane.who.open()
        assert store.messages == []
        summary = await make_engine(store, lane.who.client()).sync_once()
        assert summary.errors == [] and summary.conflicts == 0
        assert store.counts()[1:] == (0, 0)
        store.close()

    await asyncio.gather(*(restart_and_sync(lane) for lane in lanes))
    for lane in lanes:
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

    go = tmp_path / "go"
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
            # A millisecond between two actions, as a person would leave: without it the process
            # that writes first takes the outbox's lock again before the other one polls it.
            env={
                **os.environ,
                "PYTHONPATH": str(REPO),
                "CACHE_WORKER_START": str(go),
                "CACHE_WORKER_PAUSE": "0.001",
            },
        )
        for _ in range(2)
    ]
    for worker in workers:  # a start barrier: both have opened the cache, then both start
        assert worker.stdout is not None
        assert worker.stdout.readline() == "READY\n"
    go.touch()
    outputs = [w.communicate(timeout=90) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    acks = [
        [line.split()[1:4] for line in out.splitlines() if line.startswith("ACK ")] for out, _err in outputs
    ]
    acked = [key for mine in acks for key, _order, _at in mine]
    assert len(acked) == len(set(acked)) == 600
    assert [len(mine) for mine in acks] == [300, 300]
    # They ran at the same time: each one had recorded before the other recorded its last.
    first = [min(float(at) for _key, _order, at in mine) for mine in acks]
    last = [max(float(at) for _key, _order, at in mine) for mine in acks]
    assert first[0] < last[1] and first[1] < last[0]

    store = zhang.open()
    assert {a.key for a in store.pending()} == set(acked)
    assert [a.order for a in store.pending()] == sorted({a.order for a in store.pending()})
    # The two processes really ran together: in the outbox's order (the order the actions are
    # sent in) their actions interleave, rather than all of one process's, then the other's.
    order = {a.key: a.order for a in store.pending()}
    worker_of: dict[int, int] = {}
    for number, mine in enumerate(acks):
        for key, printed, _at in mine:
            assert order[key] == int(printed)  # the order `record` returned is the outbox's
            worker_of[order[key]] = number
    sequence = [worker_of[n] for n in sorted(worker_of)]
    switches = sum(1 for before, after in itertools.pairwise(sequence) if before != after)
    print(f"the two processes' actions alternate {switches} times in the outbox's order")
    assert switches >= 10, sequence  # one after the other would switch once
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
