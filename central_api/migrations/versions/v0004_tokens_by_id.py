"""Tokens get ids, unique names and a revocation time; their uses and events get tables of their
own; idempotency keys are scoped by token id instead of the holder's name (the database's
`meta.schema_version` 3).

The two tables are rebuilt (SQLite cannot change a primary key in place): the oldest token of a
name keeps it, the others become `name-2`, `name-3`, … (skipping names already taken); each
idempotency row goes to the token that kept its name, and a row whose name no token has any more
to token id 0, where no token can replay it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import sqlalchemy as sa
from alembic import op

from central_api.sql.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = 64
NAME_LENGTH: Final = 200

# The two tables as they stood before this revision.
_old_tokens = sa.table(
    "tokens",
    sa.column("token_hash", sa.String()),
    sa.column("name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("created_at", UTCDateTime()),
)
_old_idempotency = sa.table(
    "idempotency",
    sa.column("actor", sa.String()),
    sa.column("key", sa.String()),
    sa.column("path", sa.String()),
    sa.column("body_hash", sa.String()),
    sa.column("request_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
)


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


def upgrade() -> None:
    conn = op.get_bind()
    old = conn.execute(
        sa.select(_old_tokens).order_by(_old_tokens.c.created_at, _old_tokens.c.token_hash)
    ).all()
    old_keys = conn.execute(sa.select(_old_idempotency)).all()
    op.drop_table("tokens")
    op.drop_table("idempotency")
    tokens = op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(NAME_LENGTH), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sqlite_autoincrement=True,
    )
    idempotency = op.create_table(
        "idempotency",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "key"),
    )
    _token_notes()
    names = unique_names(row.name for row in old)
    if old:
        conn.execute(
            sa.insert(tokens),
            [
                {"token_hash": row.token_hash, "name": name, "role": row.role, "created_at": row.created_at}
                for row, name in zip(old, names, strict=True)
            ],
        )
    # A name that was kept belongs to its oldest holder, whose keys these were.
    token_ids = {row.name: row.id for row in conn.execute(sa.select(tokens.c.id, tokens.c.name))}
    keys: dict[tuple[int, str], dict[str, Any]] = {}
    for row in old_keys:
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
    if keys:
        conn.execute(sa.insert(idempotency), list(keys.values()))


def _token_notes() -> None:
    """When each token was last used, and who made or revoked which token. A database that says
    schema version 2 (made before Alembic) may have them already: the code that knew that version
    created every missing table before it upgraded."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "token_uses" not in existing:
        op.create_table(
            "token_uses",
            sa.Column("token_id", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("last_used_at", sa.DateTime(), nullable=False),
        )
    if "token_events" not in existing:
        op.create_table(
            "token_events",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("token_id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sqlite_autoincrement=True,
        )
        op.create_index("ix_token_events_token_id", "token_events", ["token_id"])


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
