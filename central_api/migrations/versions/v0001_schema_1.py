"""The schema of the first version (its `meta.schema_version` was 1): requests, changes, audit,
idempotency keys by actor, the directory and tokens kept by hash.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 64


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("num", sa.Integer(), nullable=False, unique=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("category", sa.String(ID), nullable=False),
        sa.Column("lead_unit", sa.String(ID), nullable=True),
        sa.Column("merged_into", sa.String(ID), nullable=True),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.Column("responded_in_time", sa.Boolean(), nullable=False),
        sa.Column("cb_valid", sa.Boolean(), nullable=False),
        sa.Column("cb_solved", sa.Boolean(), nullable=False),
        sa.Column("cb_satisfaction", sa.String(16), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
    )
    for column in ("received_at", "state", "category", "lead_unit", "merged_into"):
        op.create_index(f"ix_requests_{column}", "requests", [column])
    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_changes_request_id", "changes", ["request_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(ID), nullable=True),
        sa.Column("unit_id", sa.String(ID), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_request_id", "audit", ["request_id"])
    op.create_table(
        "idempotency",
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("communities", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.String(ID), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("default_units", sa.Text(), nullable=False),
    )
    op.create_table(
        "communities",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("streets", sa.Text(), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("hotline's migrations go forward only: restore a backup to go back")
