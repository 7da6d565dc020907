"""Milestone tracker, customer page and HoK coverage (issue 13): favourite milestones, the opportunity's
revenue, stage and owner, the milestone's commitment, the task's day.

``milestone_favourites``: the milestones I starred (one row each, gone with the milestone).
``opportunities.estimated_value`` / ``stage`` / ``owner_name``, ``milestones.commitment`` and
``tasks.task_date``: read by the MSX import from then on (empty until the next import or refresh).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None



def _columns() -> list[tuple[str, sa.Column]]:
    """New each time (a column object belongs to one table once it was added)."""
    return [
        ("opportunities", sa.Column("estimated_value", sa.Float(), nullable=True)),
        ("opportunities", sa.Column("stage", sa.String(length=100), nullable=True)),
        ("opportunities", sa.Column("owner_name", sa.String(length=200), nullable=True)),
        ("milestones", sa.Column("commitment", sa.String(length=100), nullable=True)),
        ("tasks", sa.Column("task_date", sa.Date(), nullable=True)),
    ]


def upgrade() -> None:
    op.create_table(
        "milestone_favourites",
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestones.id"], ondelete="CASCADE",
                                name=op.f("fk_milestone_favourites_milestone_id_milestones")),
        sa.PrimaryKeyConstraint("milestone_id", name=op.f("pk_milestone_favourites")),
    )
    # Plain ALTER TABLE (no batch copy: re-creating a parent table on SQLite would fire the foreign keys
    # of the notes' links to it).
    for table, column in _columns():
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(_columns()):
        op.drop_column(table, column.name)  # SQLite ≥ 3.35 drops a column in place
    op.drop_table("milestone_favourites")
