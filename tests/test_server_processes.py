"""Several server processes on one database, and a server that degrades gracefully.

- PostgreSQL's notices: a committed write and a revocation are announced (a rolled-back write is
  not), and a listener whose connection is cut reconnects and catches up.
- Two `hotline serve` processes on one PostgreSQL database: a write through one reaches a stream
  on the other (by notice: the head is polled only every 30 s there), paging through both stays
  gap-free while writes interleave through both (and a replay through the other is the first
  answer), and a token revoked through one is refused by the other.
- `hotline serve --workers 2` starts, answers, starts a killed process again, and stops on SIGTERM
  leaving no process behind.
- A server out of descriptors refuses a new stream with 503 and `Retry-After` (logged once), and
  still takes writes; the open-file limit is raised at start.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from conftest import bearer
from pg_support import Db
from server_helpers import SSEReader, new_request
from starlette.requests import Request as HttpRequest
from starlette.responses import StreamingResponse

from api_client.models import NewRequest, Role
from central_api.deps import REVOCATION_SECONDS
from central_api.errors import ApiError
from central_api.pg_notify import APPLICATION_NAME, NoticeListener, connect_args
from central_api.server import LiveServer, ServeError, run
from central_api.sql_store import SqlStore
from central_api.stream_admission import (
    LOG_EVERY_SECONDS,
    RETRY_AFTER_SECONDS,
    StreamAdmission,
    admit_stream,
    open_descriptors,
)

#: How long a test waits for something that should come at once (not a measure of speed).
PATIENCE = 10.0
postgres_only = pytest.mark.stores("postgres")


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.05)


class Recorder:
    """The values a `NoticeListener` hands to its callbacks."""

    def __init__(self) -> None:
        self.heads: list[int] = []
        self.versions: list[int] = []


@pytest.fixture
def listener(tmp_db: Db) -> Iterator[tuple[NoticeListener, Recorder, SqlStore]]:
    store = SqlStore.open(tmp_db)
    seen = Recorder()
    heard = NoticeListener(str(tmp_db), on_head=seen.heads.append, on_tokens=seen.versions.append)
    heard.start()
    try:
        assert heard.listening
        yield heard, seen, store
    finally:
        heard.stop()
        store.close()


@postgres_only
def test_committed_writes_and_revocations_are_announced(
    listener: tuple[NoticeListener, Recorder, SqlStore],
) -> None:
    _heard, seen, store = listener
    wait_for(lambda: seen.heads == [0] and seen.versions == [0], PATIENCE, "the catch-up at connection")
    new = NewRequest.model_validate(new_request())
    first = store.create_request(new, actor="t", idempotency_key=None).request
    wait_for(lambda: seen.heads[-1:] == [first.change_seq], PATIENCE, "the write's notice")
    with pytest.raises(RuntimeError), store.batch():  # rolled back: no notice
        store.create_request(new, actor="t", idempotency_key=None)
        raise RuntimeError
    store.create_token("ops", Role.dispatcher)
    store.revoke_token("ops", actor="t")
    wait_for(lambda: seen.versions[-1:] == [store.tokens_version()], PATIENCE, "the revocation's notice")
    assert seen.heads == [0, first.change_seq]  # notices come in commit order: none was sent between
    second = store.create_request(new, actor="t", idempotency_key=None).request
    wait_for(lambda: seen.heads[-1:] == [second.change_seq], PATIENCE, "the next write's notice")


@postgres_only
def test_a_listener_cut_off_reconnects_and_catches_up(
    listener: tuple[NoticeListener, Recorder, SqlStore], tmp_db: Db
) -> None:
    heard, seen, store = listener
    wait_for(lambda: seen.heads == [0], PATIENCE, "the catch-up at connection")
    with psycopg.connect(**connect_args(str(tmp_db)), autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()
    assert cut == [(True,)], "not one listening session"
    new = NewRequest.model_validate(new_request())
    made = store.create_request(new, actor="t", idempotency_key=None).request
    wait_for(lambda: made.change_seq in seen.heads, PATIENCE, "the write, after reconnecting")
    assert heard.listening


# --- server processes ------------------------------------------------------------------------


class ServerProcess:
    """`hotline serve` in a process of its own, on a free port; its log in a file. `listening()`
    waits for its line (starting several first, then waiting, starts them side by side)."""

    def __init__(self, db: Db, log: Path, *, workers: int = 1) -> None:
        self.log = log
        command = [sys.executable, "-m", "tui.cli", "serve", "--db", str(db), "--port", "0"]
        if workers > 1:
            command += ["--workers", str(workers)]
        with log.open("w") as err:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
        self.url = ""

    def listening(self) -> ServerProcess:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.fullmatch(r"hotline central API listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, f"{line!r}: {self.log.read_text()}"
        self.url = match.group(1)
        return self

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=bearer(token), timeout=PATIENCE)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        """SIGTERM, and the exit code (killed when it does not end)."""
        self.terminate()
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture
def two_processes(tmp_db: Db, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess, SqlStore]]:
    """Two `hotline serve` processes on one database, and a store on it for making tokens."""
    store = SqlStore.open(tmp_db)
    started: list[ServerProcess] = []
    try:
        started += [ServerProcess(tmp_db, tmp_path / f"server{i}.log") for i in (1, 2)]
        yield started[0].listening(), started[1].listening(), store
    finally:
        for server in started:
            server.terminate()
        for server in started:
            server.stop()
        store.close()


@postgres_only
def test_a_write_through_one_process_reaches_a_stream_on_the_other(
    two_processes: tuple[ServerProcess, ServerProcess, SqlStore],
) -> None:
    first, second, store = two_processes
    token = store.create_token("ops", Role.dispatcher)
    stream = SSEReader(second.url, token)
    try:
        assert stream.status == 200
        with first.client(token) as client:
            made = client.post("/v1/requests", json=new_request())
        assert made.status_code == 201, made.text
        seq = made.json()["change_seq"]
        while (event := stream.next_event(PATIENCE)) is not None and int(event["id"]) < seq:
            pass
        assert event is not None and int(event["id"]) == seq, "the other process's stream did not hear it"
    finally:
        stream.close()


@postgres_only
def test_paging_through_both_processes_stays_gap_free_while_writes_interleave(
    two_processes: tuple[ServerProcess, ServerProcess, SqlStore],
) -> None:
    first, second, store = two_processes
    token = store.create_token("ops", Role.dispatcher)
    clients = [first.client(token), second.client(token)]
    key = {"Idempotency-Key": "intake-0001"}
    made = clients[0].post("/v1/requests", json=new_request(), headers=key)
    again = clients[1].post("/v1/requests", json=new_request(), headers=key)  # a replay, elsewhere
    assert made.status_code == again.status_code == 201 and again.json() == made.json()
    failures: list[str] = []

    def write(offset: int) -> None:
        for i in range(20):
            answer = clients[(i + offset) % 2].post("/v1/requests", json=new_request())
            if answer.status_code != 201:
                failures.append(answer.text)

    writers = [threading.Thread(target=write, args=(offset,)) for offset in (0, 1)]
    for writer in writers:
        writer.start()
    seqs: list[int] = []
    since, turn = 0, 0
    try:
        while True:
            still_writing = any(writer.is_alive() for writer in writers)
            page = clients[turn % 2].get("/v1/changes", params={"since": since, "limit": 7}).json()
            turn += 1
            for change in page["changes"]:
                assert change["request"]["change_seq"] == change["seq"]
                seqs.append(change["seq"])
            since = page["next_since"]
            if not still_writing and not page["has_more"] and since == page["head"]:
                break
            if not page["changes"]:
                time.sleep(0.01)
    finally:
        for writer in writers:
            writer.join()
        for client in clients:
            client.close()
    assert not failures, failures
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == store.head() >= 41


@postgres_only
def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    two_processes: tuple[ServerProcess, ServerProcess, SqlStore],
) -> None:
    first, second, store = two_processes
    admin = store.create_token("root", Role.admin)
    token = store.create_token("张敏", Role.dispatcher)
    with first.client(admin) as revoker, second.client(token) as holder:
        assert holder.get("/v1/me").status_code == 200  # the other process knows the token now
        assert revoker.delete("/v1/tokens/张敏").status_code == 200
        revoked = time.monotonic()
        wait_for(lambda: holder.get("/v1/me").status_code == 401, REVOCATION_SECONDS, "refused")
        assert time.monotonic() - revoked <= REVOCATION_SECONDS
        assert revoker.get("/v1/me").status_code == 200


# --- hotline serve --workers -----------------------------------------------------------------


def children(pid: int) -> dict[int, str]:
    """The live processes whose parent is `pid`, with their command lines."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def servers_of(pid: int) -> set[int]:
    """The server processes `pid` spawned (not multiprocessing's resource tracker)."""
    return {child for child, command in children(pid).items() if "spawn_main" in command}


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
def test_serve_with_two_workers_answers_restarts_one_and_stops_on_sigterm(tmp_db: Db, tmp_path: Path) -> None:
    store = SqlStore.open(tmp_db)
    token = store.create_token("ops", Role.dispatcher)
    store.close()
    server = ServerProcess(tmp_db, tmp_path / "serve.log", workers=2).listening()
    try:
        workers = servers_of(server.proc.pid)
        assert len(workers) == 2, children(server.proc.pid)
        with server.client(token) as client:
            for _ in range(6):
                assert client.get("/v1/health").status_code == 200
            assert client.post("/v1/requests", json=new_request()).status_code == 201
            killed = min(workers)
            os.kill(killed, signal.SIGKILL)
            wait_for(lambda: len(servers_of(server.proc.pid) - {killed}) == 2, 60, "another process")
            assert client.get("/v1/changes").json()["head"] == 1
        everyone = set(children(server.proc.pid))
        assert server.stop() == 0
        wait_for(lambda: all(gone(pid) for pid in everyone), PATIENCE, "every child gone")
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert f"(pid {killed}) ended (killed by SIGKILL)" in log, log
    assert "Traceback" not in log, log


