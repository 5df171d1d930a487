"""Routing rules and their audit trail (schema 1 gained them without a new version number).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = 64


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("category", sa.String(ID), nullable=False),
        sa.Column("community", sa.String(ID), nullable=False),
        sa.Column("lead_unit", sa.String(ID), nullable=False),
        sa.Column("co_units", sa.Text(), nullable=False),
        sa.Column("auto_dispatch", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_routing_rules_match", "routing_rules", ["category", "community"], unique=True)
    op.create_table(
        "routing_rule_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_routing_rule_audit_rule_id", "routing_rule_audit", ["rule_id"])


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
