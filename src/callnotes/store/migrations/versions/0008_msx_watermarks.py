"""Incremental refresh of the MSX mirror: one watermark row per MSX table (``msx_watermarks``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "msx_watermarks",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("modified_on", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_msx_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("msx_watermarks")
