"""Notes: CRUD and lists (newest first). Topics are given by name and created on the fly.

The rules every note keeps live here, and every way in goes through them (the editor's form, the JSON
API, the JSON backup import, the CSV import): field limits (``store.limits``, :func:`clean_note_fields`)
and "a note's milestones belong to its customer" (:func:`check_note`). A note made from a template
with no title typed is titled after the template (not after the template's first heading). Storing a
body re-reads its action items (``repo.action_items``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ValidationError
from callnotes.store.limits import (
    NOTE_ATTENDEE_MAX,
    NOTE_ATTENDEES_MAX,
    NOTE_BODY_MAX,
    NOTE_MILESTONES_MAX,
    NOTE_TITLE_MAX,
    NOTE_TOPICS_MAX,
)
from callnotes.store.models import Customer, Milestone, Note, NoteTemplate, Opportunity
from callnotes.store.repo._common import UNSET, apply_changes, get_or_raise, given_fields
from callnotes.store.repo.action_items import check_action_item_count, sync_action_items
from callnotes.store.repo.topics import get_or_create_topics, note_ids_with_topic

#: Changing one of these re-checks the note's links and counts (:func:`check_note`).
_LINKED = frozenset({"customer_id", "milestone_ids", "topics", "attendees"})
_LISTS = ("topics", "attendees", "milestone_ids", "opportunity_ids")


@dataclass
class NoteInput:
    """A new note. ``topics`` are names (created when missing); ids must exist."""

    body: str
    call_date: date
    customer_id: int | None = None
    title: str = ""
    topics: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)
    milestone_ids: list[int] = field(default_factory=list)
    opportunity_ids: list[int] = field(default_factory=list)
    #: The template the note was started from: its name is the title when none is typed.
    template_id: int | None = None


@dataclass
class NoteUpdate:
    """A partial change: fields left at their default are not touched (``customer_id=None`` clears it)."""

    body: str = UNSET
    call_date: date = UNSET
    customer_id: int | None = UNSET
    title: str = UNSET
    topics: list[str] = UNSET
    attendees: list[str] = UNSET
    milestone_ids: list[int] = UNSET
    opportunity_ids: list[int] = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


def clean_note_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (any of ``body``, ``title``, ``call_date``, ``attendees``) checked and normalised:
    title and attendees stripped, empty attendees dropped; :class:`ValidationError` names the field.
    Every way a note comes in goes through here (the repository, the JSON backup import)."""
    cleaned = dict(values)
    for name in _LISTS:
        if name in cleaned and not isinstance(cleaned[name], list | tuple):
            raise ValidationError(f"{name} must be a list", field=name)
    if "body" in cleaned:
        body = cleaned["body"]
        if not isinstance(body, str):
            raise ValidationError("body must be text", field="body")
        if len(body) > NOTE_BODY_MAX:
            raise ValidationError(f"body is longer than {NOTE_BODY_MAX} characters", field="body")
        check_action_item_count(body)
    if "title" in cleaned:
        cleaned["title"] = (cleaned["title"] or "").strip()
        if len(cleaned["title"]) > NOTE_TITLE_MAX:
            raise ValidationError(f"title is longer than {NOTE_TITLE_MAX} characters", field="title")
    if "call_date" in cleaned and not isinstance(cleaned["call_date"], date):
        raise ValidationError("call_date must be a date", field="call_date")
    if "attendees" in cleaned:
        if not all(isinstance(a, str) for a in cleaned["attendees"] if a is not None):
            raise ValidationError("attendees must be a list of text", field="attendees")
        cleaned["attendees"] = [a.strip() for a in cleaned["attendees"] if a and a.strip()]
        long = next((a for a in cleaned["attendees"] if len(a) > NOTE_ATTENDEE_MAX), None)
        if long is not None:
            raise ValidationError(f"an attendee is at most {NOTE_ATTENDEE_MAX} characters ({long[:40]!r}…)",
                                  field="attendees")
    return cleaned


def check_milestones_belong(note: Note) -> None:
    """A note's milestones belong to its customer (the editor's picker offers only those), so a note
    without a customer has none. :class:`ValidationError` otherwise."""
    if not note.milestones:
        return
    if note.customer_id is None:
        raise ValidationError("milestones can only be linked to a note with a customer", field="milestones")
    foreign = [str(m.id) for m in note.milestones if m.customer_id != note.customer_id]
    if foreign:
        raise ValidationError(
            f"milestone(s) {', '.join(foreign)} do not belong to this note's customer", field="milestones")


