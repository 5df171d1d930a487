"""The street's gazetteer: places, their aliases and the units covering them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = 64

FIRST_TABLE = "places"


def upgrade() -> None:
    """Only where missing: a database recognised by its `schema_version` (made before Alembic, by
    code that knew these tables) has them already, as `v0005`'s parts."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if FIRST_TABLE in existing:
        return
    op.create_table(
        "places",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent", sa.String(ID), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
