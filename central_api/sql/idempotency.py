"""Idempotency keys, scoped per token (by its id: two tokens never see each other's answers) and
stored in the transaction of the write they record: a replay answers the request as the first
call left it, before any version check. Callers inside the server without a token use id 0."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from api_client.models import Request
from central_api.sql import tables as t
from central_api.sql.feed import snapshot_at
from central_api.store import IdempotencyMismatch

INTAKE_PATH = "POST /v1/requests"


def action_path(request_id: str) -> str:
    """The idempotency scope of an action on `request_id`."""
    return f"POST /v1/requests/{request_id}/actions"


def replay(conn: Connection, token_id: int, key: str, path: str, body_hash: str) -> Request | None:
    """The request the first call with this key from this token produced, or None if the key is
    new. IdempotencyMismatch when the key was used for another call or with another body."""
    k = t.idempotency.c
    row = conn.execute(select(k.path, k.body_hash, k.seq).where(k.token_id == token_id, k.key == key)).first()
    if row is None:
        return None
    if row.path != path:
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was already used for another call ({row.path}).",
            params={"key": key, "call": row.path},
        )
    if row.body_hash != body_hash:
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was already used with a different body.",
            code="idempotency_body_differs",
            params={"key": key},
        )
    return snapshot_at(conn, row.seq)


def remember(
    conn: Connection, *, token_id: int, key: str, path: str, body_hash: str, request: Request, now: datetime
) -> None:
    """The idempotency row of a write: a replay answers `request` as it stood after it."""
    conn.execute(
        insert(t.idempotency),
        {
            "token_id": token_id,
            "key": key,
            "path": path,
            "body_hash": body_hash,
            "request_id": request.id,
            "seq": request.change_seq,
            "created_at": now,
        },
    )