@pytest.mark.stores("sqlite")
def test_serve_refuses_no_workers(tmp_db: Db) -> None:
    with pytest.raises(ServeError, match="at least 1"):
        run(str(tmp_db), "127.0.0.1", 0, workers=0)


# --- a server out of descriptors -------------------------------------------------------------


def add_stream_route(server: LiveServer) -> None:
    """`GET /probe/stream`: an endless stream behind `admit_stream`, as the events route has it."""
    from fastapi import Depends

    notifier = server.app.state.notifier

    async def stream(request: HttpRequest) -> StreamingResponse:
        async def body() -> Any:
            yield b": open\n\n"
            while not notifier.closed:
                await notifier.wait_beyond(1 << 60, 1.0)

        return StreamingResponse(body(), media_type="text/event-stream")

    server.app.add_api_route("/probe/stream", stream, dependencies=[Depends(admit_stream)])


@pytest.mark.stores("sqlite")
def test_a_server_out_of_descriptors_refuses_a_stream_with_503_and_takes_writes(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    add_stream_route(live_server)
    token = live_server.create_token("ops", Role.dispatcher)
    client = httpx.Client(base_url=live_server.url, headers=bearer(token), timeout=PATIENCE)
    opened: list[httpx.Response] = []
    now = open_descriptors()
    assert now is not None
    # a tiny budget: a few descriptors beyond those open now (each stream takes two here: the
    # server's socket and the client's)
    live_server.app.state.stream_admission = StreamAdmission(limit=now + 24, reserve=4)
    caplog.set_level(logging.WARNING, logger="central_api.stream_admission")
    refusals: list[httpx.Response] = []
    try:
        for _ in range(40):
            request = client.build_request("GET", "/probe/stream")
            answer = client.send(request, stream=True)
            if answer.status_code != 200:
                answer.read()
                refusals.append(answer)
                if len(refusals) == 3:
                    break
            else:
                opened.append(answer)
        assert opened, "no stream was admitted before the budget ran out"
        assert [r.status_code for r in refusals] == [503] * 3
        assert refusals[0].headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert refusals[0].json()["code"] == "server_busy"
        made = httpx.post(
            f"{live_server.url}/v1/requests", json=new_request(), headers=bearer(token), timeout=PATIENCE
        )
        assert made.status_code == 201, made.text
        assert client.get("/v1/changes").json()["head"] == 1
    finally:
        for answer in opened:
            answer.close()
        client.close()
    logged = [r for r in caplog.records if r.name == "central_api.stream_admission"]
    assert len(logged) == 1 and "refused 1 new event stream" in logged[0].getMessage()


def test_refusals_are_logged_at_most_once_a_while(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    admission = StreamAdmission(limit=100, reserve=10, count=lambda: 95, clock=lambda: clock[0])
    caplog.set_level(logging.WARNING, logger="central_api.stream_admission")
    for step in range(10):
        clock[0] = step * LOG_EVERY_SECONDS / 4
        with pytest.raises(ApiError, match="no room"):
            admission.check()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "refused 1 new event stream(s)",
        "refused 4 new event stream(s)",
        "refused 4 new event stream(s)",
    ]
    StreamAdmission(limit=100, reserve=10, count=lambda: 89).check()  # room: admitted
    StreamAdmission(limit=100, reserve=10, count=lambda: None).check()  # cannot count: admitted


def test_a_count_of_descriptors_is_reused_while_it_was_cheap() -> None:
    clock = [0.0]
    counted: list[float] = []

    def count() -> int:  # takes 1 ms: good for 100 ms at a 1 % share
        counted.append(clock[0])
        clock[0] += 0.001
        return 50

    admission = StreamAdmission(limit=100, reserve=10, count=count, clock=lambda: clock[0])
    for _ in range(40):  # 50 counted, then one more for each admitted: 50 ... 89
        admission.check()
        clock[0] += 0.001
    with pytest.raises(ApiError):  # 90: the reserve
        admission.check()
    assert len(counted) == 1
    clock[0] += 0.1
    admission.check()  # counted again: 50
    assert len(counted) == 2


def test_the_open_file_limit_is_raised_at_start() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(soft, 256)
    if hard != resource.RLIM_INFINITY and hard <= low:
        pytest.skip("the hard limit leaves nothing to raise")
    code = (
        "import resource; from central_api.stream_admission import raise_open_file_limit;"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({low}, {hard})); print(*raise_open_file_limit())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    before, after = map(int, done.stdout.split())
    assert before == low and after > low, done.stderr
