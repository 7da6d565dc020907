"""htmx helpers of the note editor: autosaved drafts, Markdown preview, customer autocomplete,
milestone picker and template insertion. All answer HTML fragments."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callnotes.store.limits import DRAFT_KEY_MAX, MAX_ID, NOTE_BODY_MAX, NOTE_TITLE_MAX
from callnotes.store.models import Customer
from callnotes.store.repo.attendees import attendee_suggestions
from callnotes.store.repo.customers import find_customers, get_customer
from callnotes.store.repo.drafts import delete_draft, save_draft
from callnotes.store.repo.notes import get_note
from callnotes.store.repo.templates import get_template
from callnotes.web.deps import SessionDep, checked_id, id_or_none, render
from callnotes.web.markdown import render_markdown
from callnotes.web.note_form import NoteForm, NoteFormDep, check_draft_key, picker_context
from callnotes.web.writeback import mode

router = APIRouter(prefix="/editor", include_in_schema=False)


@router.post("/draft", response_class=HTMLResponse)
def draft_save(form: NoteFormDep, session: SessionDep) -> HTMLResponse:
    """Autosave: store the editor's fields under its draft key; answers the status line."""
    key = check_draft_key(form.draft_key)
    note_id = int(key.split(":", 1)[1]) if key.startswith("note:") else None
    if note_id is not None:
        get_note(session, checked_id(note_id, "note"))  # the note was deleted meanwhile: 404
    draft = save_draft(session, key, form.to_draft(note_id))
    when = draft.updated_at.strftime("%H:%M:%S UTC")
    response = HTMLResponse(f"Draft saved {when}")
    if note_id is None:  # a reopened or restored tab comes back to this draft
        response.headers["HX-Replace-Url"] = f"/notes/new?draft={quote(key)}"
    return response


@router.post("/draft/discard")
def draft_discard(session: SessionDep, draft_key: Annotated[str, Form(max_length=DRAFT_KEY_MAX)]) -> Response:
    key = check_draft_key(draft_key)
    delete_draft(session, key)
    target = f"/notes/{key.split(':', 1)[1]}" if key.startswith("note:") else "/notes/new"
    return RedirectResponse(target, status_code=303)


@router.post("/preview", response_class=HTMLResponse)
def preview(body: Annotated[str, Form(max_length=NOTE_BODY_MAX)] = "") -> HTMLResponse:
    """The body rendered exactly as the note page will show it (sanitised)."""
    html = str(render_markdown(body))
    return HTMLResponse(html or '<p class="empty">Nothing to preview yet.</p>')


@router.get("/customers", response_class=HTMLResponse)
def customer_suggestions(
    request: Request, session: SessionDep, customer_q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    customers = find_customers(session, customer_q, limit=10)
    return render(request, "notes/_customer_suggestions.html", customers=customers, query=customer_q)


@router.get("/customer", response_class=HTMLResponse)
def customer_pick(
    request: Request, session: SessionDep, customer_id: Annotated[int, Query(ge=1, le=MAX_ID)]
) -> HTMLResponse:
    """The customer field with the pick made, plus (out of band) that customer's milestone picker and
    attendee suggestions (its account team)."""
    customer: Customer = get_customer(session, customer_id)
    response = render(request, "notes/_customer_picked.html", picked=True,
                      suggestions=attendee_suggestions(session, customer.id),
                      **picker_context(session, customer, mode(request)))
    response.headers["HX-Trigger"] = "editor-changed"
    return response


@router.post("/template", response_class=HTMLResponse)
def template_insert(
    request: Request,
    session: SessionDep,
    template_id: Annotated[str, Form(max_length=12)] = "",
    body: Annotated[str, Form(max_length=NOTE_BODY_MAX)] = "",
    title: Annotated[str, Form(max_length=NOTE_TITLE_MAX)] = "",
) -> HTMLResponse:
    """The body textarea with the chosen template appended (nothing typed is replaced); with no title
    typed yet, the title field (out of band) gets the template's name — not its first heading."""
    chosen = id_or_none(template_id)
    template_name = None
    if chosen is not None:
        template = get_template(session, chosen)
        template_name = template.name if not title.strip() else None
        body = f"{body.rstrip()}\n\n{template.body}" if body.strip() else template.body
    response = render(request, "notes/_body.html", form=NoteForm(body=body), title_value=template_name,
                      oob=True)
    response.headers["HX-Trigger"] = "editor-changed"
    return response


@router.get("/attendees", response_class=HTMLResponse)
def attendee_picks(
    request: Request,
    session: SessionDep,
    customer_id: Annotated[str, Query(max_length=12)] = "",
    attendees: Annotated[str, Query(max_length=5000)] = "",
) -> HTMLResponse:
    """Suggested attendees: the customer's account team, then who came to its calls; what is being
    typed after the last comma narrows them."""
    parts = attendees.split(",")
    suggestions = attendee_suggestions(session, id_or_none(customer_id), parts[-1], taken=parts[:-1])
    return render(request, "notes/_attendee_suggestions.html", suggestions=suggestions)
