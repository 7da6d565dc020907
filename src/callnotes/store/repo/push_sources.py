"""The local records a push mapping reads, and the values a mapping may pull back into them.

`source_batch` reads one kind of record (customers, notes, tasks, milestones) in id order, a batch at
a time, with the related rows a mapping reads (a note's customer and topics, a milestone's customer and
opportunity, a task's milestone) loaded alongside. `apply_pulled` writes values a mapping brings back
from Dataverse (``direction = "pull"``) through the same limits as every other way in; a blank value
never overwrites a stored one.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.store import limits
from callnotes.store.errors import ValidationError
from callnotes.store.models import Customer, Milestone, Note, Task
from callnotes.store.repo._common import apply_changes, optional_text, required_text


class PushSource(StrEnum):
    CUSTOMERS = "customers"
    NOTES = "notes"
    TASKS = "tasks"
    MILESTONES = "milestones"


_MODELS: dict[PushSource, Any] = {
    PushSource.CUSTOMERS: Customer, PushSource.NOTES: Note, PushSource.TASKS: Task,
    PushSource.MILESTONES: Milestone,
}
_LOADS: dict[PushSource, tuple[Any, ...]] = {
    PushSource.CUSTOMERS: (selectinload(Customer.territory),),
    PushSource.NOTES: (selectinload(Note.customer), selectinload(Note.topics)),
    PushSource.TASKS: (selectinload(Task.milestone).selectinload(Milestone.customer),),
    PushSource.MILESTONES: (selectinload(Milestone.customer), selectinload(Milestone.opportunity)),
}
#: Local fields a mapping may pull into, with how each is checked (text limits of the store).
PULLABLE: Mapping[PushSource, Mapping[str, tuple[int, bool]]] = {
    PushSource.CUSTOMERS: {
        "name": (limits.CUSTOMER_NAME_MAX, True),
        "tpid": (limits.CUSTOMER_TPID_MAX, False),
        "website": (limits.CUSTOMER_WEBSITE_MAX, False),
        "account_notes": (limits.CUSTOMER_ACCOUNT_NOTES_MAX, False),
    },
    PushSource.NOTES: {"title": (limits.NOTE_TITLE_MAX, False)},
}
BATCH = 500


def source_batch(session: Session, kind: PushSource, *, after_id: int = 0, limit: int = BATCH) -> list[Any]:
    """Up to ``limit`` records of ``kind`` (ORM rows, related rows loaded) with ids above ``after_id``, in
    id order: a push reads a batch, closes the session, talks to the CRM, and asks for the next one."""
    model = _MODELS[kind]
    query = select(model).options(*_LOADS[kind]).where(model.id > after_id).order_by(model.id).limit(limit)
    return list(session.scalars(query))


def apply_pulled(session: Session, kind: PushSource, uid: str, values: Mapping[str, object]) -> bool:
    """Write pulled ``values`` (local field → value) into the record ``uid``; True when it changed.

    Only `PULLABLE` fields; blank values (None, empty text) are skipped; a value over a limit or not text
    raises `ValidationError` and changes nothing.
    """
    allowed = PULLABLE.get(kind, {})
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError(f"cannot pull into {kind.value}: {', '.join(unknown)}", field=unknown[0])
    model = _MODELS[kind]
    record = session.scalars(select(model).where(model.uid == uid)).first()
    if record is None:
        return False
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise ValidationError(f"{name} must be text, got {type(value).__name__}", field=name)
        limit, required = allowed[name]
        checked[name] = required_text(value, name, limit) if required else optional_text(value, name, limit)
    return apply_changes(record, checked)
