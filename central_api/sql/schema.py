"""Creating a database on first use: its tables, its schema version and the catalogue (units,
categories, communities) it starts with. An existing database keeps its own directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select

from api_client.models import Category, Community, Unit
from central_api.sql import tables as t
from central_api.sql.engine import Database, DatabaseUnavailable, shown_url
from central_api.sql.storable import to_json

SCHEMA_VERSION = "1"


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
            if version != SCHEMA_VERSION:
                raise DatabaseUnavailable(
                    f"the database {shown_url(db.url)} has schema version {version}; this server needs"
                    f" {SCHEMA_VERSION}"
                )
            return
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
