"""PostgreSQL's notices between server processes sharing one database (LISTEN/NOTIFY).

- `announce_writes(engine)`: a write transaction that appended to the change feed sends
  `NOTIFY hotline_changes, '<head>'`, and one that wrote `meta`, where the tokens version is kept
  (a revocation moves it), sends `NOTIFY hotline_tokens, '<version>'`; both are sent just before
  the commit, so PostgreSQL delivers them when (and only if) the transaction commits.
  `central_api.sql.engine` installs it on every PostgreSQL engine, so the command line's writes
  (`hotline token revoke`) are heard too.
- `NoticeListener`: one connection per server process, in a thread, that listens on both channels
  and hands the newest head and tokens version to its callbacks (`Notifier.notify` and
  `Notifier.tokens_changed`). It reconnects when the connection drops, and then reads the head and
  the version itself, since notices sent meanwhile are lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from central_api.sql import tables as t
from central_api.sql.tokens import TOKENS_VERSION_KEY

log = logging.getLogger(__name__)

CHANGES_CHANNEL = "hotline_changes"
TOKENS_CHANNEL = "hotline_tokens"
#: The listening connection's `application_name` (as `pg_stat_activity` shows it).
APPLICATION_NAME = "hotline notices"
#: How long the listening connection may stay silent before it is checked with a query (seconds).
CHECK_SECONDS = 15.0
#: The longest wait between two attempts to connect again (seconds).
MAX_BACKOFF_SECONDS = 5.0

_HEAD_SQL = f"SELECT coalesce(max(seq), 0)::text FROM {t.changes.name}"
_TOKENS_SQL = f"SELECT value FROM {t.meta.name} WHERE key = %s"
_NOTIFY_HEAD = f"SELECT pg_notify('{CHANGES_CHANNEL}', ({_HEAD_SQL}))"
_NOTIFY_TOKENS = f"SELECT pg_notify('{TOKENS_CHANNEL}', value) FROM {t.meta.name} WHERE key = %s"
#: What a write touched, kept in the connection's `info` until its transaction ends.
_WROTE = "hotline_wrote"


def is_postgres(url: str) -> bool:
    """Whether the SQLAlchemy URL `url` names a PostgreSQL database."""
    try:
        return make_url(url).get_backend_name() == "postgresql"
    except Exception:
        return False


def announce_writes(engine: Engine) -> None:
    """Make every committed write on `engine` send the notices the module describes."""

    @event.listens_for(engine, "after_cursor_execute")
    def _note(conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if not (getattr(context, "isinsert", False) or getattr(context, "isupdate", False)):
            return
        table = getattr(getattr(context.compiled, "statement", None), "table", None)
        name = getattr(table, "name", None)
        if name in (t.changes.name, t.meta.name):
            conn.info.setdefault(_WROTE, set()).add(name)

    @event.listens_for(engine, "commit")
    def _announce(conn: Connection) -> None:
        wrote: set[str] = conn.info.pop(_WROTE, set())
        if not wrote:
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if t.changes.name in wrote:
                cursor.execute(_NOTIFY_HEAD)
            if t.meta.name in wrote:
                cursor.execute(_NOTIFY_TOKENS, (TOKENS_VERSION_KEY,))
        finally:
            cursor.close()

    @event.listens_for(engine, "rollback")
    def _forget(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)


def connect_args(url: str) -> dict[str, Any]:
    """psycopg's `connect()` arguments for the SQLAlchemy URL `url` (as the engine connects)."""
    parsed = make_url(url)
    _args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    return dict(kwargs)


class NoticeListener:
    """Listens on both channels in a thread; `on_head(head)` and `on_tokens(version)` are called
    from that thread with the newest values (once per burst of notices)."""

    def __init__(self, url: str, *, on_head: Callable[[int], None], on_tokens: Callable[[int], None]) -> None:
        self._kwargs = {"application_name": APPLICATION_NAME, **connect_args(url)}
        self._on_head = on_head
        self._on_tokens = on_tokens
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="hotline-pg-notices", daemon=True)

    @property
    def listening(self) -> bool:
        """Whether the connection is up and listening."""
        return self._listening.is_set()

    def start(self, wait: float = 5.0) -> None:
        """Start the thread, and wait up to `wait` seconds for it to listen (a database still out of
        reach is tried again in the background)."""
        self._thread.start()
        self._listening.wait(wait)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close the connection; idempotent."""
        if not self._stopping.is_set():
            self._stopping.set()
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        if not self._thread.is_alive():
            for fd in (self._wake_r, self._wake_w):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._wake_r = self._wake_w = -1

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(**self._kwargs, autocommit=True) as conn:
                    self._listen(conn, failures)
                    failures = 0
            except (psycopg.Error, OSError) as exc:
                if self._listening.is_set():  # it was up: a new outage
                    self._listening.clear()
                    failures = 0
                if failures == 0 and not self._stopping.is_set():
                    log.warning("the PostgreSQL notices connection failed (%s); connecting again", exc)
                failures += 1
                self._stopping.wait(min(MAX_BACKOFF_SECONDS, 0.1 * 2**failures))
        self._listening.clear()

    def _listen(self, conn: psycopg.Connection[Any], failures: int) -> None:
        conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        conn.execute(f"LISTEN {TOKENS_CHANNEL}")
        self._listening.set()
        if failures:
            log.warning("the PostgreSQL notices connection is back")
        self._catch_up(conn)  # notices sent before LISTEN (or while it was down) are lost
        with selectors.DefaultSelector() as selector:  # not select(): descriptors may pass 1024
            selector.register(conn.fileno(), selectors.EVENT_READ, "database")
            selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            while True:
                self._deliver(conn)  # including those read along with a query's answer
                ready = {key.data for key, _events in selector.select(CHECK_SECONDS)}
                if "wake" in ready or self._stopping.is_set():
                    return
                if not ready:
                    conn.execute("SELECT 1")  # a silent connection may be a dead one: raises if so

    def _catch_up(self, conn: psycopg.Connection[Any]) -> None:
        head = conn.execute(_HEAD_SQL).fetchone()
        version = conn.execute(_TOKENS_SQL, (TOKENS_VERSION_KEY,)).fetchone()
        self._call(self._on_tokens, _number(version[0]) if version is not None else 0)
        self._call(self._on_head, _number(head[0]) if head is not None else 0)

    def _deliver(self, conn: psycopg.Connection[Any]) -> None:
        newest: dict[str, int] = {}
        for notice in conn.notifies(timeout=0):
            value = _number(notice.payload)
            if value is not None:
                newest[notice.channel] = max(value, newest.get(notice.channel, value))
        if TOKENS_CHANNEL in newest:
            self._call(self._on_tokens, newest[TOKENS_CHANNEL])
        if CHANGES_CHANNEL in newest:
            self._call(self._on_head, newest[CHANGES_CHANNEL])

    @staticmethod
    def _call(callback: Callable[[int], None], value: int | None) -> None:
        if value is None:
            return
        try:
            callback(value)
        except Exception:  # a callback's failure must not end the listening
            log.exception("a notice callback failed")


def _number(text: object) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None
