"""Creating a database on first use: its tables, its schema version, the secret of callers' keys
and the catalogue (units, categories, communities) it starts with. An existing database keeps its
own directory; one of an older schema is upgraded in the same transaction (`UPGRADES`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from api_client.models import Category, Community, Unit
from central_api.sql import tables as t
from central_api.sql import token_migration
from central_api.sql.caller_migration import move_personal_data
from central_api.sql.callers import ensure_secret
from central_api.sql.engine import Database, DatabaseUnavailable, shown_url
from central_api.sql.storable import to_json

SCHEMA_VERSION = "3"


def _mask_callers(conn: Connection, db: Database) -> None:
    """1 → 2: callers' phones and names leave the request JSON (`caller_migration`)."""
    for index in t.audit.indexes:  # a table that existed before gets its new indexes here
        index.create(conn, checkfirst=True)
    move_personal_data(conn, ensure_secret(conn), db.clock())


def _tokens_by_id(conn: Connection, db: Database) -> None:
    """2 → 3: unique token names, token ids, idempotency keys by token id (`token_migration`)."""
    token_migration.migrate(conn)


#: How a database of an older schema version is brought to the next one.
UPGRADES: dict[str, tuple[str, Callable[[Connection, Database], None]]] = {
    "1": ("2", _mask_callers),
    "2": ("3", _tokens_by_id),
}


@dataclass(frozen=True)
class Catalogue:
    """The reference data loaded into a new database."""

    units: Sequence[Unit]
    categories: Sequence[Category]
    communities: Sequence[Community]


def default_catalogue() -> Catalogue:
    """The project's catalogue (`central_api.catalogue`)."""
    from central_api import catalogue

    return Catalogue(
        units=catalogue.UNITS, categories=catalogue.CATEGORIES, communities=catalogue.COMMUNITIES
    )


def bootstrap(db: Database, catalogue: Catalogue | None) -> None:
    """Create the tables and load `catalogue` (default: the project's) into a new database;
    check the schema version of an existing one (DatabaseUnavailable when it differs)."""
    with db.write() as conn:
        t.metadata.create_all(conn)
        version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar()
        if version is not None:
            while version in UPGRADES:
                version, upgrade = UPGRADES[version]
                upgrade(conn, db)
                conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value=version))
            if version != SCHEMA_VERSION:
                raise DatabaseUnavailable(
                    f"the database {shown_url(db.url)} has schema version {version}; this server needs"
                    f" {SCHEMA_VERSION}"
                )
            return
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
                {"key": "schema_version", "value": SCHEMA_VERSION},
                {"key": "created_at", "value": db.clock().isoformat()},
            ],
        )