def check_note_counts(topics: int, attendees: int, milestones: int) -> None:
    """At most :data:`NOTE_TOPICS_MAX` topics, :data:`NOTE_ATTENDEES_MAX` attendees and
    :data:`NOTE_MILESTONES_MAX` milestones on one note."""
    for name, count, limit in (("topics", topics, NOTE_TOPICS_MAX),
                               ("attendees", attendees, NOTE_ATTENDEES_MAX),
                               ("milestones", milestones, NOTE_MILESTONES_MAX)):
        if count > limit:
            raise ValidationError(f"a note has at most {limit} {name}, not {count}", field=name)


def check_note(note: Note) -> None:
    """The rules a stored note keeps, whatever way it came in: the counts of
    :func:`check_note_counts`, and its milestones belong to its customer
    (:func:`check_milestones_belong`)."""
    check_note_counts(len(note.topics), len(note.attendees or []), len(note.milestones))
    check_milestones_belong(note)


def _apply(session: Session, note: Note, values: dict[str, Any]) -> None:
    recheck = not _LINKED.isdisjoint(values)
    if "customer_id" in values and values["customer_id"] is not None:
        get_or_raise(session, Customer, values["customer_id"], "customer")
    if "topics" in values:
        note.topics = get_or_create_topics(session, values.pop("topics"))
    if "milestone_ids" in values:
        note.milestones = [get_or_raise(session, Milestone, i, "milestone")
                           for i in dict.fromkeys(values.pop("milestone_ids"))]
    if "opportunity_ids" in values:
        note.opportunities = [get_or_raise(session, Opportunity, i, "opportunity")
                              for i in dict.fromkeys(values.pop("opportunity_ids"))]
    body_changed = "body" in values and values["body"] != note.body
    apply_changes(note, values)
    if recheck:
        check_note(note)
    if body_changed or note.id is None:
        sync_action_items(session, note, ticked_at=utcnow())


def _template_title(session: Session, values: dict[str, Any]) -> None:
    """No title typed, started from a template: the template's name is the title."""
    template_id = values.pop("template_id", None)
    if template_id is not None and not values.get("title"):
        values["title"] = get_or_raise(session, NoteTemplate, template_id, "template").name


def create_note(session: Session, data: NoteInput) -> Note:
    """Add a note. :class:`ValidationError` on bad fields or a milestone of another customer,
    :class:`NotFound` on unknown ids."""
    values = clean_note_fields({f.name: getattr(data, f.name) for f in fields(data)})
    _template_title(session, values)
    note = Note(body="", call_date=values["call_date"])
    session.add(note)
    _apply(session, note, values)
    session.flush()
    return note


def get_note(session: Session, note_id: int) -> Note:
    """The note (topics, customer, milestones loaded), or :class:`NotFound`."""
    note = session.scalar(
        select(Note).where(Note.id == note_id).options(
            selectinload(Note.topics), selectinload(Note.customer),
            selectinload(Note.milestones), selectinload(Note.opportunities))
    )
    if note is None:
        get_or_raise(session, Note, note_id, "note")
    assert note is not None
    return note


def update_note(session: Session, note_id: int, change: NoteUpdate) -> Note:
    """Apply the fields given in ``change``; ``updated_at`` moves only when something changed."""
    note = get_note(session, note_id)
    _apply(session, note, clean_note_fields(change.given()))
    session.flush()
    return note


def delete_note(session: Session, note_id: int) -> None:
    session.delete(get_note(session, note_id))
    session.flush()


def list_notes(
    session: Session,
    *,
    customer_id: int | None = None,
    topic: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = 100,
    offset: int = 0,
    with_milestones: bool = False,
) -> list[Note]:
    """Notes newest first (call date, then creation), optionally for one customer / topic / date range;
    topics and customer loaded (and milestones, when asked: one more query for the whole list)."""
    stmt = select(Note).options(selectinload(Note.topics), selectinload(Note.customer))
    if with_milestones:
        stmt = stmt.options(selectinload(Note.milestones))
    if customer_id is not None:
        stmt = stmt.where(Note.customer_id == customer_id)
    if topic:
        stmt = stmt.where(Note.id.in_(note_ids_with_topic(topic)))
    if date_from is not None:
        stmt = stmt.where(Note.call_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Note.call_date <= date_to)
    stmt = stmt.order_by(Note.call_date.desc(), Note.created_at.desc(), Note.id.desc()).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
