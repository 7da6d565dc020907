"""Note pages: list, view, create, edit, delete. The editor's htmx helpers live in ``editor``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.limits import MAX_ID, TOPIC_NAME_MAX
from callnotes.store.models import Note
from callnotes.store.repo.drafts import delete_draft, get_draft, list_drafts
from callnotes.store.repo.notes import create_note, delete_note, get_note, list_notes, update_note
from callnotes.web.deps import SessionDep, checked_id, render
from callnotes.web.note_form import NoteForm, NoteFormDep, check_draft_key, editor_context, new_draft_key

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
        session, form, restored=restored, has_draft=saved is not None, other_drafts=other_drafts))


def _save(session: Session, form: NoteForm, note_id: int | None) -> Note:
    if note_id is None:
        note = create_note(session, form.to_input())
    else:
        note = update_note(session, note_id, form.to_update())
    if form.draft_key:
        delete_draft(session, check_draft_key(form.draft_key))
    return note


def _submit(request: Request, session: Session, form: NoteForm, note: Note | None) -> Response:
    try:
        saved = _save(session, form, note.id if note else None)
    except (ValidationError, NotFound) as exc:
        session.rollback()
        context = editor_context(session, form, note, errors=[str(exc)], has_draft=False)
        return render(request, "notes/edit.html", status_code=422, **context)
    return RedirectResponse(f"/notes/{saved.id}", status_code=303)


@router.post("/notes", response_class=HTMLResponse)
def note_create(request: Request, form: NoteFormDep, session: SessionDep) -> Response:
    return _submit(request, session, form, None)


@router.get("/notes/{note_id}", response_class=HTMLResponse)
def note_view(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    note = get_note(session, checked_id(note_id, "note"))
    return render(request, "notes/view.html", active="notes", note=note)


@router.get("/notes/{note_id}/edit", response_class=HTMLResponse)
def note_edit(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    note = get_note(session, checked_id(note_id, "note"))
    form, restored = NoteForm.from_note(note), None
    saved = get_draft(session, form.draft_key)
    if saved is not None and saved.updated_at >= note.updated_at:
        form, restored = NoteForm.from_draft(saved), saved.updated_at
    return render(request, "notes/edit.html", **editor_context(
        session, form, note, restored=restored, has_draft=saved is not None))


@router.post("/notes/{note_id}", response_class=HTMLResponse)
def note_update(request: Request, form: NoteFormDep, session: SessionDep, note_id: int) -> Response:
    note = get_note(session, checked_id(note_id, "note"))
    return _submit(request, session, form, note)


@router.post("/notes/{note_id}/delete")
def note_delete(session: SessionDep, note_id: int) -> Response:
    delete_note(session, checked_id(note_id, "note"))
    delete_draft(session, f"note:{note_id}")
    return RedirectResponse("/notes", status_code=303)
