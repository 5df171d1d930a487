"""Edits of the gazetteer through the API are kept: who, when, the place before and after.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = 64


def upgrade() -> None:
    """Only where missing, as the revisions before it."""
    if "place_events" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "place_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("place_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_place_events_place_id", "place_events", ["place_id"])


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
