"""Deal-team membership mirrored (issue 9's opportunity controls): ``opportunities.on_my_team``.

True when the signed-in seller is on the opportunity's deal (access) team, as the MSX import and each
refresh read it from ``teammembership_association``; set by a landed join or leave. Existing rows
start False until the next import or refresh.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0009 (no batch copy of a table the notes link to).
    op.add_column("opportunities", sa.Column("on_my_team", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("opportunities", "on_my_team")
