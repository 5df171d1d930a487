"""A centre at peak: N dispatchers' sync engines on one central API while W writes a second go in.

    python bench/load.py [--clients 100] [--rate 20] [--seconds 10] [--store sqlite|postgres]
                         [--processes 1] [--generators 0]
    python bench/load.py --table [--seconds 60] [--rate 50] [--table-clients 0,100,300,700]

Loopback only. The server is `hotline serve` in its own process group (`--workers P` when P > 1)
over a temp SQLite file or a database of a throwaway PostgreSQL cluster
(`central_api.sql.pg_cluster`). Tokens are made through the store before it starts and reach the
client processes in a file of mode 600 (never on a command line): one per four streams (a token
may hold four per server process), and one for the writes.

- Clients: `bench/load_clients.py` processes (`--generators`; by default one per
  `CLIENTS_PER_GENERATOR`), each holding its share of the streams and pulling as the app does.
- Writes: this process, open loop: write k is due at k/W s; even ones are intakes
  (`POST /v1/requests`), odd ones dispatch the previous intake (`POST .../actions`, `If-Match`),
  each with its `Idempotency-Key`, and sent again with it after a timeout or a 5xx, as the app's
  push does, for up to `WRITE_DEADLINE_S`. A dispatch is due once its intake is answered.
- After the S seconds of writes: every client is given `DRAIN_S` to hold the last write.

One JSON line per run: `writes_done_per_s` (answered writes / the time from the first due to the
last answered, at least S), `write_p50_ms`/`write_p99_ms` (due → answered), `visible_p50_ms`/
`visible_p99_ms` (answered → every client holds its seq; 0 if they held it before the answer
came), `unseen` (answered writes some client never held), `errors` (refused or failed requests
and streams; `error_kinds` by kind), `timeouts` (writes and pulls), `pulls`, `carried` (pages
the stream carried and the client applied), `server_cpu_pct` (the server process and its
children, from /proc, over the S seconds: 100 = one core), `server_rss_mb` (their peak sum),
`db_cpu_pct` (PostgreSQL's processes), `generator_cpu_pct` (this process and the clients'),
`generator_busiest_pct` (the busiest of them: near 100, the generator is what is measured),
`load` (loadavg). `--table` runs the README's rows (SQLite with one process, PostgreSQL with
two, at each client count) and prints them as a Markdown table on stderr too.
A run takes at most S + `GRACE_S` seconds; everything it started is stopped. The server starts
with this shell's limits (`ulimit -n`), as an operator's would; the client processes raise their
own soft limit on open files to the hard one.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds queue.py, which would shadow the standard library's `queue`: keep the folder
# at the end of the import path (load_clients is imported from it).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from load_clients import REQUEST_TIMEOUT_S, Connection, HttpError

from api_client.models import CallerIn, Channel, LocationIn, NewRequest, RequestType, Role
from central_api.catalogue import suggested_units
from central_api.sql_store import SqlStore

HOST = "127.0.0.1"
STREAMS_PER_TOKEN = 4
#: Streams one client process holds by default (it keeps up with them: see the report).
CLIENTS_PER_GENERATOR = 350
#: How long the server, the cluster and the clients' streams may take to be ready.
SETUP_S = 60.0
#: How long a write is tried (the app client's deadline for one call).
WRITE_DEADLINE_S = 15.0
#: How long every client is given, after the writes, to hold the last one.
DRAIN_S = 20.0
#: The most a run takes beyond its S seconds of writes (setup, drain, stopping).
GRACE_S = SETUP_S + WRITE_DEADLINE_S + DRAIN_S + 25.0
#: Writes in flight at once (each on a connection of its own).
WRITES_IN_FLIGHT = 256
TABLE_CLIENTS = (0, 100, 300, 700)
CATEGORIES = ("roof_leak", "waterlogging", "noise", "heating")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


# -- processes, from /proc --------------------------------------------------------------------
@dataclass(frozen=True)
class ProcInfo:
    ppid: int
    ticks: int  # user + system CPU
    start: int  # start time: with the pid, names one process
    rss: int  # bytes


def proc_info(pid: int) -> ProcInfo | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    return ProcInfo(
        int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19]), int(fields[21]) * PAGE_BYTES
    )


def all_procs() -> dict[int, ProcInfo]:
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (info := proc_info(int(entry.name))) is not None:
            table[int(entry.name)] = info
    return table


def tree(roots: list[int], table: dict[int, ProcInfo]) -> dict[tuple[int, int], ProcInfo]:
    """`roots` and every descendant of theirs, keyed by (pid, start time)."""
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info.ppid, []).append(pid)
    found, todo = {}, [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        found[(pid, table[pid].start)] = table[pid]
        todo += children.get(pid, [])
    return found


def postmaster(data_dir: Path) -> list[int]:
    """The pid of the PostgreSQL server of `data_dir` (in a list: none when it is not found)."""
    needle = str(data_dir).encode()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in Path(entry.path, "cmdline").read_bytes():
                    return [int(entry.name)]
    return []


def cpu_pct(
    before: dict[tuple[int, int], ProcInfo], after: dict[tuple[int, int], ProcInfo], wall: float
) -> float:
    ticks = sum(info.ticks - (before[key].ticks if key in before else 0) for key, info in after.items())
    return round(100.0 * ticks / CLOCK_TICKS / wall, 1)


# -- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """`hotline serve` in a process group of its own; its output goes to `log`."""

    def __init__(self, db: str, processes: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        command = [sys.executable, "-m", "tui.cli", "serve", "--db", db, "--host", HOST]
        command += ["--port", str(self.port)]
        if processes > 1:
            command += ["--workers", str(processes)]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def ready(self, by: float) -> None:
        while b"listening on" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > by:
                raise RuntimeError(f"the server did not start:\n{self.tail()}")
            await asyncio.sleep(0.05)
        conn = Connection(HOST, self.port)
        try:
            while True:
                with contextlib.suppress(OSError, asyncio.IncompleteReadError, HttpError):
                    if (await conn.request(b"GET", b"/v1/health")).status == 200:
                        return
                if time.monotonic() > by:
                    raise RuntimeError(f"the server does not answer /v1/health:\n{self.tail()}")
                await asyncio.sleep(0.05)
        finally:
            conn.close()

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL for whatever of its tree is left after 15 s."""
        started = tree([self.proc.pid], all_procs())
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        for pid, start in started:
            info = proc_info(pid)
            if info is not None and info.start == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)


