"""Serving the central API with uvicorn.

- `run(db, host, port, tls=..., workers=N)`: the command-line server. Raises the open-file limit
  (`central_api.stream_admission`), prints `hotline central API listening on http://HOST:PORT`
  (`https://` with `TlsFiles`; flushed) once it listens, and serves until SIGINT/SIGTERM, then
  returns normally. With `workers` > 1 it binds the socket itself and runs that many server
  processes on it (`_Workers`): the line is printed once all of them serve, a process that dies is
  reported and started again, and SIGINT/SIGTERM stops them all before `run` returns.
- `LiveServer`: a real uvicorn server in a background thread on 127.0.0.1 (tests, `hotline demo`);
  `.start()`, `.stop()`, `.url`; restartable on the same port and database.

Both end the SSE streams as soon as shutdown begins (uvicorn waits for open connections to finish
before it stops, so an open stream would otherwise hold the shutdown).
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import ssl
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import uvicorn.config
from fastapi import FastAPI

from api_client.models import Role, now_utc
from central_api.app import create_app
from central_api.sql.engine import DatabaseUnavailable
from central_api.sql.schema import Catalogue
from central_api.sql_store import SqlStore
from central_api.stream_admission import raise_open_file_limit

#: How long uvicorn lets open requests finish at shutdown before cancelling them.
GRACEFUL_SECONDS = 3
#: How long server processes may take to start serving.
START_SECONDS = 60.0
#: A server process that ran at least this long before it died is started again at once; one that
#: died sooner waits 1, 2, 4 ... up to `MAX_RESTART_DELAY` seconds.
STEADY_SECONDS = 10.0
MAX_RESTART_DELAY = 30.0

log = logging.getLogger("uvicorn.error")  # the server's log, as uvicorn configures it


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app when it starts listening and when shutdown begins."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        on_shutdown: Callable[[], None],
        on_listening: Callable[[str, int], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_listening is not None:
            bound = self.servers[0].sockets[0].getsockname()
            self._on_listening(self.config.host, int(bound[1]))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()  # end the SSE streams first, so open connections can finish
        await super().shutdown(sockets=sockets)


def _notifier_closer(app: FastAPI) -> Callable[[], None]:
    close: Callable[[], None] = app.state.notifier.close
    return close


@contextmanager
def _signals_end_quietly() -> Iterator[None]:
    """uvicorn re-raises the SIGINT/SIGTERM it handled once it has shut down; swallow those."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ignore(signum: int, frame: Any) -> None:
        pass

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ServeError(Exception):
    """The server cannot start: the database cannot be opened or the address cannot be bound.
    The message is one sentence for the operator."""


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate chain and its private key (PEM files), to serve https."""

    cert: Path
    key: Path

    def check(self) -> None:
        """Refuse a key file other users may read or write, and a pair that does not load."""
        try:
            mode = self.key.stat().st_mode
        except OSError as exc:
            raise ServeError(f"cannot read the TLS key file {self.key}: {exc.strerror or exc}") from exc
        if mode & stat.S_IRWXO:
            raise ServeError(
                f"the TLS key file {self.key} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
                f"run: chmod 600 {self.key}"
            )
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(self.cert, self.key)
        except OSError as exc:
            raise ServeError(
                f"cannot load the TLS certificate {self.cert} with its key {self.key}: {exc.strerror or exc}"
            ) from exc


def run(
    db: str,
    host: str,
    port: int,
    *,
    tls: TlsFiles | None = None,
    open311_public: bool = False,
    workers: int = 1,
) -> None:
    """Serve the API over the database `db` (a file path or a SQLAlchemy URL) until SIGINT or
    SIGTERM, then return; over https with `tls`; Open311 reads without a key with
    `open311_public`; in `workers` processes. Raises ServeError when it cannot start."""
    if workers < 1:
        raise ServeError(f"the number of server processes must be at least 1, not {workers}")
    if tls is not None:
        tls.check()
    _configure_logging()
    before, limit = raise_open_file_limit()
    raised = f" (raised from {before})" if limit != before else ""
    log.info("Open files: at most %d per process%s", limit, raised)
    spec = _Spec(db, tls, open311_public)
    try:
        store = SqlStore.open(db)  # also creates or upgrades the schema, once, before any worker
    except DatabaseUnavailable as exc:
        raise ServeError(str(exc)) from exc
    try:
        try:
            sock = _listening_socket(host, port)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

        def listening(bound_host: str, bound_port: int) -> None:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            scheme = "https" if tls is not None else "http"
            print(f"hotline central API listening on {scheme}://{shown}:{bound_port}", flush=True)

        if workers > 1:
            store.close()
            bound = sock.getsockname()
            with sock:
                _Workers(spec, sock, workers).run(lambda: listening(host, int(bound[1])))
            return
        app = create_app(store, open311_public=open311_public)
        server = _Server(_config(app, host, tls), on_shutdown=_notifier_closer(app), on_listening=listening)
        with _signals_end_quietly(), suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        store.close()


def _configure_logging() -> None:
    """uvicorn's logging (as `uvicorn.Config` sets it up), for what is logged before a server runs."""
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)


