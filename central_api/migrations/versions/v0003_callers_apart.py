"""Callers' phones and names leave the stored JSON (the database's `meta.schema_version` 2).

Every request's caller goes to the new `callers` table in full; the stored request, every change
snapshot and every audit before/after get the masked caller; and each request gets one more
change (`mask_caller`, with its audit event), so every dispatcher's cache takes the masked copy
at its next pull instead of keeping the full one it pulled before. The request's version stays:
nobody's pending action becomes stale.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import orjson
import sqlalchemy as sa
from alembic import context, op

from api_client.models import now_utc
from central_api.sql.callers import caller_row, ensure_secret, masked_caller_json
from central_api.sql.storable import to_json
from central_api.sql.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = 64
#: The change (and audit action) that replaced a request's full caller with the masked one.
MASK_ACTION: Final = "mask_caller"
#: Who made it.
MASK_ACTOR: Final = "system:upgrade"
_CHUNK: Final = 1000

# The columns this revision reads and writes, as they stand at this revision.
_requests = sa.table(
    "requests",
    sa.column("num", sa.Integer()),
    sa.column("id", sa.String()),
    sa.column("data", sa.Text()),
    sa.column("change_seq", sa.Integer()),
)
_changes = sa.table(
    "changes",
    sa.column("seq", sa.Integer()),
    sa.column("request_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("at", UTCDateTime()),
    sa.column("snapshot", sa.Text()),
)
_audit = sa.table(
    "audit",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("request_id", sa.String()),
    sa.column("unit_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("at", UTCDateTime()),
    sa.column("before", sa.Text()),
    sa.column("after", sa.Text()),
    sa.column("detail", sa.Text()),
)
_callers = sa.table(
    "callers",
    sa.column("request_id", sa.String()),
    sa.column("phone", sa.Text()),
    sa.column("name", sa.Text()),
    sa.column("phone_digits", sa.String()),
    sa.column("phone_last4", sa.String()),
    sa.column("created_at", UTCDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "callers",
        sa.Column("request_id", sa.String(ID), primary_key=True),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone_digits", sa.String(64), nullable=False),
        sa.Column("phone_last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_callers_phone_last4", "callers", ["phone_last4"])
    op.create_index("ix_callers_phone_digits", "callers", ["phone_digits"])
    op.create_index("ix_audit_action_actor_at", "audit", ["action", "actor", "at"])
    conn = op.get_bind()
    clock: Callable[[], Any] = context.config.attributes.get("clock", now_utc)
    secret = ensure_secret(conn)

    def mask(caller: object) -> dict[str, object]:
        return masked_caller_json(caller, secret)

    _mask_changes(conn, mask)
    _mask_audit(conn, mask)
    _move_callers(conn, mask, clock())


def _chunks(
    conn: sa.Connection, key: sa.ColumnClause[Any], *columns: sa.ColumnClause[Any]
) -> Iterator[list[Any]]:
    """Every row of `key`'s table as (key, *columns), in key order, a chunk at a time."""
    last: object = None
    while True:
        query = sa.select(key, *columns).order_by(key).limit(_CHUNK)
        if last is not None:
            query = query.where(key > last)
        rows = [tuple(row) for row in conn.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _mask_document(text: str, mask: Callable[[object], dict[str, object]]) -> str | None:
    """`text` (a JSON object) with its `caller` masked, or None when it has no caller."""
    doc = orjson.loads(text)
    if not isinstance(doc, dict) or "caller" not in doc:
        return None
    doc["caller"] = mask(doc["caller"])
    return to_json(doc)


def _mask_changes(conn: sa.Connection, mask: Callable[[object], dict[str, object]]) -> None:
    c = _changes.c
    for rows in _chunks(conn, c.seq, c.snapshot):
        masked = [(seq, _mask_document(snapshot, mask)) for seq, snapshot in rows]
        params = [{"b_seq": seq, "snapshot": text} for seq, text in masked if text is not None]
        if params:
            conn.execute(sa.update(_changes).where(c.seq == sa.bindparam("b_seq")), params)


def _mask_audit(conn: sa.Connection, mask: Callable[[object], dict[str, object]]) -> None:
    a = _audit.c
    for rows in _chunks(conn, a.id, a.before, a.after):
        params = []
        for audit_id, before, after in rows:
            new_before, new_after = _mask_document(before, mask), _mask_document(after, mask)
            if new_before is not None or new_after is not None:
                params.append({"b_id": audit_id, "before": new_before or before, "after": new_after or after})
        if params:
            conn.execute(sa.update(_audit).where(a.id == sa.bindparam("b_id")), params)


def _move_callers(conn: sa.Connection, mask: Callable[[object], dict[str, object]], now: Any) -> None:
    """Each request's caller to `callers`, the request masked, and its `mask_caller` change."""
    r = _requests.c
    seq = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_changes.c.seq), 0))).scalar_one())
    caller_columns = set(_callers.c.keys())
    for rows in _chunks(conn, r.num, r.id, r.data):
        callers, requests, changes, audits = [], [], [], []
        for _num, request_id, data in rows:
            doc = orjson.loads(data)
            full = doc.get("caller") if isinstance(doc.get("caller"), dict) else {}
            phone, name = full.get("phone"), full.get("name")
            row = caller_row(
                request_id,
                phone if isinstance(phone, str) else "",
                name if isinstance(name, str) else "",
                now,
            )
            callers.append({key: value for key, value in row.items() if key in caller_columns})
            seq += 1
            doc["caller"], doc["change_seq"] = mask(full), seq
            text = to_json(doc)
            requests.append({"b_id": request_id, "data": text, "change_seq": seq})
            changes.append(
                {"seq": seq, "request_id": request_id, "action": MASK_ACTION, "at": now, "snapshot": text}
            )
            audits.append(
                {
                    "seq": seq,
                    "request_id": request_id,
                    "unit_id": None,
                    "action": MASK_ACTION,
                    "actor": MASK_ACTOR,
                    "at": now,
                    "before": "{}",
                    "after": to_json({"caller": doc["caller"]}),
                    "detail": "{}",
                }
            )
        conn.execute(sa.insert(_callers), callers)
        conn.execute(sa.update(_requests).where(r.id == sa.bindparam("b_id")), requests)
        conn.execute(sa.insert(_changes), changes)
        conn.execute(sa.insert(_audit), audits)


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
