"""Moving callers' phones and names out of a database an older version wrote (schema 1), whose
request JSON, change feed and audit rows hold them in full.

In the upgrade's transaction: every request's caller goes to `callers` in full; the stored
request, every change snapshot and every audit before/after get the masked caller; and each
request gets one more change (`mask_caller`, with its audit event), so every dispatcher's cache
takes the masked copy at its next pull instead of keeping the full one it pulled before. The
request's version stays: nobody's pending action becomes stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import Column, Connection, bindparam, insert, select, update

from central_api.sql import tables as t
from central_api.sql.callers import caller_row, masked_caller_json
from central_api.sql.feed import head_seq
from central_api.sql.storable import to_json

#: The change (and audit action) that replaced a request's full caller with the masked one.
MASK_ACTION: Final = "mask_caller"
#: Who made it.
MASK_ACTOR: Final = "system:upgrade"
_CHUNK: Final = 1000


def _chunks(conn: Connection, key: Column[Any], *columns: Column[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Every row of `key`'s table as (key, *columns), in key order, a chunk at a time."""
    last: object = None
    while True:
        query = select(key, *columns).order_by(key).limit(_CHUNK)
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


def move_personal_data(conn: Connection, secret: bytes, now: datetime) -> None:
    """Fill `callers` from the stored requests and mask the caller everywhere it is stored."""

    def mask(caller: object) -> dict[str, object]:
        return masked_caller_json(caller, secret)

    c = t.changes.c
    for rows in _chunks(conn, c.seq, c.snapshot):
        masked = [(seq, _mask_document(snapshot, mask)) for seq, snapshot in rows]
        params = [{"b_seq": seq, "snapshot": text} for seq, text in masked if text is not None]
        if params:
            conn.execute(update(t.changes).where(c.seq == bindparam("b_seq")), params)
    a = t.audit.c
    for rows in _chunks(conn, a.id, a.before, a.after):
        params = []
        for audit_id, before, after in rows:
            new_before, new_after = _mask_document(before, mask), _mask_document(after, mask)
            if new_before is not None or new_after is not None:
                params.append({"b_id": audit_id, "before": new_before or before, "after": new_after or after})
        if params:
            conn.execute(update(t.audit).where(a.id == bindparam("b_id")), params)
    r = t.requests.c
    seq = head_seq(conn)
    for rows in _chunks(conn, r.num, r.id, r.data):
        callers, requests, changes, audits = [], [], [], []
        for _num, request_id, data in rows:
            doc = orjson.loads(data)
            full = doc.get("caller") if isinstance(doc.get("caller"), dict) else {}
            phone, name = full.get("phone"), full.get("name")
            callers.append(
                caller_row(
                    request_id,
                    phone if isinstance(phone, str) else "",
                    name if isinstance(name, str) else "",
                    now,
                )
            )
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
        conn.execute(insert(t.callers), callers)
        conn.execute(update(t.requests).where(r.id == bindparam("b_id")), requests)
        conn.execute(insert(t.changes), changes)
        conn.execute(insert(t.audit), audits)
