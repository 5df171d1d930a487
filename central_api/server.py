"""Serving the central API with uvicorn.

- `run(db, host, port, tls=...)`: the command-line server. Prints
  `hotline central API listening on http://HOST:PORT` (`https://` with `TlsFiles`; flushed) once
  uvicorn is listening and serves until SIGINT/SIGTERM, then returns normally.
- `LiveServer`: a real uvicorn server in a background thread on 127.0.0.1 (tests, `hotline demo`);
  `.start()`, `.stop()`, `.url`; restartable on the same port and database.

Both end the SSE streams as soon as shutdown begins (uvicorn waits for open connections to finish
before it stops, so an open stream would otherwise hold the shutdown).
"""

from __future__ import annotations

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
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from api_client.models import Role, now_utc
from central_api.app import create_app
from central_api.sql.engine import DatabaseUnavailable
from central_api.sql.schema import Catalogue
from central_api.sql_store import SqlStore

#: How long uvicorn lets open requests finish at shutdown before cancelling them.
GRACEFUL_SECONDS = 3


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


def run(db: str, host: str, port: int, *, tls: TlsFiles | None = None, open311_public: bool = False) -> None:
    """Serve the API over the database `db` (a file path or a SQLAlchemy URL) until SIGINT or
    SIGTERM, then return; over https with `tls`; Open311 reads without a key with
    `open311_public`. Raises ServeError when it cannot start."""
    if tls is not None:
        tls.check()
    try:
        store = SqlStore.open(db)
    except DatabaseUnavailable as exc:
        raise ServeError(str(exc)) from exc
    try:
        try:
            sock = _listening_socket(host, port)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        app = create_app(store, open311_public=open311_public)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            ssl_certfile=tls.cert if tls is not None else None,
            ssl_keyfile=tls.key if tls is not None else None,
        )
        scheme = "https" if tls is not None else "http"

        def listening(bound_host: str, bound_port: int) -> None:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            print(f"hotline central API listening on {scheme}://{shown}:{bound_port}", flush=True)

        server = _Server(config, on_shutdown=_notifier_closer(app), on_listening=listening)
        with _signals_end_quietly(), suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        store.close()


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
        self._store, self._server, self._thread = store, server, thread
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
        self._server = self._thread = self._store = None
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
