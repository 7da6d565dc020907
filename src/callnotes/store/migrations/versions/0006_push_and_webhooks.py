"""Generic sync: per-record push state (``push_records``) and webhook deliveries taken in.

Revision ID: 0006
Revises: 0004 (until 0005 lands on main: then 0005, see the lead's board)
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.String(length=100), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_uid", sa.String(length=36), nullable=False),
        sa.Column("target_table", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_records")),
        sa.UniqueConstraint("mapping", "source_uid", name="uq_push_records_mapping_source_uid"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("operation_created_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_webhook_deliveries_delivery_key")),
    )
    op.create_index("ix_webhook_deliveries_entity_record", "webhook_deliveries", ["entity", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_entity_record", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("push_records")
