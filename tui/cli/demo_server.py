"""The central API of `hotline demo`: its database with the demo data, the demo dispatcher's token
and the embedded server (`DemoServer`), run in a forked child process while the app starts
(`ServerProcess`).

The child is forked before the command imports the server or the app, so the two start on two
cores. It answers with the server's address and the token as soon as the database and the token
exist, starts listening (on a port chosen before the fork), then writes the demo data into the
new database in one transaction (`central_api.seed_bulk`; the app's sync takes it when it
commits) and serves until the app ends or the command is gone (its end of the pipe closes). Its
output goes to a log file: the terminal is the app's.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
import traceback
from contextlib import suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import CliError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from central_api.server import LiveServer
    from central_api.storm_feed import StormFeed

__all__ = ["DemoServer", "DemoSpec", "Reachable", "ServerProcess"]

#: The demo dispatcher's name (with a number when a kept database already has a token by it).
DISPATCHER = "demo-dispatcher"
#: Where the demo's server listens.
HOST = "127.0.0.1"
#: How long the command waits for the server to answer.
START_TIMEOUT = 60.0
#: How long the server gets to stop before it is killed.
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class DemoSpec:
    """What the demo serves: the database (`fresh`: created now, so seeded), where, and the data."""

    db: Path
    fresh: bool
    port: int
    seed: int
    count: int
    storm: float | None = None


@dataclass(frozen=True)
class Reachable:
    """What the app needs of the demo's server."""

    url: str
    dispatcher: str
    token: str


class DemoServer:
    """The demo's database, token and server, in this process."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self._server: LiveServer | None = None
        self._storm: StormFeed | None = None

    def start(self) -> Reachable:
        """Open (creating) the database, make the demo dispatcher's token and start serving."""
        dispatcher, token = self.prepare()
        return Reachable(url=self.serve(), dispatcher=dispatcher, token=token)

    def prepare(self) -> tuple[str, str]:
        """Open (creating) the database and make a token for the demo dispatcher: (name, token)."""
        from api_client.models import Role
        from central_api.sql_store import SqlStore

        store = SqlStore.open(str(self.spec.db))
        try:
            taken = {info.name for info in store.tokens()}  # token names are unique: --db may be reused
            name, n = DISPATCHER, 1
            while name in taken:
                n += 1
                name = f"{DISPATCHER}-{n}"
            return name, store.create_token(name, Role.dispatcher)
        finally:
            store.close()

    def serve(self) -> str:
        """Start serving on `spec.port` (0: a free one); the server's URL."""
        from central_api.server import LiveServer

        self._server = LiveServer(str(self.spec.db), host=HOST, port=self.spec.port).start()
        return self._server.url

    def seed(self) -> None:
        """Write the demo data into a new database, then start the storm (when asked for)."""
        from central_api.seed_bulk import seed_new_database
        from central_api.storm_feed import StormFeed

        if self._server is None:
            raise RuntimeError("the demo server is not running")
        if self.spec.fresh:
            seed_new_database(self._server.store.url, seed=self.spec.seed, count=self.spec.count)
        if self.spec.storm is not None:
            self._storm = StormFeed(self._server.store, self.spec.storm, seed=self.spec.seed).start()

    def wait(self) -> None:
        """Serve until the server stops (ctrl+c: KeyboardInterrupt)."""
        if self._server is not None:
            self._server.wait()

    def stop(self) -> None:
        if self._storm is not None:
            self._storm.stop()
            self._storm = None
        if self._server is not None:
            self._server.stop()
            self._server = None


class ServerProcess:
    """A `DemoServer` in a forked child process, its output in `log`.

    The child answers as soon as the database and the token exist, on a port chosen here (when
    `spec.port` is 0), and starts listening right after: the app's first request is retried until
    it does. Where a process cannot be forked, the server runs in this process (and the data is
    written before `reachable` returns)."""

    def __init__(self, spec: DemoSpec, log: Path) -> None:
        self.spec = spec
        self.log = log
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._local: DemoServer | None = None

    def start(self) -> ServerProcess:
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            self._local = DemoServer(self.spec)
            return self
        self.spec = replace(self.spec, port=_port(self.spec.port))
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(self.spec, theirs, ours, self.log), name="hotline-demo-api", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        return self

    def reachable(self, timeout: float = START_TIMEOUT) -> Reachable:
        """The server's address and the token. CliError when the database cannot be opened or the
        child ended without answering."""
        if self._local is not None:
            reach = self._local.start()
            self._local.seed()
            return reach
        message = self._receive(timeout)
        if isinstance(message, Reachable):
            return message
        raise CliError(message or f"the demo's central API did not start{self._log_tail()}")

    def stop(self) -> str | None:
        """Stop the server and wait for its process (killed when it does not end in time); why it
        failed after `reachable` answered, if it did (it could not listen, say)."""
        if self._local is not None:
            self._local.stop()
        failure = None
        if self._conn is not None:
            if self._conn.poll():
                message = self._receive(0)
                failure = message if isinstance(message, str) else None
            self._conn.close()  # the child's recv() ends: it stops the server and exits
            self._conn = None
        process, self._process = self._process, None
        if process is not None:
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join(STOP_TIMEOUT)
        return failure

    def _receive(self, timeout: float) -> Reachable | str | None:
        """The child's next message; None when it ended (or `timeout` passed) without one."""
        conn, process = self._conn, self._process
        assert conn is not None and process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while not conn.poll(0.05):
            if not process.is_alive() or time.monotonic() > deadline:
                return None
        try:
            message: Reachable | str = conn.recv()
        except (EOFError, OSError):
            return None
        return message

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1]}" if lines else ""


def _port(port: int) -> int:
    """`port` if it is free (0: a free one), for the child to listen on. CliError when taken."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc
        return int(sock.getsockname()[1])


def _serve(spec: DemoSpec, conn: Connection, parents_end: Connection, log: Path) -> None:
    """The child: say how to reach the server on `conn` (or why not), serve `spec`, write the
    demo data, and stop when `conn` closes."""
    parents_end.close()
    os.setsid()  # ctrl+c in the terminal is the command's to handle, not ours
    _output_to(log)
    server = DemoServer(spec)
    try:
        try:
            dispatcher, token = server.prepare()
            conn.send(Reachable(url=f"http://{HOST}:{spec.port}", dispatcher=dispatcher, token=token))
            server.serve()
        except Exception as exc:
            traceback.print_exc()
            conn.send(_failure(exc))
            return
        try:
            server.seed()
        except Exception:
            traceback.print_exc()  # the server goes on, without (all of) the demo data
        with suppress(EOFError, OSError):
            conn.recv()
    finally:
        server.stop()
        conn.close()


def _failure(exc: Exception) -> str:
    """Why the server could not start, in one line (a database's own words as they are)."""
    from central_api.store import StoreError

    return str(exc) if isinstance(exc, StoreError) else f"the demo's central API did not start: {exc}"


def _output_to(log: Path) -> None:
    """Standard input from /dev/null, standard output and error into `log` (0600)."""
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
