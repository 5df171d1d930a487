"""API tokens: stored as SHA-256 digests, shown once when made; unique names; revocable.

Making and revoking a token are token events (`token_events`: who, when). Revoking moves
`tokens_version` (a counter in `meta`), which every server process polls to drop the identities
it remembers. When a token was last used is noted apart (`token_uses`), at most once a minute
per token, so identifying stays a read almost always.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import Connection, Select, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from api_client.models import Role, TokenInfo
from central_api.sql import tables as t
from central_api.sql.engine import Database
from central_api.sql.storable import check_text, sha256
from central_api.store import InvalidInput, TokenHolder, TokenNameTaken, TokenNotFound

log = logging.getLogger(__name__)

#: How stale `last_used_at` may get before identifying a token writes it again.
LAST_USED_GRANULARITY = timedelta(minutes=1)
#: The `meta` key of the tokens version, which moves whenever a token is made or revoked.
TOKENS_VERSION_KEY = "tokens_version"
NAME_LENGTH = 200
#: Unicode categories a name may not hold: controls, format characters (bidi overrides, zero
#: widths), line and paragraph separators.
_REFUSED = frozenset({"Cc", "Cf", "Zl", "Zp"})


def check_name(name: str) -> None:
    """Refuse a token name that is empty, too long, padded with spaces or holds control or
    format characters (names are shown in terminals and name actors in the audit trail, where an
    invisible character would make one name look like another)."""
    check_text(name)
    if (
        not name.strip()
        or name != name.strip()
        or len(name) > NAME_LENGTH
        or any(unicodedata.category(ch) in _REFUSED for ch in name)
    ):
        raise InvalidInput(
            f"A token name is 1 to {NAME_LENGTH} characters, without control or format characters"
            " and without spaces around it.",
            code="token_name_invalid",
            params={"max_length": NAME_LENGTH},
        )


def check_binding(role: Role, unit: str | None) -> None:
    """A `unit` token is bound to a unit, and no other token is."""
    if role is Role.unit and not unit:
        raise InvalidInput(
            "A unit's token is bound to its unit: give the unit's id.", code="token_unit_missing"
        )
    if role is not Role.unit and unit is not None:
        raise InvalidInput(
            f"Only a unit's token is bound to a unit, not a {role.value}'s.",
            code="token_unit_for_role",
            params={"role": role.value},
        )


class Tokens:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create_token(self, name: str, role: Role, *, actor: str = "server", unit: str | None = None) -> str:
        check_name(name)
        role = Role(role)
        check_binding(role, unit)
        token = secrets.token_urlsafe(32)
        now = self._db.clock()
        k = t.tokens.c
        try:
            with self._db.write() as conn:
                if conn.execute(select(k.id).where(k.name == name)).first() is not None:
                    raise TokenNameTaken(name)
                if (
                    unit is not None
                    and conn.execute(select(t.units.c.id).where(t.units.c.id == unit)).first() is None
                ):
                    raise InvalidInput(f"No unit {unit!r}.", code="unknown_unit", params={"units": [unit]})
                conn.execute(
                    insert(t.tokens).values(
                        token_hash=sha256(token), name=name, role=role.value, unit=unit, created_at=now
                    )
                )
                token_id = conn.execute(select(k.id).where(k.name == name)).scalar_one()
                _event(conn, token_id, name, "create", actor, now)
        except IntegrityError as exc:  # the same name made at the same moment elsewhere
            raise TokenNameTaken(name) from exc
        return token

    def identify(self, token: str) -> TokenHolder | None:
        k, u = t.tokens.c, t.token_uses.c
        with self._db.read() as conn:
            row = conn.execute(
                select(k.id, k.name, k.role, k.unit, u.last_used_at)
                .select_from(t.tokens.outerjoin(t.token_uses, u.token_id == k.id))
                .where(k.token_hash == sha256(token), k.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        now = self._db.clock()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
            try:
                with self._db.write() as conn:
                    noted = conn.execute(
                        update(t.token_uses).where(u.token_id == row.id).values(last_used_at=now)
                    )
                    if noted.rowcount == 0:
                        conn.execute(insert(t.token_uses).values(token_id=row.id, last_used_at=now))
            except SQLAlchemyError as exc:  # a busy database: it is only a note, try next time
                log.warning("could not note when token %s was last used: %s", row.id, exc)
        return TokenHolder(name=row.name, role=Role(row.role), unit=row.unit, token_id=row.id)

    def tokens(self) -> list[TokenInfo]:
        with self._db.read() as conn:
            rows = conn.execute(_listing().order_by(t.tokens.c.id)).all()
        return [_info(row) for row in rows]

    def revoke_token(self, name: str, *, actor: str) -> TokenInfo:
        k = t.tokens.c
        with self._db.write() as conn:
            row = conn.execute(select(k.id, k.revoked_at).where(k.name == name)).first()
            if row is None:
                raise TokenNotFound(name)
            if row.revoked_at is None:
                now = self._db.clock()
                conn.execute(update(t.tokens).where(k.id == row.id).values(revoked_at=now))
                _event(conn, row.id, name, "revoke", actor, now)
                _bump_version(conn)
            info = conn.execute(_listing().where(k.id == row.id)).one()
        return _info(info)

    def tokens_version(self) -> int:
        with self._db.read() as conn:
            return _version(conn)


def _listing() -> Select[tuple[str, str, str | None, datetime, datetime | None, datetime | None]]:
    k, u = t.tokens.c, t.token_uses.c
    return select(k.name, k.role, k.unit, k.created_at, u.last_used_at, k.revoked_at).select_from(
        t.tokens.outerjoin(t.token_uses, u.token_id == k.id)
    )


def _info(row: object) -> TokenInfo:
    return TokenInfo.model_validate(row, from_attributes=True)


def _event(conn: Connection, token_id: int, name: str, action: str, actor: str, at: datetime) -> None:
    conn.execute(
        insert(t.token_events).values(token_id=token_id, name=name, action=action, actor=actor, at=at)
    )


def _version(conn: Connection) -> int:
    value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == TOKENS_VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def _bump_version(conn: Connection) -> None:
    version = _version(conn) + 1
    if version == 1:
        conn.execute(insert(t.meta).values(key=TOKENS_VERSION_KEY, value="1"))
    else:
        conn.execute(update(t.meta).where(t.meta.c.key == TOKENS_VERSION_KEY).values(value=str(version)))
