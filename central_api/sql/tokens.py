"""API tokens: stored as SHA-256 digests, shown once when made."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select

from api_client.models import Identity, Role
from central_api.sql import tables as t
from central_api.sql.engine import Database
from central_api.sql.storable import check_text, sha256


class Tokens:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create_token(self, name: str, role: Role) -> str:
        check_text(name)
        token = secrets.token_urlsafe(32)
        with self._db.write() as conn:
            conn.execute(
                insert(t.tokens).values(
                    token_hash=sha256(token), name=name, role=Role(role).value, created_at=self._db.clock()
                )
            )
        return token

    def identify(self, token: str) -> Identity | None:
        k = t.tokens.c
        with self._db.read() as conn:
            row = conn.execute(select(k.name, k.role).where(k.token_hash == sha256(token))).first()
        if row is None:
            return None
        return Identity(name=row.name, role=Role(row.role))
