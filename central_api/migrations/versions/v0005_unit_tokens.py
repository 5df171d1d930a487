"""Tokens may be bound to a handling unit (the unit role); the feed keeps the units each change
concerns; requests keep their co-handling units, chases and direct answers in columns.

`change_units` is filled from the feed as it stands: each change concerns the units its request
had after it and after the request's change before it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any, Final

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = 64
_CHUNK: Final = 1000

_requests = sa.table(
    "requests",
    sa.column("id", sa.String()),
    sa.column("num", sa.Integer()),
    sa.column("data", sa.Text()),
    sa.column("co_units", sa.Text()),
    sa.column("chases", sa.Integer()),
    sa.column("answered_with", sa.String()),
)
_changes = sa.table(
    "changes",
    sa.column("seq", sa.Integer()),
    sa.column("request_id", sa.String()),
    sa.column("snapshot", sa.Text()),
)


def _units(data: dict[str, Any]) -> set[str]:
    lead = data.get("lead_unit")
    return {u for u in [lead, *(data.get("co_units") or [])] if isinstance(u, str) and u}


def upgrade() -> None:
    """Each part only where it is missing: a database made before Alembic whose code knew some of
    them has them already (as `v0004`'s token notes)."""
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    columns = {table: {c["name"] for c in inspector.get_columns(table)} for table in ("tokens", "requests")}
    if "unit" not in columns["tokens"]:
        op.add_column("tokens", sa.Column("unit", sa.String(ID), nullable=True))
    added: list[sa.Column[Any]] = [
        sa.Column("chases", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answered_with", sa.String(ID), nullable=True),
        sa.Column("co_units", sa.Text(), nullable=False, server_default=""),
    ]
    missing = [column for column in added if column.name not in columns["requests"]]
    for column in missing:
        op.add_column("requests", column)
    if missing:
        _fill_requests(conn)
    if "change_units" not in inspector.get_table_names():
        change_units = op.create_table(
            "change_units",
            sa.Column("unit_id", sa.String(ID), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("unit_id", "seq"),
        )
        op.create_index("ix_change_units_seq", "change_units", ["seq"])
        _fill_change_units(conn, change_units)


def _fill_requests(conn: sa.Connection) -> None:
    last = -1
    while True:
        rows = conn.execute(
            sa.select(_requests.c.num, _requests.c.id, _requests.c.data)
            .where(_requests.c.num > last)
            .order_by(_requests.c.num)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].num
        for row in rows:
            data = orjson.loads(row.data)
            co = [u for u in data.get("co_units") or [] if isinstance(u, str)]
            chases, answered = int(data.get("chases") or 0), data.get("answered_with")
            if co or chases or answered:
                conn.execute(
                    sa.update(_requests)
                    .where(_requests.c.id == row.id)
                    .values(co_units=f"|{'|'.join(co)}|" if co else "", chases=chases, answered_with=answered)
                )


def _fill_change_units(conn: sa.Connection, change_units: sa.Table) -> None:
    before: dict[str, set[str]] = {}
    last = -1
    while True:
        rows = conn.execute(
            sa.select(_changes.c.seq, _changes.c.request_id, _changes.c.snapshot)
            .where(_changes.c.seq > last)
            .order_by(_changes.c.seq)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].seq
        found: list[dict[str, object]] = []
        for row in rows:
            after = _units(orjson.loads(row.snapshot))
            found += (
                {"unit_id": u, "seq": row.seq} for u in sorted(after | before.get(row.request_id, set()))
            )
            before[row.request_id] = after
        if found:
            conn.execute(sa.insert(change_units), found)


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
