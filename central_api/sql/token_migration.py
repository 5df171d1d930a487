"""Schema 2 → 3 for tokens: unique names, token ids, idempotency keys scoped by token id.

Before, tokens were kept by hash with names that could repeat, and idempotency keys by the
holder's name. The tables are rebuilt (SQLite cannot change a primary key in place): the oldest
token of a name keeps it, the others become `name-2`, `name-3`, … (skipping names already taken);
each idempotency row goes to the token that kept its name, and a row whose name no token has any
more to token id 0, where no token can replay it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select

from central_api.sql import tables as t

#: The two tables as schema 2 (and 1) had them.
_V1 = MetaData()
_tokens_v1 = Table(
    "tokens",
    _V1,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", t.UTCDateTime, nullable=False),
)
_idempotency_v1 = Table(
    "idempotency",
    _V1,
    Column("actor", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("path", String(300), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("request_id", String(t.ID), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", t.UTCDateTime, nullable=False),
)
NAME_LENGTH = 200


def unique_names(names: Iterable[str]) -> list[str]:
    """`names` (oldest first) made unique: a repeated name gets the first free `-2`, `-3`, …
    (shortened to fit the column when it must)."""
    names = list(names)
    taken = set(names)
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        if name in seen:
            n = 2
            while (renamed := _suffixed(name, n)) in taken:
                n += 1
            name = renamed
            taken.add(name)
        seen.add(name)
        result.append(name)
    return result


def _suffixed(name: str, n: int) -> str:
    suffix = f"-{n}"
    return name[: NAME_LENGTH - len(suffix)] + suffix


def migrate(conn: Connection) -> None:
    """Bring the tokens and idempotency tables of a schema-2 database to schema 3 (inside the
    caller's write transaction)."""
    old = conn.execute(select(_tokens_v1).order_by(_tokens_v1.c.created_at, _tokens_v1.c.token_hash)).all()
    names = unique_names(row.name for row in old)
    _tokens_v1.drop(conn)
    t.tokens.create(conn)
    if old:
        conn.execute(
            insert(t.tokens),
            [
                {"token_hash": row.token_hash, "name": name, "role": row.role, "created_at": row.created_at}
                for row, name in zip(old, names, strict=True)
            ],
        )
    # A name that was kept belongs to its oldest holder, whose keys these were.
    token_ids = {row.name: row.id for row in conn.execute(select(t.tokens.c.id, t.tokens.c.name))}
    keys: dict[tuple[int, str], dict[str, Any]] = {}
    for row in conn.execute(select(_idempotency_v1)):
        token_id = token_ids.get(row.actor, 0)
        keys.setdefault(
            (token_id, row.key),
            {
                "token_id": token_id,
                "key": row.key,
                "path": row.path,
                "body_hash": row.body_hash,
                "request_id": row.request_id,
                "seq": row.seq,
                "created_at": row.created_at,
            },
        )
    _idempotency_v1.drop(conn)
    t.idempotency.create(conn)
    if keys:
        conn.execute(insert(t.idempotency), list(keys.values()))
