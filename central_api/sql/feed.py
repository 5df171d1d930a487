"""The change feed: one row per write, its `seq` allocated inside the write transaction, holding
the request's JSON as it stood after the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from api_client.models import Change, Request
from central_api.sql import tables as t
from central_api.sql.engine import Database

#: The largest seq the feed can hold (the column is a 32-bit integer on PostgreSQL): a cursor
#: beyond it asks for nothing more, and the database is never asked to compare with it.
MAX_SEQ = 2**31 - 1


def head_seq(conn: Connection) -> int:
    """The newest change seq as `conn` sees it (0 when there is none)."""
    return int(conn.execute(select(func.coalesce(func.max(t.changes.c.seq), 0))).scalar_one())


def change_row(request: Request, data: str, action: str, now: datetime) -> dict[str, object]:
    """The change-feed row of one write: the request's JSON (`data`) as it stands after it."""
    return {
        "seq": request.change_seq,
        "request_id": request.id,
        "action": action,
        "at": now,
        "snapshot": data,
    }


def snapshot_at(conn: Connection, seq: int) -> Request:
    """The request as change `seq` left it."""
    snapshot = conn.execute(select(t.changes.c.snapshot).where(t.changes.c.seq == seq)).scalar_one()
    return Request.model_validate_json(snapshot)


class Feed:
    """Reading the change feed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def changes_raw(self, since: int, limit: int) -> tuple[list[tuple[int, str, str]], int]:
        """Like `changes`, but each change as (seq, action, the request's stored JSON)."""
        c = t.changes.c
        with self._db.read() as conn:
            rows = conn.execute(
                select(c.seq, c.action, c.snapshot)
                .where(c.seq > min(since, MAX_SEQ))
                .order_by(c.seq)
                .limit(limit)
            ).all()
            head = head_seq(conn)  # read after the rows, so head >= every seq returned
        return [(row[0], row[1], row[2]) for row in rows], head

    def changes(self, since: int, limit: int) -> tuple[list[Change], int]:
        rows, head = self.changes_raw(since, limit)
        return [
            Change(seq=seq, action=action, request=Request.model_validate_json(snapshot))
            for seq, action, snapshot in rows
        ], head

    def head(self) -> int:
        with self._db.read() as conn:
            return head_seq(conn)
