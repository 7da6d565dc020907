"""The JSON API under ``/api`` (DESIGN.md §Contracts) and ``/healthz``.

State-changing calls need the CSRF token: ``GET /api/csrf`` answers it (and sets the cookie); send it
back as ``X-CSRF-Token`` with the cookie. See ``callnotes.web.csrf``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from callnotes import __version__
from callnotes.store.db import check_connection
from callnotes.store.errors import NotFound
from callnotes.store.limits import TOPIC_NAME_MAX
from callnotes.store.models import OutboxKind
from callnotes.store.repo.customers import CustomerInput, create_customer, get_customer, list_customers
from callnotes.store.repo.milestones import list_milestones
from callnotes.store.repo.notes import (
    NoteInput,
    NoteUpdate,
    create_note,
    delete_note,
    get_note,
    list_notes,
    update_note,
)
from callnotes.store.repo.outbox import TaskRequest, list_items, queue_note_tasks
from callnotes.store.search import SearchFilters
from callnotes.store.search import search as search_store
from callnotes.web.deps import SessionDep
from callnotes.web.errors import WebError
from callnotes.web.fields import PathId, QueryDate, QueryId
from callnotes.web.outbox_schemas import NoteCreated, NoteTaskOut
from callnotes.web.schemas import (
    Created,
    CsrfOut,
    CustomerCreate,
    CustomerOut,
    Health,
    MilestoneOut,
    NoteCreate,
    NoteOut,
    NotePatch,
    SearchResult,
    SearchResults,
)
from callnotes.web.writeback import drain_after_response
from callnotes.web.writeback import mode as writeback_mode

router = APIRouter()
api = APIRouter(prefix="/api", tags=["api"])
_Id = PathId
_OptId = QueryId


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(session: SessionDep) -> Health:
    check_connection(session)
    return Health(status="ok", version=__version__, database="ok")


@api.get("/csrf", response_model=CsrfOut)
def csrf(request: Request) -> CsrfOut:
    """A CSRF token for this client; the matching cookie is set on the same response."""
    return CsrfOut(csrf_token=request.state.csrf_token)


@api.get("/customers", response_model=list[CustomerOut])
def customers_list(
    session: SessionDep, q: Annotated[str | None, Query(max_length=200)] = None
) -> list[CustomerOut]:
    return [CustomerOut.of(s.customer) for s in list_customers(session, q)]


@api.post("/customers", response_model=Created, status_code=201)
def customers_create(session: SessionDep, body: CustomerCreate, response: Response) -> Created:
    customer = create_customer(session, CustomerInput(
        name=body.name, tpid=body.tpid or None, website=body.website or None,
        account_notes=body.account_notes or ""))
    response.headers["Location"] = f"/customers/{customer.id}"
    return Created(id=customer.id)


@api.get("/customers/{customer_id}", response_model=CustomerOut)
def customers_get(session: SessionDep, customer_id: _Id) -> CustomerOut:
    return CustomerOut.of(get_customer(session, customer_id))


@contextmanager
def _references() -> Iterator[None]:
    """An id in a request body that names no record is bad input (422), not a missing page (404)."""
    try:
        yield
    except NotFound as exc:
        raise WebError(f"{exc.kind}: {exc}", status_code=422, loc=("body", exc.kind),
                       kind="value_error") from exc


@api.get("/notes", response_model=list[NoteOut])
def notes_list(
    session: SessionDep,
    customer_id: _OptId = None,
    topic: Annotated[str | None, Query(max_length=TOPIC_NAME_MAX)] = None,
    date_from: QueryDate = None,
    date_to: QueryDate = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[NoteOut]:
    """Notes, newest first (call date, then creation)."""
    notes = list_notes(session, customer_id=customer_id, topic=topic or None, date_from=date_from,
                       date_to=date_to, limit=limit, offset=offset, with_milestones=True)
    return [NoteOut.of(note, with_html=False) for note in notes]


@api.post("/notes", response_model=NoteCreated, status_code=201)
def notes_create(session: SessionDep, body: NoteCreate, response: Response, request: Request,
                 background: BackgroundTasks) -> NoteCreated:
    """A note, and the tasks it logs in MSX queued in the same transaction (a bad task saves nothing)."""
    with _references():
        note = create_note(session, NoteInput(
            body=body.body, call_date=body.call_date, customer_id=body.customer_id, title=body.title or "",
            topics=body.topics, attendees=body.attendees, milestone_ids=body.milestone_ids))
    items = queue_note_tasks(session, note, [TaskRequest(**task.model_dump()) for task in body.tasks],
                             writeback_mode(request)) if body.tasks else []
    drain_after_response(request, background, items)
    response.headers["Location"] = f"/notes/{note.id}"
    return NoteCreated(id=note.id, outbox_ids=[item.id for item in items])


@api.get("/notes/{note_id}", response_model=NoteOut)
def notes_get(session: SessionDep, note_id: _Id) -> NoteOut:
    note = NoteOut.of(get_note(session, note_id))
    note.tasks = [
        NoteTaskOut(outbox_id=i.id, state=i.state.value, crm_id=i.crm_id, milestone_id=i.milestone_id,
                    category=i.payload.get("category"), subject=i.payload.get("subject"))
        for i in list_items(session, note_id=note.id) if i.kind is OutboxKind.CREATE_TASK]
    return note


@api.patch("/notes/{note_id}", response_model=NoteOut)
def notes_patch(session: SessionDep, note_id: _Id, body: NotePatch) -> NoteOut:
    get_note(session, note_id)  # an unknown note is a missing page (404), not a bad reference
    given = {name: getattr(body, name) for name in body.model_fields_set}
    if "title" in given:
        given["title"] = given["title"] or ""
    with _references():
        return NoteOut.of(update_note(session, note_id, NoteUpdate(**given)))


@api.delete("/notes/{note_id}", status_code=204)
def notes_delete(session: SessionDep, note_id: _Id) -> Response:
    delete_note(session, note_id)
    return Response(status_code=204)


@api.get("/search", response_model=SearchResults)
def search(
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    customer_id: _OptId = None,
    seller_id: _OptId = None,
    topic: Annotated[str | None, Query(max_length=TOPIC_NAME_MAX)] = None,
    date_from: QueryDate = None,
    date_to: QueryDate = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SearchResults:
    """Ranked results; ``snippet`` is HTML-escaped text with ``<mark>`` around the matches."""
    filters = SearchFilters(customer_id=customer_id, seller_id=seller_id, topic=topic or None,
                            date_from=date_from, date_to=date_to)
    hits = search_store(session, q, filters, limit=limit)
    return SearchResults(results=[SearchResult.model_validate(hit, from_attributes=True) for hit in hits])


@api.get("/milestones", response_model=list[MilestoneOut])
def milestones(
    session: SessionDep, customer_id: _OptId = None, mine: bool | None = None
) -> list[MilestoneOut]:
    """Every milestone (also those gone from MSX); ``mine`` = on my access team (true) or not (false)."""
    milestones = list_milestones(session, customer_id=customer_id, on_my_team=mine, include_gone=True,
                                 include_closed=True)
    return [MilestoneOut.of(m) for m in milestones]


router.include_router(api)
