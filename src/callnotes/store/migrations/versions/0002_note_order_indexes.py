"""Indexes for notes newest first: per customer (customer page) and overall (home, notes list).

``(customer_id, call_date, created_at, id)`` and ``(call_date, created_at, id)`` match the pages'
``ORDER BY call_date DESC, created_at DESC, id DESC`` (read backwards, so no sort step, and a
``LIMIT`` stops early). They replace the single-column indexes on ``customer_id`` and
``call_date``, which are their leading columns. Plain ``CREATE INDEX`` on both databases (no batch
table rebuild on SQLite, so the full-text triggers of 0001 stay as they are).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:35:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notes_customer_id_call_date", "notes",
                    ["customer_id", "call_date", "created_at", "id"])
    op.create_index("ix_notes_call_date_created_at", "notes", ["call_date", "created_at", "id"])
    op.drop_index("ix_notes_customer_id", table_name="notes")
    op.drop_index("ix_notes_call_date", table_name="notes")


def downgrade() -> None:
    op.create_index("ix_notes_call_date", "notes", ["call_date"])
    op.create_index("ix_notes_customer_id", "notes", ["customer_id"])
    op.drop_index("ix_notes_call_date_created_at", table_name="notes")
    op.drop_index("ix_notes_customer_id_call_date", table_name="notes")
