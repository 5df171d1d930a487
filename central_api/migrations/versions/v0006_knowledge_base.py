"""The knowledge base: its entries and the audit of their edits.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = 64

FIRST_TABLE = "knowledge_entries"


def upgrade() -> None:
    """Only where missing: a database recognised by its `schema_version` (made before Alembic, by
    code that knew these tables) has them already, as `v0005`'s parts."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if FIRST_TABLE in existing:
        return
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("num", sa.Integer(), nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "knowledge_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_knowledge_events_entry_id", "knowledge_events", ["entry_id"])


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
