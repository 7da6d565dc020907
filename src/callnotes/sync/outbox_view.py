"""The outbox in the shape the JSON API and ``callnotes outbox`` show it (DESIGN.md §Contracts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from callnotes.config import load_settings
from callnotes.store import session_scope
from callnotes.store.models import OutboxItem, OutboxState
from callnotes.store.repo import outbox
from callnotes.sync.runtime import open_runtime

#: What ``callnotes outbox`` lists without ``--all``.
OPEN_STATES = (OutboxState.AWAITING_APPROVAL, OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)
_DECISIONS = {"approve": outbox.approve, "discard": outbox.discard, "retry": outbox.retry}


def row_dict(item: OutboxItem) -> dict[str, Any]:
    """``{"id", "kind", "state", "summary", "attempts", "last_error", "crm_id", "note_id",
    "milestone_id", "created_at", "sent_at"}`` (datetimes as ISO 8601 UTC)."""
    return {
        "id": item.id, "kind": item.kind.value, "state": item.state.value, "summary": outbox.describe(item),
        "attempts": item.attempts, "last_error": item.last_error, "crm_id": item.crm_id,
        "note_id": item.note_id, "milestone_id": item.milestone_id,
        "created_at": item.created_at.isoformat(),
        "sent_at": item.sent_at.isoformat() if item.sent_at else None,
    }


def rows(session: Session, *, states: Sequence[OutboxState] | None = None) -> list[dict[str, Any]]:
    return [row_dict(item) for item in outbox.list_items(session, states=states)]


def outbox_rows(*, all_rows: bool) -> list[dict[str, Any]]:
    """The CLI's listing: open rows (or all), newest first."""
    with open_runtime(load_settings()) as runtime, runtime.session_factory() as session:
        return rows(session, states=None if all_rows else OPEN_STATES)


def decide(verb: str, item_ids: Sequence[int] | None) -> list[int]:
    """``approve`` / ``discard`` / ``retry`` rows (None: every row it applies to); a drain follows."""
    with open_runtime(load_settings()) as runtime:
        with session_scope(runtime.session_factory) as session:
            changed = [item.id for item in _DECISIONS[verb](session, item_ids)]
        if changed and verb != "discard":
            runtime.queue.enqueue_drain()
    return changed
