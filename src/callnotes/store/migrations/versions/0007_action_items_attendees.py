"""Action items (``- [ ] …`` lines of notes) and attendees one a row; attendees join the search context.

``action_items``: the follow-ups read from each note's Markdown (position, line, text, due, done,
done_at), with a full-text index. ``note_attendees``: each note's attendees, kept by triggers from
``notes.attendees``; the notes' search context now holds the attendees too (``fts_0007``).

Chained on 0006, the newest revision in main when this was merged (0005, issue 10's, is not in main
yet: when it lands, 0006 chains on it and this stays on 0006).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callnotes.store.migrations import fts_0007

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note_attendees",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("name_key", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name="fk_note_attendees_note_id_notes",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("note_id", "position", name="pk_note_attendees"),
    )
    op.create_index("ix_note_attendees_name_key", "note_attendees", ["name_key", "note_id"])
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name="fk_action_items_note_id_notes",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_action_items"),
    )
    op.create_index("ix_action_items_note_id", "action_items", ["note_id"])
    op.create_index("ix_action_items_done_due", "action_items", ["done", "due"])
    fts_0007.create(op.get_bind())
    _read_action_items()


def _read_action_items() -> None:
    """Existing notes' ``- [ ]`` lines become action items (the same parser the store uses)."""
    from callnotes.store.repo.action_items import backfill_action_items

    backfill_action_items(op.get_bind())


def downgrade() -> None:
    fts_0007.drop(op.get_bind())
    op.drop_index("ix_action_items_done_due", table_name="action_items")
    op.drop_index("ix_action_items_note_id", table_name="action_items")
    op.drop_table("action_items")
    op.drop_index("ix_note_attendees_name_key", table_name="note_attendees")
    op.drop_table("note_attendees")
