"""The note editor's form: parsing submitted fields, drafts, and the context the editor template needs."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from callnotes.config import env_overrides
from callnotes.domain import WritebackMode
from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.limits import (
    NOTE_MILESTONES_MAX,
    NOTE_TITLE_MAX,
    NOTE_TOPICS_MAX,
)
from callnotes.store.models import Customer, Draft, Milestone, Note
from callnotes.store.repo.customers import get_customer
from callnotes.store.repo.drafts import DraftInput
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.milestones import is_open, list_milestones
from callnotes.store.repo.notes import NoteInput, NoteUpdate
from callnotes.store.repo.outbox import TaskRequest
from callnotes.store.repo.templates import list_templates
from callnotes.store.repo.topics import list_topics
from callnotes.web.deps import id_or_none
from callnotes.web.task_form import (
    TaskForm,
    category_groups,
    task_requests,
    tasks_from_draft,
    tasks_from_form,
)

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_DRAFT_KEY = re.compile(rf"new:{_UUID}|note:[0-9]{{1,10}}")
#: Topic chips the editor offers: the most used ones.
EDITOR_TOPIC_CHIPS = 40
#: A draft keeps the attendees as typed (text), at most this much of it.
_ATTENDEES_TEXT_MAX = 5_000


def new_draft_key() -> str:
    return f"new:{uuid.uuid4()}"


def check_draft_key(key: str) -> str:
    """``key`` when it is one the editor makes (``new:<uuid>`` / ``note:<id>``), else ValidationError."""
    if not _DRAFT_KEY.fullmatch(key or ""):  # not ``match`` with ``$``: that allows a trailing "\n"
        raise ValidationError("invalid draft key", field="draft_key")
    return key


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _parse_id(text: str, label: str) -> int | None:
    """None for an empty field, else the id; :class:`ValidationError` when it is not one."""
    if not (text or "").strip():
        return None
    record_id = id_or_none(text)
    if record_id is None:
        raise ValidationError(f"{label} {text.strip()!r} is not a valid id", field=label)
    return record_id


@dataclass
class NoteForm:
    """The editor's fields as text, exactly as typed (so an error page gives every keystroke back)."""

    customer_id: str = ""
    title: str = ""
    body: str = ""
    call_date: str = ""
    topics: str = ""
    attendees: str = ""
    milestone_ids: list[str] = field(default_factory=list)
    draft_key: str = ""
    template_id: str = ""
    #: "Log a task in MSX" fields by milestone id (as typed).
    tasks: dict[str, TaskForm] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormData) -> NoteForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        return cls(
            customer_id=text("customer_id"), title=text("title"), body=text("body"),
            call_date=text("call_date"), topics=text("topics"), attendees=text("attendees"),
            milestone_ids=[v for v in form.getlist("milestone_ids") if isinstance(v, str)],
            draft_key=text("draft_key"), template_id=text("template_id"), tasks=tasks_from_form(form),
        )

    @classmethod
    def from_note(cls, note: Note) -> NoteForm:
        return cls(
            customer_id=str(note.customer_id or ""), title=note.title, body=note.body,
            call_date=note.call_date.isoformat(), topics=", ".join(t.name for t in note.topics),
            attendees=", ".join(note.attendees or []), milestone_ids=[str(m.id) for m in note.milestones],
            draft_key=f"note:{note.id}",
        )

    @classmethod
    def from_draft(cls, draft: Draft) -> NoteForm:
        extra = draft.extra or {}
        picked = extra.get("milestone_ids")
        return cls(
            customer_id=str(draft.customer_id or ""), title=draft.title, body=draft.body,
            call_date=draft.call_date.isoformat() if draft.call_date else "",
            topics=", ".join(draft.topics or []), attendees=str(extra.get("attendees", "")),
            milestone_ids=[str(i) for i in picked] if isinstance(picked, list) else [], draft_key=draft.key,
            tasks=tasks_from_draft(extra.get("tasks")),
        )

    def parsed_date(self) -> date:
        try:
            return date.fromisoformat(self.call_date.strip())
        except ValueError:
            raise ValidationError(
                f"call date {self.call_date!r} is not a date (YYYY-MM-DD)", field="call_date"
            ) from None

    def parsed_milestones(self) -> list[int]:
        """The linked milestones; a milestone a task is logged on is linked too."""
        ids = [i for i in (_parse_id(v, "milestone") for v in self.milestone_ids) if i is not None]
        logged = [int(key) for key, task in sorted(self.tasks.items()) if task.log]
        return ids + [i for i in logged if i not in ids]

    def task_requests(self) -> list[TaskRequest]:
        """The ticked tasks (`TaskErrors` names every field that cannot be read)."""
        return task_requests(self.tasks)

    def _fields(self) -> dict[str, Any]:
        return {
            "body": self.body, "call_date": self.parsed_date(), "title": self.title,
            "customer_id": _parse_id(self.customer_id, "customer"),
            "topics": _split(self.topics), "attendees": _split(self.attendees),
            "milestone_ids": self.parsed_milestones(),
        }

    def to_input(self) -> NoteInput:
        return NoteInput(**self._fields(), template_id=id_or_none(self.template_id))

    def to_update(self) -> NoteUpdate:
        return NoteUpdate(**self._fields())

    def to_draft(self, note_id: int | None) -> DraftInput:
        """A draft never fails on half-typed fields: what cannot be parsed yet is kept as text."""
        try:
            call_date: date | None = self.parsed_date()
        except ValidationError:
            call_date = None
        try:
            customer_id = _parse_id(self.customer_id, "customer")
            milestones = self.parsed_milestones()
        except ValidationError:
            customer_id, milestones = None, []
        return DraftInput(
            body=self.body, title=self.title[:NOTE_TITLE_MAX], note_id=note_id, customer_id=customer_id,
            call_date=call_date, topics=_split(self.topics)[:NOTE_TOPICS_MAX],
            extra={"attendees": self.attendees[:_ATTENDEES_TEXT_MAX],
                   "milestone_ids": milestones[:NOTE_MILESTONES_MAX],
                   "tasks": {key: task.to_draft() for key, task in self.tasks.items()}},
        )


