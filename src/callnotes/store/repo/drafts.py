"""Drafts: server-side autosave of the note editor, keyed by a client-chosen string.

The editor picks a key when it opens (``note:<id>`` when editing, ``new:<uuid>`` for a new note,
kept in the URL or local storage) and saves to it every few seconds; after a crash the reopened tab
asks :func:`get_draft` with the same key. Saving the note then calls :func:`delete_draft`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ValidationError
from callnotes.store.limits import DRAFT_BODY_MAX, DRAFT_KEY_MAX
from callnotes.store.models import Customer, Draft
from callnotes.store.repo._common import required_text


@dataclass
class DraftInput:
    body: str = ""
    title: str = ""
    note_id: int | None = None
    customer_id: int | None = None
    call_date: date | None = None
    topics: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def save_draft(session: Session, key: str, data: DraftInput) -> Draft:
    """Create or replace the draft under ``key``. A customer that no longer exists is dropped from the
    draft (a stale pick is not worth losing the text over)."""
    key = required_text(key, "key", DRAFT_KEY_MAX)
    if len(data.body) > DRAFT_BODY_MAX:
        raise ValidationError(f"draft is longer than {DRAFT_BODY_MAX} characters", field="body")
    draft = session.scalar(select(Draft).where(Draft.key == key))
    if draft is None:
        draft = Draft(key=key)
        session.add(draft)
    draft.body, draft.title, draft.note_id = data.body, data.title, data.note_id
    customer_id = data.customer_id
    if customer_id is not None and session.get(Customer, customer_id) is None:
        customer_id = None
    draft.customer_id, draft.call_date = customer_id, data.call_date
    draft.topics, draft.extra = list(data.topics), dict(data.extra)
    draft.updated_at = utcnow()
    session.flush()
    return draft


def get_draft(session: Session, key: str) -> Draft | None:
    """The draft saved under ``key``, or None."""
    return session.scalar(select(Draft).where(Draft.key == key))


def list_drafts(session: Session, limit: int = 50) -> list[Draft]:
    """Drafts, most recently saved first (for the home page), each with its customer loaded."""
    stmt = (select(Draft).options(selectinload(Draft.customer))
            .order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def delete_draft(session: Session, key: str) -> bool:
    """Remove the draft under ``key``; False when there was none."""
    draft = get_draft(session, key)
    if draft is None:
        return False
    session.delete(draft)
    session.flush()
    return True
