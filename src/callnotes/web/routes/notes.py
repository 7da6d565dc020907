"""Note pages: list, view, create, edit, delete. The editor's htmx helpers live in ``editor``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from callnotes.domain import WritebackMode
from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.limits import MAX_ID, TOPIC_NAME_MAX
from callnotes.store.models import Note, OutboxItem, OutboxKind
from callnotes.store.repo.drafts import delete_draft, get_draft, list_drafts
from callnotes.store.repo.notes import create_note, delete_note, get_note, list_notes, update_note
from callnotes.store.repo.outbox import WritebackOff, list_items
from callnotes.web.deps import SessionDep, checked_id, render
from callnotes.web.note_form import NoteForm, NoteFormDep, check_draft_key, editor_context, new_draft_key
from callnotes.web.task_form import TaskError, TaskErrors, queue_form_tasks
from callnotes.web.writeback import drain_after_response, mode

router = APIRouter(include_in_schema=False)
_PAGE = 50


@router.get("/notes", response_class=HTMLResponse)
def note_list(
    request: Request,
    session: SessionDep,
    topic: Annotated[str, Query(max_length=TOPIC_NAME_MAX)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    notes = list_notes(session, topic=topic or None, limit=_PAGE + 1, offset=(page - 1) * _PAGE)
    return render(request, "notes/list.html", active="notes", notes=notes[:_PAGE], topic=topic, page=page,
                  has_more=len(notes) > _PAGE)


@router.get("/notes/new", response_class=HTMLResponse)
def note_new(
    request: Request,
    session: SessionDep,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    draft: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    restored = None
    if draft.startswith("note:") and check_draft_key(draft):
        return RedirectResponse(f"/notes/{draft.split(':', 1)[1]}/edit", status_code=303)
    saved = get_draft(session, check_draft_key(draft)) if draft else None
    if saved is not None:
        form, restored = NoteForm.from_draft(saved), saved.updated_at
    else:
        form = NoteForm(customer_id=str(customer_id or ""), draft_key=draft or new_draft_key())
    other_drafts = [d for d in list_drafts(session, limit=10)
                    if d.key != form.draft_key and d.note_id is None]
    return render(request, "notes/edit.html", **editor_context(
        session, form, mode(request), restored=restored, has_draft=saved is not None,
        other_drafts=other_drafts))


def _save(
    session: Session, form: NoteForm, note_id: int | None, writeback: WritebackMode
) -> tuple[Note, list[OutboxItem]]:
    """The note and its tasks in one transaction: a task that cannot be read or queued saves nothing."""
    requests = form.task_requests()
    if note_id is None:
        note = create_note(session, form.to_input())
    else:
        note = update_note(session, note_id, form.to_update())
    items = queue_form_tasks(session, note, requests, writeback)
    if form.draft_key:
        delete_draft(session, check_draft_key(form.draft_key))
    return note, items


def _refused(request: Request, session: Session, form: NoteForm, note: Note | None, writeback: WritebackMode,
             errors: list[TaskError], status_code: int = 422) -> HTMLResponse:
    """The editor again, every field as typed (tasks included), with what is wrong; nothing is saved."""
    session.rollback()
    context = editor_context(session, form, writeback, note, has_draft=False)
    names = {m.id: m.name for m in context["milestones"]}
    context["errors"] = [f"Task on milestone '{names[e.milestone_id]}': {e.message}"
                         if e.milestone_id in names else e.message for e in errors]
    context["task_errors"] = {str(e.milestone_id): e.message for e in errors if e.milestone_id}
    return render(request, "notes/edit.html", status_code=status_code, **context)


def _submit(
    request: Request, session: Session, form: NoteForm, note: Note | None, background: BackgroundTasks
) -> Response:
    writeback = mode(request)
    try:
        saved, items = _save(session, form, note.id if note else None, writeback)
    except TaskErrors as exc:
        return _refused(request, session, form, note, writeback, exc.errors)
    except (ValidationError, NotFound) as exc:
        return _refused(request, session, form, note, writeback, [TaskError(0, str(exc))])
    except WritebackOff as exc:
        return _refused(request, session, form, note, writeback, [TaskError(0, str(exc))], status_code=409)
    drain_after_response(request, background, items)
    return RedirectResponse(f"/notes/{saved.id}", status_code=303)


@router.post("/notes", response_class=HTMLResponse)
def note_create(
    request: Request, form: NoteFormDep, session: SessionDep, background: BackgroundTasks
) -> Response:
    return _submit(request, session, form, None, background)


def _note_tasks(session: Session, note_id: int) -> list[OutboxItem]:
    """The tasks this note logs in MSX (every state), newest first."""
    return [item for item in list_items(session, note_id=note_id) if item.kind is OutboxKind.CREATE_TASK]


@router.get("/notes/{note_id:int}", response_class=HTMLResponse)
def note_view(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    note = get_note(session, checked_id(note_id, "note"))
    return render(request, "notes/view.html", active="notes", note=note, tasks=_note_tasks(session, note.id))


@router.get("/notes/{note_id:int}/tasks", response_class=HTMLResponse)
def note_tasks(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    """The note's tasks and their states (the note page reloads it when the outbox changes)."""
    note = get_note(session, checked_id(note_id, "note"))
    return render(request, "notes/_tasks.html", note=note, tasks=_note_tasks(session, note.id))


@router.get("/notes/{note_id:int}/edit", response_class=HTMLResponse)
def note_edit(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    note = get_note(session, checked_id(note_id, "note"))
    form, restored = NoteForm.from_note(note), None
    saved = get_draft(session, form.draft_key)
    if saved is not None and saved.updated_at >= note.updated_at:
        form, restored = NoteForm.from_draft(saved), saved.updated_at
    return render(request, "notes/edit.html", **editor_context(
        session, form, mode(request), note, restored=restored, has_draft=saved is not None,
        tasks=_note_tasks(session, note.id)))


@router.post("/notes/{note_id:int}", response_class=HTMLResponse)
def note_update(
    request: Request, form: NoteFormDep, session: SessionDep, background: BackgroundTasks, note_id: int
) -> Response:
    note = get_note(session, checked_id(note_id, "note"))
    return _submit(request, session, form, note, background)


@router.post("/notes/{note_id:int}/delete")
def note_delete(session: SessionDep, note_id: int) -> Response:
    delete_note(session, checked_id(note_id, "note"))
    delete_draft(session, f"note:{note_id}")
    return RedirectResponse("/notes", status_code=303)