# -- the writes -------------------------------------------------------------------------------
def intake_body(i: int) -> tuple[bytes, str]:
    """An intake's JSON body, and the unit its dispatch names."""
    category, community = CATEGORIES[i % len(CATEGORIES)], f"c{i % 20 + 1:02d}"
    new = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category=category,
        description=f"第{i}号诉求：家里顶楼漏雨，墙面渗水，屋里已经有积水了，请尽快派人来看看。",
        location=LocationIn(
            street="德胜门外大街", community=community, address=f"新外大街{i % 300}号院{i % 12}号楼"
        ),
        caller=CallerIn(name="王女士", phone=f"138{i:08d}"[:11]),
        vulnerable=i % 13 == 0,
    )
    return new.model_dump_json().encode(), suggested_units(category, community)[0]


@dataclass
class Write:
    due: float
    answered: float | None = None
    seq: int | None = None


@dataclass
class Writer:
    """Writes at `rate` a second for `seconds`, open loop."""

    port: int
    token: str
    rate: float
    seconds: float
    writes: list[Write] = field(default_factory=list)
    timeouts: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._idle: list[Connection] = []
        self._slots = asyncio.Semaphore(WRITES_IN_FLIGHT)
        self._auth = b"Authorization: Bearer %b\r\n" % self.token.encode()

    async def run(self, start: float) -> None:
        tasks: list[asyncio.Task[Any]] = []
        intake: asyncio.Task[dict[str, Any] | None] | None = None
        unit = ""
        for k in range(round(self.rate * self.seconds)):
            due = start + k / self.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            write = Write(due)
            self.writes.append(write)
            if k % 2 == 0:
                body, unit = intake_body(k // 2)
                intake = asyncio.create_task(self._post(write, b"/v1/requests", body))
                tasks.append(intake)
            else:
                assert intake is not None
                tasks.append(asyncio.create_task(self._dispatch(write, intake, unit)))
        await asyncio.gather(*tasks)
        for conn in self._idle:
            conn.close()

    async def _dispatch(self, write: Write, intake: asyncio.Task[dict[str, Any] | None], unit: str) -> None:
        made = await intake
        if made is None:
            return  # its intake failed: this write is not done either
        write.due = max(write.due, time.monotonic())
        body = orjson.dumps({"action": "dispatch", "lead_unit": unit})
        version = b'If-Match: "%d"\r\n' % made["version"]
        await self._post(write, b"/v1/requests/%b/actions" % made["id"].encode(), body, version)

    async def _post(
        self, write: Write, target: bytes, body: bytes, extra: bytes = b""
    ) -> dict[str, Any] | None:
        """POST until answered (the same key every time) or `WRITE_DEADLINE_S` has passed."""
        headers = self._auth + b"Idempotency-Key: %b\r\n" % uuid.uuid4().hex.encode() + extra
        deadline = write.due + WRITE_DEADLINE_S
        while (left := deadline - time.monotonic()) > 0:
            async with self._slots:
                conn = self._idle.pop() if self._idle else Connection(HOST, self.port)
                try:
                    async with asyncio.timeout(min(REQUEST_TIMEOUT_S, left)):
                        answer = await conn.request(b"POST", target, headers, body)
                except TimeoutError:
                    conn.close()
                    self.timeouts += 1
                    continue
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
                    conn.close()
                    self.errors[f"write_{type(exc).__name__}"] += 1
                    await asyncio.sleep(0.2)
                    continue
                self._idle.append(conn)
            if 200 <= answer.status < 300:
                write.answered = time.monotonic()
                data: dict[str, Any] = orjson.loads(answer.body)
                write.seq = int(data["change_seq"])
                return data
            self.errors[f"write_{answer.status}"] += 1
            if answer.status not in (429, 503) and answer.status < 500:
                return None
            await asyncio.sleep(min(float(answer.headers.get(b"retry-after", b"0.5") or 0.5), 2.0))
        return None


# -- the clients ------------------------------------------------------------------------------
class Generator:
    """One `load_clients.py` process."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, config: dict[str, Any], work: Path, index: int) -> Generator:
        path = work / f"clients-{index}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(config, out)
        with (work / f"clients-{index}.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(_HERE / "load_clients.py"),
                str(path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                limit=1 << 26,  # the result line lists a time per change
            )
        return cls(proc)

    async def line(self, word: str, by: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            text = await asyncio.wait_for(self.proc.stdout.readline(), max(0.01, by - time.monotonic()))
            if not text:
                raise RuntimeError(f"a client process ended without `{word}`")
            head, _, rest = text.decode().partition(" ")
            if head == word:
                result: dict[str, Any] = json.loads(rest)
                return result

    def drain(self, upto: int, seconds: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"drain {upto} {seconds}\n".encode())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()


def seed_tokens(db: str, clients: int) -> tuple[str, list[str]]:
    """The writer's token, and one per `STREAMS_PER_TOKEN` clients (through the store)."""
    store = SqlStore.open(db)
    try:
        writer = store.create_token("load-writer", Role.dispatcher)
        tokens = [
            store.create_token(f"load-{i}", Role.dispatcher)
            for i in range(math.ceil(clients / STREAMS_PER_TOKEN))
        ]
    finally:
        store.close()
    return writer, [tokens[i // STREAMS_PER_TOKEN] for i in range(clients)]


# -- one run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    store: str
    processes: int
    clients: int
    rate: float
    seconds: float
    generators: int


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def merge_worst(results: list[dict[str, Any]]) -> tuple[int, list[float | None]]:
    """Per seq, when the last client of every process held it."""
    base = int(results[0]["base"]) if results else 0
    merged: list[float | None] = []
    for result in results:
        for i, when in enumerate(result["worst"]):
            if i == len(merged):
                merged.append(when)
            elif merged[i] is not None:
                merged[i] = None if when is None else max(when, merged[i])
    return base, merged


class Sampler:
    """CPU over the window, and the server's peak RSS, sampled while it runs: the server's and
    PostgreSQL's process trees, and the generator's processes (not their children: the server
    is one)."""

    def __init__(self, server: int, generators: list[int], db: list[int]) -> None:
        self.roots = {"server": [server], "db": db}
        self.generators = [os.getpid(), *generators]
        self.peak_rss = 0
        self.before: dict[str, dict[tuple[int, int], ProcInfo]] = {}
        self.started = 0.0

    def snapshot(self) -> dict[str, dict[tuple[int, int], ProcInfo]]:
        table = all_procs()
        trees = {name: tree(roots, table) for name, roots in self.roots.items()}
        trees["generator"] = {(pid, table[pid].start): table[pid] for pid in self.generators if pid in table}
        self.peak_rss = max(self.peak_rss, sum(info.rss for info in trees["server"].values()))
        return trees

    def begin(self) -> None:
        self.before, self.started = self.snapshot(), time.monotonic()

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.snapshot()

    def end(self) -> dict[str, Any]:
        after, wall = self.snapshot(), time.monotonic() - self.started
        before = self.before["generator"]
        busiest = max(
            cpu_pct({key: before[key]} if key in before else {}, {key: info}, wall)
            for key, info in after["generator"].items()
        )
        return {
            "server_cpu_pct": cpu_pct(self.before["server"], after["server"], wall),
            "server_rss_mb": round(self.peak_rss / 2**20, 1),
            "db_cpu_pct": cpu_pct(self.before["db"], after["db"], wall) if self.roots["db"] else None,
            "generator_cpu_pct": cpu_pct(self.before["generator"], after["generator"], wall),
            "generator_busiest_pct": busiest,
        }


async def run_once(setup: Setup, db: str, work: Path, data_dir: Path | None) -> dict[str, Any]:
    setup_by = time.monotonic() + SETUP_S
    writer_token, tokens = seed_tokens(db, setup.clients)
    server = Server(db, setup.processes, work / "server.log")
    generators: list[Generator] = []
    try:
        await server.ready(setup_by)
        end_by = time.monotonic() + SETUP_S + setup.seconds + WRITE_DEADLINE_S + DRAIN_S + 10
        base = await head(server.port)
        shares = [tokens[i :: setup.generators] for i in range(setup.generators)]
        for i, share in enumerate(shares):
            config = {"host": HOST, "port": server.port, "base": base, "tokens": share}
            config |= {"end_by": end_by, "connect_s": max(1.0, setup_by - time.monotonic())}
            generators.append(await Generator.start(config, work, i))
        ready = [await g.line("ready", setup_by + 5) for g in generators]
        sampler = Sampler(
            server.proc.pid, [g.proc.pid for g in generators], postmaster(data_dir) if data_dir else []
        )
        writer = Writer(server.port, writer_token, setup.rate, setup.seconds)
        watching = asyncio.create_task(sampler.watch())
        sampler.begin()
        start = time.monotonic() + 0.05
        writing = asyncio.create_task(writer.run(start))
        await asyncio.sleep(max(0.0, start + setup.seconds - time.monotonic()))
        usage = sampler.end()
        watching.cancel()
        load = [round(x, 2) for x in os.getloadavg()]
        await writing
        seqs = [w.seq for w in writer.writes if w.seq is not None]
        upto = max(seqs, default=base)
        for g in generators:
            g.drain(upto, DRAIN_S)
        results = [await g.line("result", time.monotonic() + DRAIN_S + 10) for g in generators]
    finally:
        for g in generators:
            await g.stop()
        server.stop()
    return summary(setup, writer, start, ready, results, usage, load)


async def head(port: int) -> int:
    conn = Connection(HOST, port)
    try:
        return int(orjson.loads((await conn.request(b"GET", b"/v1/health")).body)["head"])
    finally:
        conn.close()


def summary(
    setup: Setup,
    writer: Writer,
    start: float,
    ready: list[dict[str, Any]],
    results: list[dict[str, Any]],
    usage: dict[str, Any],
    load: list[float],
) -> dict[str, Any]:
    done = [w for w in writer.writes if w.answered is not None and w.seq is not None]
    last = max((w.answered for w in done if w.answered is not None), default=start)
    base, worst = merge_worst(results)
    visible, unseen = [], 0
    for w in done if setup.clients else []:
        assert w.answered is not None and w.seq is not None
        when = worst[w.seq - base - 1] if 0 < w.seq - base <= len(worst) else None
        if when is None:
            unseen += 1
        else:
            visible.append(max(0.0, when - w.answered) * 1000)
    errors = Counter(writer.errors)
    for result in results:
        errors.update(result["errors"])
    pull_timeouts = sum(int(r["pull_timeouts"]) for r in results)
    return {
        "store": setup.store,
        "processes": setup.processes,
        "clients": setup.clients,
        "rate": setup.rate,
        "seconds": setup.seconds,
        "generators": setup.generators,
        "streams": sum(int(r["connected"]) for r in ready),
        "writes": len(writer.writes),
        "writes_done": len(done),
        "writes_done_per_s": round(len(done) / max(setup.seconds, last - start), 1),
        "write_p50_ms": percentile([(w.answered - w.due) * 1000 for w in done if w.answered], 0.5),
        "write_p99_ms": percentile([(w.answered - w.due) * 1000 for w in done if w.answered], 0.99),
        "visible_p50_ms": percentile(visible, 0.5),
        "visible_p99_ms": percentile(visible, 0.99),
        "unseen": unseen,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "timeouts": writer.timeouts + pull_timeouts,
        "write_timeouts": writer.timeouts,
        "pull_timeouts": pull_timeouts,
        "pulls": sum(int(r["pulls"]) for r in results),
        "carried": sum(int(r["carried"]) for r in results),
        "notices": sum(int(r["notices"]) for r in results),
        "gaps": sum(int(r["gaps"]) for r in results),
        "reconnects": sum(int(r["reconnects"]) for r in results),
        "event_mb": round(sum(int(r["event_bytes"]) for r in results) / 2**20, 1),
        **usage,
        "load": load,
    }


@contextlib.contextmanager
def database(store: str, work: Path, cluster: Any, name: str) -> Iterator[tuple[str, Path | None]]:
    """The URL (or SQLite path) of a new database, and the PostgreSQL data dir (None for SQLite)."""
    if store == "sqlite":
        yield str(work / "central.db"), None
        return
    url = cluster.create_database(name)
    try:
        yield url, cluster.data_dir
    finally:
        cluster.drop_database(name)


def run(setup: Setup, cluster: Any, index: int = 0) -> dict[str, Any]:
    """One run in a fresh temp dir and database, within S + GRACE_S seconds."""
    with tempfile.TemporaryDirectory(prefix="hotline-load-") as tmp:
        work = Path(tmp)
        with database(setup.store, work, cluster, f"load_{index}") as (db, data_dir):

            async def bounded() -> dict[str, Any]:
                async with asyncio.timeout(setup.seconds + GRACE_S):
                    return await run_once(setup, db, work, data_dir)

            try:
                return asyncio.run(bounded())
            except Exception as exc:  # one failed row must not stop a table: say why, go on
                for log in sorted(work.glob("*.log")):
                    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                    print(f"--- {log.name}\n{tail}", file=sys.stderr)
                failure = f"{type(exc).__name__}: {exc}".strip()
                return {"store": setup.store, "processes": setup.processes, "clients": setup.clients} | {
                    "rate": setup.rate,
                    "seconds": setup.seconds,
                    "failed": failure,
                }


@contextlib.contextmanager
def pg_cluster(needed: bool) -> Iterator[Any]:
    if not needed:
        yield None
        return
    from central_api.sql.pg_cluster import PgCluster

    with tempfile.TemporaryDirectory(prefix="hotline-load-pg-") as tmp, PgCluster.start(Path(tmp)) as cluster:
        yield cluster


def generators_for(clients: int, asked: int) -> int:
    if asked > 0:
        return min(asked, max(1, clients))
    return math.ceil(clients / CLIENTS_PER_GENERATOR) if clients else 0


def markdown(rows: list[dict[str, Any]]) -> str:
    def pair(a: Any, b: Any) -> str:
        return "–" if a is None else f"{a:g} / {b:g}"

    lines = [
        "| clients | store | processes | writes/s asked | done | write p50 / p99 ms | visible p50 / p99 ms"
        " | errors | timeouts | server CPU % | DB CPU % | generator CPU % |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "failed" in r:
            lines.append(f"| {r['clients']} | {r['store']} | {r['processes']} | {r['rate']:g} | failed |")
            continue
        lines.append(
            f"| {r['clients']} | {r['store']} | {r['processes']} | {r['rate']:g} | {r['writes_done_per_s']:g}"
            f" | {pair(r['write_p50_ms'], r['write_p99_ms'])}"
            f" | {pair(r['visible_p50_ms'], r['visible_p99_ms'])}"
            f" | {r['errors']} | {r['timeouts']} | {r['server_cpu_pct']:g} | {r['db_cpu_pct'] or '–'}"
            f" | {r['generator_cpu_pct']:g} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100, help="dispatchers holding the event stream")
    parser.add_argument("--rate", type=float, default=20.0, help="writes asked per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the writes go on")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--processes", type=int, default=1, help="server processes (hotline serve --workers)")
    parser.add_argument("--generators", type=int, default=0, help="client processes (0: one per 350 clients)")
    parser.add_argument("--table", action="store_true", help="the README's rows: SQLite x1 and PostgreSQL x2")
    parser.add_argument("--table-clients", default=",".join(map(str, TABLE_CLIENTS)), help="client counts")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.clients < 0 or args.processes < 1:
        parser.error("--rate and --seconds must be positive, --clients >= 0, --processes >= 1")
    if args.table:
        counts = [int(c) for c in args.table_clients.split(",")]
        setups = [
            Setup(store, processes, n, args.rate, args.seconds, generators_for(n, args.generators))
            for n in counts
            for store, processes in (("sqlite", 1), ("postgres", 2))
        ]
    else:
        n = args.clients
        setups = [
            Setup(args.store, args.processes, n, args.rate, args.seconds, generators_for(n, args.generators))
        ]
    rows = []
    with pg_cluster(any(s.store == "postgres" for s in setups)) as cluster:
        for index, setup in enumerate(setups):
            rows.append(run(setup, cluster, index))
            print(json.dumps(rows[-1]), flush=True)
    if args.table:
        print(markdown(rows), file=sys.stderr)
    return 1 if any("failed" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
