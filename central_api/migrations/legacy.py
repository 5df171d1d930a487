"""Databases made before Alembic: they kept their schema's version in `meta` (`schema_version`).
Which revision each stands at, and what that row says once Alembic keeps the version."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, String, Text, column, inspect, select, table, update

#: The revision of each schema version (schema 1 gained the routing-rule tables, revision 0002,
#: without a new number).
REVISIONS: Final = {"2": "0003", "3": "0004"}
#: What `meta.schema_version` says once Alembic keeps the version: a hotline of before Alembic,
#: which knows versions 1 to 3, refuses the database instead of taking it for a new one.
MARK: Final = "alembic"
_meta = table("meta", column("key", String()), column("value", Text()))
_KEY = "schema_version"


def schema_version(conn: Connection) -> str | None:
    """The schema version the database says it has (`meta` must exist; None: it says none)."""
    value = conn.execute(select(_meta.c.value).where(_meta.c.key == _KEY)).scalar()
    return None if value is None else str(value)


def revision(conn: Connection, version: str | None) -> str | None:
    """The revision a database of schema `version` stands at (None: a version this code does not
    know)."""
    if version == "1":
        return "0002" if inspect(conn).has_table("routing_rules") else "0001"
    return REVISIONS.get(version or "")


def mark(conn: Connection) -> None:
    """Say in `meta` that Alembic keeps the schema's version (see `MARK`)."""
    conn.execute(update(_meta).where(_meta.c.key == _KEY).values(value=MARK))