def _config(app: FastAPI, host: str, tls: TlsFiles | None) -> uvicorn.Config:
    """uvicorn's settings for the command-line server (`host`: as the listening line shows it)."""
    return uvicorn.Config(
        app,
        host=host,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=tls.cert if tls is not None else None,
        ssl_keyfile=tls.key if tls is not None else None,
    )


@dataclass(frozen=True)
class _Spec:
    """What a server process serves (sent to it when it is spawned)."""

    db: str
    tls: TlsFiles | None
    open311_public: bool


def _serve_worker(spec: _Spec, sock: socket.socket, ready: Connection, parent: int) -> None:
    """A server process's life: serve on `sock` (bound by the parent `parent`), send our pid on
    `ready` once serving, stop on SIGINT/SIGTERM or when the parent is gone."""
    try:
        store = SqlStore.open(spec.db)
    except DatabaseUnavailable as exc:
        log.error("%s", exc)
        raise SystemExit(3) from exc
    try:
        app = create_app(store, open311_public=spec.open311_public)
        server = _Server(
            _config(app, "", spec.tls),
            on_shutdown=_notifier_closer(app),
            on_listening=lambda _host, _port: ready.send(os.getpid()),
        )
        threading.Thread(target=_stop_with_parent, args=(server, parent), daemon=True).start()
        with _signals_end_quietly(), suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        if not server.started:
            raise SystemExit(3)
    finally:
        store.close()


def _stop_with_parent(server: uvicorn.Server, parent: int) -> None:
    """Shut `server` down once the process that started it is gone (killed without stopping us)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    server.should_exit = True


@dataclass
class _Slot:
    """One of the server processes: the process now in it, and its restarts."""

    number: int
    process: BaseProcess | None = None
    ready: Connection | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None


class _Workers:
    """`count` server processes on one listening socket: started, watched, started again when one
    dies, and stopped (SIGTERM, then SIGKILL after the graceful time) on SIGINT/SIGTERM."""

    def __init__(self, spec: _Spec, sock: socket.socket, count: int) -> None:
        self._spec = spec
        self._sock = sock
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(number) for number in range(1, count + 1)]
        self._stopping = False
        self._wake_r, self._wake_w = os.pipe()

    def run(self, on_serving: Callable[[], None]) -> None:
        """Start every process, call `on_serving` once all serve, and watch them until a signal."""
        with self._signals():
            try:
                for slot in self._slots:
                    self._start(slot)
                if self._await_serving():
                    on_serving()
                    self._watch()
            finally:
                self._stop_all()
                for fd in (self._wake_r, self._wake_w):
                    os.close(fd)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        def stop(signum: int, frame: Any) -> None:
            self._stopping = True
            with suppress(OSError):
                os.write(self._wake_w, b"x")

        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start(self, slot: _Slot) -> None:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_serve_worker,
            args=(self._spec, self._sock, writer, os.getpid()),
            name=f"hotline-server-{slot.number}",
        )
        process.start()
        writer.close()
        slot.process, slot.ready, slot.started_at, slot.restart_at = process, reader, time.monotonic(), None

    def _await_serving(self) -> bool:
        """Wait until every process serves: False on a signal meanwhile; ServeError when one
        cannot start."""
        deadline = time.monotonic() + START_SECONDS
        while not self._stopping and (waiting := [slot for slot in self._slots if slot.ready is not None]):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServeError(f"the server processes did not start within {START_SECONDS:g} s")
            multiprocessing.connection.wait([self._wake_r, *self._watched(waiting)], left)
            for slot in waiting:
                if not self._serving(slot) and slot.process is not None and not slot.process.is_alive():
                    raise ServeError(
                        f"server process {slot.number} could not start ({_exit_words(slot.process)});"
                        " see the log above"
                    )
        return not self._stopping

    def _watch(self) -> None:
        """Start a process again when one dies, until a signal."""
        while not self._stopping:
            restarts = [slot.restart_at for slot in self._slots if slot.restart_at is not None]
            timeout = max(0.0, min(restarts) - time.monotonic()) if restarts else None
            running = [slot for slot in self._slots if slot.restart_at is None]
            multiprocessing.connection.wait([self._wake_r, *self._watched(running)], timeout)
            for slot in self._slots:
                if self._stopping:
                    return
                if slot.restart_at is not None:
                    if slot.restart_at <= time.monotonic():
                        self._start(slot)
                elif slot.process is not None and not slot.process.is_alive():
                    self._died(slot)
                elif self._serving(slot):
                    assert slot.process is not None
                    log.info("Server process %d (pid %d) serves", slot.number, slot.process.pid)

    @staticmethod
    def _watched(slots: list[_Slot]) -> list[Any]:
        """What to wait on for `slots`: each process's end, and its word that it serves."""
        watched: list[Any] = []
        for slot in slots:
            watched.append(_sentinel(slot))
            if slot.ready is not None:
                watched.append(slot.ready)
        return watched

    @staticmethod
    def _serving(slot: _Slot) -> bool:
        """Whether the slot's process has just said it serves (its word is then taken)."""
        if slot.ready is None or not slot.ready.poll():
            return False
        try:
            slot.ready.recv()
        except (EOFError, OSError):  # it ended without a word
            if slot.process is not None:
                slot.process.join(GRACEFUL_SECONDS)
            return False
        slot.ready.close()
        slot.ready = None
        return True

    def _died(self, slot: _Slot) -> None:
        assert slot.process is not None
        now = time.monotonic()
        slot.quick_deaths = slot.quick_deaths + 1 if now - slot.started_at < STEADY_SECONDS else 0
        delay = min(MAX_RESTART_DELAY, 2.0 ** (slot.quick_deaths - 1)) if slot.quick_deaths else 0.0
        log.warning(
            "Server process %d (pid %d) ended (%s); starting another in %g s",
            slot.number,
            slot.process.pid,
            _exit_words(slot.process),
            delay,
        )
        slot.process.join()
        slot.restart_at = now + delay
        if slot.ready is not None:
            slot.ready.close()
            slot.ready = None

    def _stop_all(self) -> None:
        running = [
            slot.process for slot in self._slots if slot.process is not None and slot.process.is_alive()
        ]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + GRACEFUL_SECONDS + 5
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("Server process %s (pid %d) did not stop: killing it", process.name, process.pid)
                process.kill()
                process.join()
        for slot in self._slots:
            if slot.ready is not None:
                slot.ready.close()
                slot.ready = None


