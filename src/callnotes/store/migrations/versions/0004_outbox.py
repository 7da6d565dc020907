"""The outbox: CRM writes the user asked for, with their state, lease and the record id they fix.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KINDS = ("create_task", "update_milestone", "forecast_comment", "join_milestone_team",
          "leave_milestone_team", "join_deal_team", "leave_deal_team", "update_opportunity")
_STATES = ("awaiting_approval", "pending", "sending", "sent", "failed", "discarded")


def _fk(column: str, table: str) -> sa.Column[int]:
    return sa.Column(column, sa.Integer(),
                     sa.ForeignKey(f"{table}.id", name=f"fk_outbox_{column}_{table}", ondelete="SET NULL"),
                     nullable=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*_KINDS, name="outbox_kind", native_enum=False, length=20), nullable=False),
        sa.Column("state", sa.Enum(*_STATES, name="outbox_state", native_enum=False, length=20),
                  nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("crm_record_id", sa.String(length=36), nullable=False),
        sa.Column("crm_id", sa.String(length=36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _fk("note_id", "notes"),
        _fk("milestone_id", "milestones"),
        _fk("opportunity_id", "opportunities"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    for column in ("note_id", "milestone_id", "opportunity_id"):
        op.create_index(f"ix_outbox_{column}", "outbox", [column])


def downgrade() -> None:
    for column in ("note_id", "milestone_id", "opportunity_id"):
        op.drop_index(f"ix_outbox_{column}", table_name="outbox")
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
