"""The database every part of `SqlStore` shares: the engine, read and write transactions,
`batch()`, and the listeners told of each committed change.

Writers are serialized (a process-wide lock, plus `BEGIN IMMEDIATE` on SQLite or an advisory lock
on PostgreSQL across processes), so a change `seq` allocated inside a write transaction as
`max(seq) + 1` commits in seq order, with no gap and no duplicate.

SQLite- and PostgreSQL-specific SQL lives only in this module and, for PostgreSQL's notices
between server processes, `central_api.pg_notify`.

The pool holds a connection for each thread that may hold one at once: the server's worker
threads (`WORKER_THREADS`: every route and dependency that touches the database runs in one), plus
`POOL_OVERFLOW` for threads outside them (the command line, seeding, tests). A server process on
PostgreSQL therefore opens at most `POOL_SIZE + POOL_OVERFLOW` pooled connections, and one more to
listen for notices.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from central_api.store import StoreError

log = logging.getLogger(__name__)

_WRITE = "hotline_write"  # execution option marking a write transaction
BUSY_TIMEOUT_MS = 10_000
#: The server's worker threads (the size of its threadpool, set by `central_api.app`).
WORKER_THREADS = 32
POOL_SIZE = WORKER_THREADS
POOL_OVERFLOW = 4
#: The PostgreSQL advisory lock every writer takes (any constant shared by all processes).
_PG_WRITE_LOCK = 0x12345


class DatabaseUnavailable(StoreError):
    """The database cannot be opened (bad path or URL, no permission, not a hotline database)."""

    code = "database_unavailable"


def shown_url(url: str) -> str:
    """`url` fit for a message or a log: any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (a path means a SQLite file)."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _create_private_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (it holds citizens' personal data).
    SQLite gives its -wal and -shm files the same mode."""
    path = make_url(url).database
    if not path or Path(path).exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ValueError(f"cannot create {path}: {exc.strerror or exc}") from exc


def make_engine(url: str) -> Engine:
    """The engine for `url`: SQLite in WAL mode with writers taking the lock up front, or any
    other SQLAlchemy URL (PostgreSQL)."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:") or ":memory:" in url:
            raise ValueError("an in-memory SQLite database is not supported: give a file path")
        _create_private_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # A write takes the database's write lock up front, so concurrent writers (other
            # processes) queue on busy_timeout instead of failing on lock upgrade.
            write = bool(conn.get_execution_options().get(_WRITE, False))
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    if engine.dialect.name == "postgresql":
        from central_api.pg_notify import announce_writes  # it imports sql.tokens, which imports us

        announce_writes(engine)
    return engine


def _serialize_writers(conn: Connection) -> None:
    """Make concurrent writers in other processes queue (SQLite did it with BEGIN IMMEDIATE).
    On PostgreSQL a transaction-scoped advisory lock, which needs no table to exist yet."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")


class Database:
    """One engine, its transactions, and the listeners of committed changes. Thread-safe.

    Listeners registered with `add_listener` are called with the new head after each committed
    write that appended a change (from the writing thread); the SSE notifier uses this.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime]) -> None:
        self.url = url
        #: The time source for every write and for `overdue`; seeding and tests may replace it.
        self.clock = clock
        self._write_lock = threading.RLock()
        self._batch: Connection | None = None  # the open transaction of `batch()`, if any
        self._batch_head = 0
        self._listeners: list[Callable[[int], None]] = []
        try:
            self.engine = make_engine(url)
        except (ArgumentError, ValueError, ImportError) as exc:
            raise DatabaseUnavailable(f"cannot use the database {shown_url(url)}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, serialized with every other writer (inside `batch()`: a savepoint
        of the batch's transaction)."""
        with self._write_lock:
            if self._batch is not None:
                with self._batch.begin_nested():
                    yield self._batch
                return
            with self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    _serialize_writers(conn)
                    yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run many writes in one transaction (seeding, imports): all commit together, or none.

        Each write inside still rolls back alone when it fails (a savepoint). Listeners hear of
        the new head once, after the commit. Other writers wait until the batch ends.
        """
        with self._write_lock, self.write() as conn:
            self._batch, self._batch_head = conn, 0
            try:
                yield
            finally:
                self._batch = None
        if self._batch_head:
            self.notify(self._batch_head)

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(head)` after every committed write that appended a change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, seq: int) -> None:
        """Tell the listeners that changes up to `seq` are committed (after `batch()` commits,
        when inside one)."""
        if self._batch is not None:
            self._batch_head = max(self._batch_head, seq)
            return
        for listener in list(self._listeners):
            try:
                listener(seq)
            except Exception:  # a listener must never undo a committed write
                log.exception("change listener failed")
