"""Test databases on either store, and reading their tables whatever the store.

- `Databases`: fresh databases for this test process: a SQLite file in a temp dir, or a new
  database in the process's own throwaway PostgreSQL cluster (started on first use, stopped by
  `close()`). The suite's fixtures (`conftest.py`) hold one per xdist worker.
- `table_rows(db, table, *columns)`: every row of a table (those columns, or all), in primary-key
  order, from a SQLite path or a URL.
- `STORES`: the two stores a test may run on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, select

from central_api.sql import tables
from central_api.sql.engine import database_url
from central_api.sql.pg_cluster import PgCluster, PgUnavailable
from central_api.sql_store import SqlStore

StoreKind = Literal["sqlite", "postgres"]
STORES: tuple[StoreKind, ...] = ("sqlite", "postgres")
#: A database a test runs on: a SQLite file's path, or a PostgreSQL URL.
Db = Path | str
#: The throwaway cluster speaks Beijing's time zone, as a centre's server would: the store must not
#: depend on the database session's zone.
PG_SETTINGS = {"timezone": "'Asia/Shanghai'"}
_OPENED = "opened_template"  # the database each `new(..., opened=True)` copies


class Databases:
    """Fresh databases for one test process."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._cluster: PgCluster | None = None
        self._failed: PgUnavailable | None = None
        self._names = itertools.count(1)
        # Copies and drops run here, one at a time, while tests run.
        self._background = ThreadPoolExecutor(1, thread_name_prefix="test-databases")
        self._has_template = False
        self._next_opened: Future[str] | None = None

    @property
    def cluster(self) -> PgCluster:
        """This process's PostgreSQL cluster (started now when it is not running yet). Raises
        PgUnavailable, with the reason, when it cannot start (again for every test asking)."""
        if self._failed is not None:
            raise PgUnavailable(str(self._failed))
        if self._cluster is None:
            try:
                self._cluster = PgCluster.start(self._base / "postgres", settings=PG_SETTINGS)
            except PgUnavailable as exc:
                self._failed = exc
                raise
        return self._cluster

    def new(self, kind: StoreKind, tmp: Path, name: str = "hotline", *, opened: bool = False) -> Db:
        """A database that does not exist yet (SQLite: a path in `tmp`) or exists and is empty
        (PostgreSQL). With `opened`, on PostgreSQL: a copy of one that `SqlStore.open` has made
        (only for a test whose first step is opening it so); the next such copy is made while
        the test runs."""
        if kind == "sqlite":
            return tmp / f"{name}.db"
        self.cluster  # noqa: B018 - started here, so that a test fails at once with the reason
        if not opened or name != "hotline":
            return self._background.submit(self._create, name, _OPENED if opened else None).result()
        ready = self._next_opened or self._background.submit(self._create, "hotline", _OPENED)
        self._next_opened = self._background.submit(self._create, "hotline", _OPENED)
        return ready.result()

    def _create(self, name: str, template: str | None) -> str:
        """(In the background thread.)"""
        if template is not None and not self._has_template:
            SqlStore.open(self.cluster.create_database(template)).close()
            self._has_template = True
        return self.cluster.create_database(f"{name}_{next(self._names)}", template=template)

    def drop(self, db: Db) -> None:
        """Drop a PostgreSQL database made by `new` (its open sessions end: in the background);
        nothing for a file."""
        if isinstance(db, str) and self._cluster is not None:
            self._background.submit(self._cluster.drop_database, db.rsplit("/", 1)[1])

    def close(self) -> None:
        self._background.shutdown(wait=True, cancel_futures=True)
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


@contextmanager
def engine_on(db: Db) -> Iterator[Engine]:
    """A SQLAlchemy engine on `db`, disposed after."""
    engine = create_engine(database_url(db))
    try:
        yield engine
    finally:
        engine.dispose()


def table_rows(db: Db, table: str, *columns: str) -> list[tuple[Any, ...]]:
    """Every row of `table` (its `columns`, or all), ordered by its primary key."""
    schema = tables.metadata.tables[table]
    chosen = [schema.c[name] for name in columns] if columns else list(schema.c)
    with engine_on(db) as engine, engine.connect() as conn:
        rows = conn.execute(select(*chosen).order_by(*schema.primary_key.columns))
        return [tuple(row) for row in rows]