def customer_milestones(session: Session, customer: Customer | None) -> list[Milestone]:
    """The editor's milestone picker: every milestone of ``customer``, open ones first (also those gone
    from MSX or closed, so saving a note keeps a link to one; the picker folds the closed away)."""
    if customer is None:
        return []
    return list_milestones(session, customer_id=customer.id, include_gone=True, include_closed=True)


def _picked_customer(session: Session, form: NoteForm) -> Customer | None:
    """The customer the form names, or None (no pick, a half-typed id, or a customer since deleted)."""
    try:
        customer_id = _parse_id(form.customer_id, "customer")
        return get_customer(session, customer_id) if customer_id else None
    except (ValidationError, NotFound):
        return None


def picker_context(
    session: Session, customer: Customer | None, mode: WritebackMode, form: NoteForm | None = None
) -> dict[str, Any]:
    """What the milestone picker (``notes/_milestones.html``) shows: the customer's milestones, which
    are linked, their tasks, and each one's "Log a task in MSX" fields in write-back ``mode``."""
    form = form or NoteForm()
    milestones = customer_milestones(session, customer)
    selected = {int(value) for value in form.milestone_ids if value.isdigit()}
    selected |= {int(key) for key, task in form.tasks.items() if task.log}
    closed = {m.id for m in milestones if not is_open(m) and m.id not in selected}
    milestones = sorted(milestones, key=lambda m: m.id in closed)  # folded away at the end
    return {
        "customer": customer, "milestones": milestones, "selected_milestones": selected,
        "closed_milestones": closed,
        "task_forms": form.tasks, "empty_task": TaskForm(), "categories": category_groups(),
        "writeback_mode": mode.value, "writeback_env": bool(env_overrides({"writeback"})),
        "activity": activity_of_milestones(session, [m.id for m in milestones]),
    }


def editor_context(
    session: Session, form: NoteForm, mode: WritebackMode, note: Note | None = None, **extra: Any
) -> dict[str, Any]:
    """Everything ``notes/edit.html`` needs to show ``form``."""
    customer = _picked_customer(session, form)
    if not form.call_date:
        form.call_date = datetime.now(UTC).date().isoformat()
    return {
        "active": "new" if note is None else "notes", "note": note, "form": form,
        "draft_key": form.draft_key, **picker_context(session, customer, mode, form),
        "templates": list_templates(session),
        "all_topics": [s.topic for s in list_topics(session, most_used=EDITOR_TOPIC_CHIPS)],
        "errors": [], "task_errors": {}, **extra,
    }


async def submitted_note_form(request: Request) -> NoteForm:
    """The editor's fields from the request body (read on the event loop, before any database work)."""
    return NoteForm.from_form(await request.form())


#: The submitted editor form, for sync routes (their database work then runs in a worker thread).
NoteFormDep = Annotated[NoteForm, Depends(submitted_note_form)]
