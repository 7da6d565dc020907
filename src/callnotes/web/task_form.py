"""The editor's "Log a task in MSX" controls: one set of fields per milestone of the note, kept as
typed (so a refused save gives every keystroke back, and a draft keeps them), turned into the store's
`TaskRequest` on save. The store decides what is valid; this module only reads the form.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from callnotes.domain import HOK_CATEGORIES, NON_HOK_CATEGORIES, TASK_DESCRIPTION_MAX_LENGTH, WritebackMode
from callnotes.store.errors import ValidationError
from callnotes.store.limits import NOTE_MILESTONES_MAX
from callnotes.store.models import Note, OutboxItem
from callnotes.store.repo.outbox import TaskRequest, queue_note_tasks
from callnotes.web.deps import id_or_none
from callnotes.web.outbox_schemas import MAX_TASKS_PER_NOTE

#: ``task_<field>_<milestone id>`` — the per-milestone task fields of the editor.
_FIELD = re.compile(r"^task_(subject|category|duration|due|description)_([0-9]{1,10})$")
#: What a draft keeps of one text field (more than any valid value: the save says what is wrong).
_DRAFT_TEXT_MAX = TASK_DESCRIPTION_MAX_LENGTH + 100
DEFAULT_DURATION = "60"


@dataclass
class TaskForm:
    """One milestone's task fields, as text; ``log`` is the "Log a task in MSX" box."""

    log: bool = False
    subject: str = ""
    category: str = ""
    duration: str = DEFAULT_DURATION
    due: str = ""
    description: str = ""

    def to_draft(self) -> dict[str, Any]:
        return {name: value[:_DRAFT_TEXT_MAX] if isinstance(value, str) else value
                for name, value in asdict(self).items()}

    @classmethod
    def from_draft(cls, saved: object) -> TaskForm:
        if not isinstance(saved, dict):
            return cls()
        text = {name: str(saved.get(name, "")) for name in ("subject", "category", "due", "description")}
        duration = str(saved.get("duration", DEFAULT_DURATION))
        return cls(log=saved.get("log") is True, duration=duration, **text)


def tasks_from_form(form: FormData) -> dict[str, TaskForm]:
    """Every milestone's task fields present in ``form`` (also those not ticked: nothing typed is lost)."""
    tasks: dict[str, TaskForm] = {}
    for key, value in form.multi_items():
        found = _FIELD.match(key)
        if found is None or not isinstance(value, str) or _milestone_key(found.group(2)) is None \
                or len(tasks) > NOTE_MILESTONES_MAX:
            continue
        setattr(tasks.setdefault(found.group(2), TaskForm()), found.group(1), value)
    for value in form.getlist("task_milestone_ids"):
        if isinstance(value, str) and _milestone_key(value) is not None:
            tasks.setdefault(value, TaskForm()).log = True
    return tasks


async def submitted_tasks(request: Request) -> dict[str, TaskForm]:
    """The task fields of the request body (read on the event loop, before any database work)."""
    return tasks_from_form(await request.form())


#: The submitted task fields, for sync routes (their database work then runs in a worker thread).
TaskFormsDep = Annotated[dict[str, TaskForm], Depends(submitted_tasks)]


def tasks_from_draft(saved: object) -> dict[str, TaskForm]:
    if not isinstance(saved, dict):
        return {}
    return {str(key): TaskForm.from_draft(value) for key, value in list(saved.items())[:NOTE_MILESTONES_MAX]
            if _milestone_key(str(key)) is not None}


def _milestone_key(text: str) -> int | None:
    """The milestone id a field name or draft key names (one a database can hold), else None."""
    return id_or_none(text) if text.isdigit() else None


def _number(text: str, what: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(f"{what} {text!r} is not a whole number", field=what)
    return int(text)


def task_request(milestone_id: int, task: TaskForm) -> TaskRequest:
    """One milestone's fields as the store's request (`ValidationError` for a field that is no value)."""
    if not task.category.strip():
        raise ValidationError("choose a task category", field="category")
    due = None
    if task.due.strip():
        try:
            due = date.fromisoformat(task.due.strip())
        except ValueError:
            raise ValidationError(f"due date {task.due!r} is not a date (YYYY-MM-DD)", field="due") from None
    return TaskRequest(
        milestone_id=milestone_id, category=_number(task.category, "category"),
        duration_minutes=_number(task.duration or DEFAULT_DURATION, "duration"),
        subject=task.subject.strip() or None, due=due, description=task.description.strip() or None)


def task_requests(tasks: dict[str, TaskForm]) -> list[TaskRequest]:
    """The ticked tasks as the store's requests, in milestone order; every field that cannot be read
    is named at once (`TaskErrors`), milestone by milestone."""
    ticked = sorted((int(key), task) for key, task in tasks.items() if task.log)
    if len(ticked) > MAX_TASKS_PER_NOTE:
        raise TaskErrors([TaskError(0, f"a note logs at most {MAX_TASKS_PER_NOTE} tasks at once "
                                       f"({len(ticked)} ticked)")])
    requests, errors = [], []
    for milestone_id, task in ticked:
        try:
            requests.append(task_request(milestone_id, task))
        except ValidationError as exc:
            errors.append(TaskError(milestone_id, str(exc)))
    if errors:
        raise TaskErrors(errors)
    return requests


@dataclass(frozen=True)
class TaskError:
    """What is wrong with the task on one milestone."""

    milestone_id: int
    message: str


class TaskErrors(ValidationError):
    """Tasks that cannot be queued; ``errors`` names each (per milestone where it applies)."""

    def __init__(self, errors: list[TaskError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in self.errors), field="tasks")


def queue_form_tasks(
    session: Session, note: Note, requests: list[TaskRequest], mode: WritebackMode
) -> list[OutboxItem]:
    """Queue the note's tasks (in its transaction); what the store refuses is named per milestone
    (`TaskErrors`: the caller rolls back, so no row and no note is kept). Write-back ``off`` raises
    the store's `WritebackOff` as it is."""
    items: list[OutboxItem] = []
    errors: list[TaskError] = []
    for request in requests:
        try:
            items += queue_note_tasks(session, note, [request], mode)
        except ValidationError as exc:
            errors.append(TaskError(request.milestone_id, str(exc)))
    if errors:
        raise TaskErrors(errors)
    return items


@dataclass(frozen=True)
class CategoryChoice:
    code: int
    label: str


def category_groups() -> list[tuple[str, list[CategoryChoice]]]:
    """The category picker: the eight hands-on-keyboard categories first (marked HoK), then the rest."""
    hok = [CategoryChoice(int(c), f"{c.label} (HoK)") for c in HOK_CATEGORIES]
    other = [CategoryChoice(int(c), c.label) for c in NON_HOK_CATEGORIES]
    return [("Hands-on-keyboard (HoK)", hok), ("Other categories", other)]