def _sentinel(slot: _Slot) -> int:
    assert slot.process is not None
    return slot.process.sentinel


def _exit_words(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket (IPv4 or IPv6, as `host` resolves)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it every keep-alive response waits ~40 ms (Nagle/delayed ACK).
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class LiveServer:
    """A real uvicorn server on 127.0.0.1 in a background thread, over a SQLite file (or URL).

    `port=0` picks a free port on the first start; later starts reuse it. `store` is the open
    store while the server runs (tests may use it directly, e.g. to create tokens).
    """

    def __init__(
        self,
        db: str | Path,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = now_utc,
        max_body_bytes: int = 1 << 20,
        open311_public: bool = False,
    ) -> None:
        self.db = db
        self.open311_public = open311_public
        self.host = host
        self.port = port
        self.catalogue = catalogue
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self._store: SqlStore | None = None
        self._app: FastAPI | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def store(self) -> SqlStore:
        if self._store is None:
            raise RuntimeError("the server is not running")
        return self._store

    @property
    def app(self) -> FastAPI:
        """The application while the server runs (tests may adjust its `state`)."""
        if self._app is None:
            raise RuntimeError("the server is not running")
        return self._app

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def create_token(self, name: str, role: Role = Role.dispatcher) -> str:
        """A new token for `name` with `role` (straight into the store)."""
        return self.store.create_token(name, role)

    def start(self, timeout: float = 15.0) -> LiveServer:
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        store = SqlStore.open(self.db, catalogue=self.catalogue, clock=self.clock)
        try:
            app = create_app(store, max_body_bytes=self.max_body_bytes, open311_public=self.open311_public)
            sock = _listening_socket(self.host, self.port)
        except BaseException:
            store.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
        server = _Server(config, on_shutdown=_notifier_closer(app))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"hotline-api-{self.port}", daemon=True
        )
        self._store, self._app, self._server, self._thread = store, app, server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"the API server did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down (open SSE streams end at once) and wait for the thread; idempotent."""
        server, thread, store = self._server, self._thread, self._store
        self._server = self._thread = self._store = self._app = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(2.0)
        if store is not None:
            store.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or `timeout` passes); True when it has stopped.
        Ctrl+C interrupts it (KeyboardInterrupt) in the main thread."""
        thread = self._thread
        deadline = None if timeout is None else time.monotonic() + timeout
        while thread is not None and thread.is_alive():
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if left <= 0:
                return False
            thread.join(left)
        return True

    def restart(self) -> LiveServer:
        """Stop and start again on the same port and database."""
        self.stop()
        return self.start()

    def __enter__(self) -> LiveServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
