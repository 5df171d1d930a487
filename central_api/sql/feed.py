"""The change feed: one row per write, its `seq` allocated inside the write transaction, holding
the request's JSON as it stood after the change; and the units each change concerns
(`change_units`: the request's before and after it), which a unit's token reads by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from api_client.models import Change, Request
from central_api.scope import request_units
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


def unit_rows(after: Request, before: Request | None) -> list[dict[str, object]]:
    """The `change_units` rows of the change that made `after` from `before`."""
    units = request_units(after) | (request_units(before) if before is not None else frozenset())
    return [{"unit_id": unit, "seq": after.change_seq} for unit in sorted(units)]


def record_units(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Insert `change_units` rows (`unit_rows`), if any."""
    if rows:
        conn.execute(insert(t.change_units), rows)


def snapshot_at(conn: Connection, seq: int) -> Request:
    """The request as change `seq` left it."""
    snapshot = conn.execute(select(t.changes.c.snapshot).where(t.changes.c.seq == seq)).scalar_one()
    return Request.model_validate_json(snapshot)


class Feed:
    """Reading the change feed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def changes_raw(
        self, since: int, limit: int, *, unit: str | None = None
    ) -> tuple[list[tuple[int, str, str]], int]:
        """Like `changes`, but each change as (seq, action, the request's stored JSON)."""
        c, cu = t.changes.c, t.change_units.c
        since = min(since, MAX_SEQ)
        query = select(c.seq, c.action, c.snapshot)
        if unit is None:
            query = query.where(c.seq > since).order_by(c.seq)
        else:  # the unit's changes, found by the (unit_id, seq) key
            query = (
                query.join(t.change_units, cu.seq == c.seq)
                .where(cu.unit_id == unit, cu.seq > since)
                .order_by(cu.seq)
            )
        with self._db.read() as conn:
            rows = conn.execute(query.limit(limit)).all()
            head = head_seq(conn)  # read after the rows, so head >= every seq returned
        return [(row[0], row[1], row[2]) for row in rows], head

    def change_units(self, after: int, upto: int) -> list[tuple[int, str]]:
        cu = t.change_units.c
        with self._db.read() as conn:
            rows = conn.execute(
                select(cu.seq, cu.unit_id).where(cu.seq > min(after, MAX_SEQ), cu.seq <= min(upto, MAX_SEQ))
            ).all()
        return [(row[0], row[1]) for row in rows]

    def unit_head(self, unit: str, upto: int) -> int:
        cu = t.change_units.c
        with self._db.read() as conn:
            found = conn.execute(
                select(func.max(cu.seq)).where(cu.unit_id == unit, cu.seq <= min(upto, MAX_SEQ))
            ).scalar()
        return int(found or 0)

    def changes(self, since: int, limit: int, *, unit: str | None = None) -> tuple[list[Change], int]:
        rows, head = self.changes_raw(since, limit, unit=unit)
        return [
            Change(seq=seq, action=action, request=Request.model_validate_json(snapshot))
            for seq, action, snapshot in rows
        ], head

    def head(self) -> int:
        with self._db.read() as conn:
            return head_seq(conn)
