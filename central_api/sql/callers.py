"""Callers in full: the `callers` table (one row per request, written with its intake), the
masked caller every request carries instead, the secret of callers' keys, and the audited phone
lookup.

The full phone and name leave the server only in the answer of the audited reveal
(`central_api.sql.audit`); a lookup answers requests, masked like everywhere else, and is an
audit event of its own (who, when, why, the number masked, how many it found)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Final

import orjson
from sqlalchemy import Connection, func, insert, select

from api_client.domain.personal_data import (
    all_digits,
    caller_key,
    is_suffix_lookup,
    lookup_digits,
    mask_lookup,
    mask_name,
    mask_phone,
)
from api_client.models import Caller, CallerLookup, CallerLookupEvent, Request
from central_api.sql import tables as t
from central_api.sql.engine import Database
from central_api.sql.storable import check_text, to_json
from central_api.store import InvalidInput, TooManyLookups

#: The `meta` key of the secret callers' keys are made with (hex; never sent).
SECRET_KEY: Final = "caller_key_secret"
#: How many requests a lookup answers at most (newest first).
LOOKUP_LIMIT: Final = 50
#: How many lookups one token holder may make within `LOOKUP_WINDOW`. A whole-number lookup
#: says whether a number called: guessing the hidden digits of a masked phone takes thousands.
LOOKUP_RATE: Final = 30
LOOKUP_WINDOW: Final = timedelta(minutes=10)
LOOKUP_ACTION: Final = "lookup_phone"


def ensure_secret(conn: Connection) -> bytes:
    """The database's secret for callers' keys, made (32 random bytes) when it has none."""
    value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == SECRET_KEY)).scalar()
    if value is None:
        value = secrets.token_hex(32)
        conn.execute(insert(t.meta), {"key": SECRET_KEY, "value": value})
    return bytes.fromhex(value)


def masked_caller(name: str, phone: str, secret: bytes) -> Caller:
    """A caller as a request carries it: name and phone masked, and the caller's key."""
    return Caller(name=mask_name(name), phone=mask_phone(phone), key=caller_key(phone, secret))


def masked_caller_json(caller: object, secret: bytes) -> dict[str, object]:
    """`masked_caller` of a caller as stored JSON (an older version's full one), its other
    fields kept."""
    fields = dict(caller) if isinstance(caller, dict) else {}
    phone, name = fields.get("phone"), fields.get("name")
    phone = phone if isinstance(phone, str) else ""
    name = name if isinstance(name, str) else ""
    return {**fields, "name": mask_name(name), "phone": mask_phone(phone), "key": caller_key(phone, secret)}


def caller_row(request_id: str, phone: str, name: str, now: datetime) -> dict[str, object]:
    """The `callers` row of a request: its caller in full, and the digits a lookup matches."""
    digits = all_digits(phone)[:64]
    return {
        "request_id": request_id,
        "phone": phone,
        "name": name,
        "phone_digits": digits,
        "phone_last4": digits[-4:],
        "created_at": now,
    }


def full_caller(conn: Connection, request_id: str) -> tuple[str, str]:
    """The (phone, name) of a request's caller in full; empty when none was recorded."""
    c = t.callers.c
    row = conn.execute(select(c.phone, c.name).where(c.request_id == request_id)).first()
    return (row.phone, row.name) if row is not None else ("", "")


def _digits(phone: str) -> str:
    digits = lookup_digits(phone)
    if digits is None:
        raise InvalidInput(
            "Look a caller up by a whole phone number (7 to 20 digits) or its last 4 to 6 digits;"
            " only digits, spaces, + and - may be typed.",
            code="lookup_not_a_phone",
        )
    return digits


class Callers:
    """Masking callers at intake, and the audited lookup by phone."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.read() as conn:
            value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == SECRET_KEY)).scalar_one()
        self._secret = bytes.fromhex(value)

    def masked(self, name: str, phone: str) -> Caller:
        return masked_caller(name, phone, self._secret)

    def lookup(self, phone: str, *, actor: str, reason: str = "") -> CallerLookup:
        """The requests (newest first, at most `LOOKUP_LIMIT`) whose caller's phone is `phone`,
        or ends with its digits when it gives only the last 4 to 6. Audited (`lookup_phone`);
        raises InvalidInput for a query that is not a phone, TooManyLookups past the rate."""
        check_text(reason)
        digits = _digits(phone)
        c, r, a = t.callers.c, t.requests.c, t.audit.c
        where = (
            [c.phone_last4 == digits[-4:], c.phone_digits.endswith(digits, autoescape=True)]
            if is_suffix_lookup(digits)
            else [c.phone_digits == digits]
        )
        with self._db.write() as conn:
            now = self._db.clock()
            since = now - LOOKUP_WINDOW
            recent = conn.execute(
                select(func.count(), func.min(a.at)).where(
                    a.action == LOOKUP_ACTION, a.actor == actor, a.at > since
                )
            ).one()
            if recent[0] >= LOOKUP_RATE:
                wait = max(1, int((recent[1] + LOOKUP_WINDOW - now).total_seconds()) + 1)
                raise TooManyLookups(LOOKUP_RATE, LOOKUP_WINDOW, wait)
            rows = (
                conn.execute(
                    select(r.data)
                    .join(t.callers, c.request_id == r.id)
                    .where(*where)
                    .order_by(r.received_at.desc(), r.num.desc())
                    .limit(LOOKUP_LIMIT + 1)
                )
                .scalars()
                .all()
            )
            found = [Request.model_validate_json(data) for data in rows[:LOOKUP_LIMIT]]
            truncated = len(rows) > LOOKUP_LIMIT
            detail: dict[str, object] = {
                "query": mask_lookup(digits),
                "matched": len(found),
                "truncated": truncated,
            }
            if reason:
                detail["reason"] = reason
            conn.execute(
                insert(t.audit),
                {
                    "seq": None,
                    "request_id": None,
                    "unit_id": None,
                    "action": LOOKUP_ACTION,
                    "actor": actor,
                    "at": now,
                    "before": "{}",
                    "after": "{}",
                    "detail": to_json(detail),
                },
            )
        return CallerLookup(requests=found, truncated=truncated)

    def lookups(self, limit: int) -> list[CallerLookupEvent]:
        """The latest phone lookups, newest first."""
        a = t.audit.c
        with self._db.read() as conn:
            rows = conn.execute(
                select(a.id, a.actor, a.at, a.detail)
                .where(a.action == LOOKUP_ACTION)
                .order_by(a.id.desc())
                .limit(max(0, limit))
            ).all()
        events = []
        for row in rows:
            detail = orjson.loads(row.detail)
            events.append(
                CallerLookupEvent(
                    id=row.id,
                    actor=row.actor,
                    at=row.at,
                    query=str(detail.get("query", "")),
                    matched=int(detail.get("matched", 0)),
                    truncated=bool(detail.get("truncated", False)),
                    reason=str(detail.get("reason", "")),
                )
            )
        return events
