"""Opening a database: bringing it to the schema's newest revision (`central_api.migrations`),
and on first use creating its tables, the secret of callers' keys and the catalogue (units,
categories, communities) it starts with. An existing database keeps its own directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from api_client.models import Category, Community, Unit, now_utc
from central_api import migrations
from central_api.migrations import legacy
from central_api.sql import tables as t
from central_api.sql.callers import ensure_secret
from central_api.sql.engine import Database, DatabaseUnavailable, database_url, shown_url
from central_api.sql.storable import to_json


@dataclass(frozen=True)
class Catalogue:
    """The reference data loaded into a new database."""

    units: Sequence[Unit]
    categories: Sequence[Category]
    communities: Sequence[Community]


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands."""

    #: Its Alembic revision (None: it has none yet).
    revision: str | None
    #: The schema version a database made before Alembic says it has.
    legacy_version: str | None
    #: Whether it has no hotline tables yet.
    new: bool


def default_catalogue() -> Catalogue:
    """The project's catalogue (`central_api.catalogue`)."""
    from central_api import catalogue

    return Catalogue(
        units=catalogue.UNITS, categories=catalogue.CATEGORIES, communities=catalogue.COMMUNITIES
    )


def bootstrap(db: Database, catalogue: Catalogue | None, *, location: str = migrations.LOCATION) -> None:
    """Bring the database to the newest revision at `location`: create a new one (with `catalogue`,
    default: the project's), adopt one made before Alembic, upgrade an older one. A database at the
    newest revision costs one read of its table names and its revision. The change is one write
    transaction, which also makes other processes opening the database wait their turn."""
    try:
        with db.read() as conn:
            if _state(conn, db.url, location).revision == migrations.head(location):
                return
        with db.write() as conn:
            state = _state(conn, db.url, location)
            if state.new:
                _create(conn, db, catalogue, location)
                return
            if state.revision is None:
                _adopt(conn, db.url, state.legacy_version, location)
            elif state.revision == migrations.head(location):  # another process was first
                return
            migrations.upgrade(conn, clock=db.clock, location=location)
    except migrations.UpgradeFailed as exc:
        raise DatabaseUnavailable(f"cannot upgrade the database {shown_url(db.url)}: {exc}") from exc


def schema_state(url: str | Path, *, location: str = migrations.LOCATION) -> SchemaState:
    """Where the database at `url` stands, changing nothing (DatabaseUnavailable when it cannot be
    read, or is of a revision this code does not know)."""
    full_url = database_url(url)
    if _missing_file(full_url):
        return SchemaState(revision=None, legacy_version=None, new=True)  # (and no file made)
    db = Database(full_url, clock=now_utc)
    try:
        with db.read() as conn:
            return _state(conn, db.url, location)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise DatabaseUnavailable(f"cannot read the database {shown_url(db.url)}: {reason}") from exc
    finally:
        db.close()


def _missing_file(url: str) -> bool:
    """Whether `url` names a SQLite file that does not exist."""
    try:
        address = make_url(url)
    except ArgumentError:
        return False
    return address.get_backend_name() == "sqlite" and not Path(address.database or "").exists()


def _state(conn: Connection, url: str, location: str) -> SchemaState:
    tables = set(inspect(conn).get_table_names())
    if "meta" not in tables:  # (a version table alone: the tables were dropped)
        return SchemaState(revision=None, legacy_version=None, new=True)
    if migrations.VERSION_TABLE not in tables:
        return SchemaState(revision=None, legacy_version=legacy.schema_version(conn), new=False)
    revision = migrations.current(conn)
    if revision is not None and not migrations.knows(revision, location):
        raise DatabaseUnavailable(
            f"the database {shown_url(url)} is at revision {revision}, which this server does not know"
            " (a newer version of hotline wrote it)"
        )
    return SchemaState(revision=revision, legacy_version=None, new=False)


def _adopt(conn: Connection, url: str, version: str | None, location: str) -> None:
    """Stamp a database made before Alembic with the revision its schema version stands for."""
    if version == legacy.MARK:
        raise DatabaseUnavailable(
            f"the database {shown_url(url)} has lost its record of the schema's revision"
            f" (the table {migrations.VERSION_TABLE})"
        )
    revision = legacy.revision(conn, version)
    if revision is None:
        said = "no schema version" if version is None else f"schema version {version}"
        raise DatabaseUnavailable(
            f"the database {shown_url(url)} has {said}, which this server cannot upgrade"
        )
    migrations.stamp(conn, revision)
    legacy.mark(conn)


def _create(conn: Connection, db: Database, catalogue: Catalogue | None, location: str) -> None:
    """Tables as `tables.py` has them, stamped with the newest revision, and the first rows."""
    t.metadata.create_all(conn)
    migrations.stamp(conn, migrations.head(location))
    ensure_secret(conn)
    cat = catalogue if catalogue is not None else default_catalogue()
    if cat.units:
        conn.execute(
            insert(t.units),
            [
                {
                    "id": u.id,
                    "position": i,
                    "name": u.name,
                    "kind": u.kind.value,
                    "communities": to_json(u.communities),
                    "categories": to_json(u.categories),
                    "on_duty": u.on_duty,
                }
                for i, u in enumerate(cat.units)
            ],
        )
    if cat.categories:
        conn.execute(
            insert(t.categories),
            [
                {
                    "code": c.code,
                    "position": i,
                    "name": c.name,
                    "tier": c.tier.value,
                    "default_units": to_json(c.default_units),
                }
                for i, c in enumerate(cat.categories)
            ],
        )
    if cat.communities:
        conn.execute(
            insert(t.communities),
            [
                {"id": c.id, "position": i, "name": c.name, "streets": to_json(c.streets)}
                for i, c in enumerate(cat.communities)
            ],
        )
    conn.execute(
        insert(t.meta),
        [
            {"key": "schema_version", "value": legacy.MARK},
            {"key": "created_at", "value": db.clock().isoformat()},
        ],
    )
