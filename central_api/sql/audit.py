"""The audit trail: who did what to a request (or a unit), when, and which fields changed.

A write's audit row carries the seq of its change; a phone reveal is an audit event without a
change (its seq is the change the request stood at). Before and after hold what the request
holds: the caller masked. A reveal's event records who, when and why, never the number."""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import Connection, insert, select

from api_client.models import AuditEvent, PhoneReveal, Request
from central_api.sql import tables as t
from central_api.sql.callers import full_caller
from central_api.sql.engine import Database
from central_api.sql.storable import check_text, to_json
from central_api.store import RequestNotFound


def audit_row(
    request: Request,
    action: str,
    actor: str,
    now: datetime,
    before: dict[str, object],
    after: dict[str, object],
    detail: dict[str, object],
) -> dict[str, object]:
    """The audit row of one write: who did what, when, and what changed."""
    return {
        "seq": request.change_seq,
        "request_id": request.id,
        "unit_id": None,
        "action": action,
        "actor": actor,
        "at": now,
        "before": to_json(before),
        "after": to_json(after),
        "detail": to_json(detail),
    }


def audit_unit_duty(conn: Connection, unit_id: str, *, actor: str, now: datetime, on_duty: bool) -> None:
    """Record that `actor` put a unit on (or off) duty."""
    conn.execute(
        insert(t.audit).values(
            seq=None,
            request_id=None,
            unit_id=unit_id,
            action="unit_duty",
            actor=actor,
            at=now,
            before=to_json({"on_duty": not on_duty}),
            after=to_json({"on_duty": on_duty}),
            detail="{}",
        )
    )


class AuditTrail:
    """Reading a request's audit trail, and the audited phone reveal."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def audit(self, request_id: str) -> list[AuditEvent]:
        a = t.audit.c
        with self._db.read() as conn:
            exists = conn.execute(select(t.requests.c.id).where(t.requests.c.id == request_id)).scalar()
            if exists is None:
                raise RequestNotFound(request_id)
            rows = conn.execute(
                select(a.seq, a.request_id, a.action, a.actor, a.at, a.before, a.after, a.detail)
                .where(a.request_id == request_id)
                .order_by(a.id)
            ).all()
        return [
            AuditEvent(
                seq=row.seq,
                request_id=row.request_id,
                action=row.action,
                actor=row.actor,
                at=row.at,
                before=orjson.loads(row.before),
                after=orjson.loads(row.after),
                detail=orjson.loads(row.detail),
            )
            for row in rows
        ]

    def reveal_phone(self, request_id: str, *, actor: str, reason: str = "") -> PhoneReveal:
        check_text(reason)
        with self._db.write() as conn:
            data = conn.execute(select(t.requests.c.data).where(t.requests.c.id == request_id)).scalar()
            if data is None:
                raise RequestNotFound(request_id)
            request = Request.model_validate_json(data)
            now = self._db.clock()
            # An audit event without a change: `seq` is the change the revealed request stood at.
            row = audit_row(request, "reveal_phone", actor, now, {}, {}, {"reason": reason} if reason else {})
            audit_id = int(conn.execute(insert(t.audit).returning(t.audit.c.id), row).scalar_one())
            phone, name = full_caller(conn, request.id)
        return PhoneReveal(
            request_id=request.id,
            phone=phone,
            name=name,
            revealed_by=actor,
            revealed_at=now,
            audit_id=audit_id,
        )
