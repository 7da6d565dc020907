"""Follow-ups: the action items (``- [ ] …`` lines) of every note in one list — overdue, this week,
later — searchable, ticked off in place (the note's Markdown changes with it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callnotes.store.models import ActionItem
from callnotes.store.repo.action_items import list_action_items, open_action_items, set_action_item_done
from callnotes.store.repo.customers import list_customers
from callnotes.store.search import SearchFilters, search
from callnotes.web.deps import SessionDep, checked_id, id_or_none, is_htmx, render

router = APIRouter(include_in_schema=False)
_ITEM_KINDS = frozenset({"action_item"})


def _today() -> datetime:
    return datetime.now(UTC)


@router.get("/follow-ups", response_class=HTMLResponse)
def follow_ups(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    customer: Annotated[str, Query(alias="customer_id", max_length=12)] = "",
    show: Annotated[str, Query(max_length=10)] = "open",
) -> HTMLResponse:
    """Open items grouped by when they are due; ``q`` searches them (full text); ``show=done``
    lists the ones ticked off."""
    customer_id = id_or_none(customer)
    matches: list[int] | None = None
    if q.strip():
        hits = search(session, q, SearchFilters(customer_id=customer_id, kinds=_ITEM_KINDS), limit=200)
        matches = [hit.id for hit in hits]
    today = _today().date()
    done = list_action_items(session, done=True, customer_id=customer_id, item_ids=matches, limit=200) \
        if show == "done" else []
    buckets = open_action_items(session, today, customer_id=customer_id, item_ids=matches)
    return render(request, "action_items.html", active="follow-ups", buckets=buckets, done=done, q=q,
                  customer_id=customer_id, show=show, today=today,
                  customers=[s.customer for s in list_customers(session)])


async def _tick(request: Request, session: SessionDep, item_id: int, done: bool) -> Response:
    item: ActionItem = set_action_item_done(session, checked_id(item_id, "action item"), done)
    if is_htmx(request):
        return render(request, "partials/action_item.html", item=item, today=_today().date(),
                      just_changed=True)
    return RedirectResponse(request.headers.get("referer") or "/follow-ups", status_code=303)


@router.post("/follow-ups/{item_id:int}/done", response_class=HTMLResponse)
async def tick_off(request: Request, session: SessionDep, item_id: int) -> Response:
    """Tick the item off: ``[ ]`` becomes ``[x]`` in its note."""
    return await _tick(request, session, item_id, True)


@router.post("/follow-ups/{item_id:int}/reopen", response_class=HTMLResponse)
async def reopen(request: Request, session: SessionDep, item_id: int) -> Response:
    return await _tick(request, session, item_id, False)


@router.get("/notes/{note_id:int}/action-items", response_class=HTMLResponse)
def note_action_items(request: Request, session: SessionDep, note_id: int) -> HTMLResponse:
    """The note page's follow-ups panel (loaded by htmx under the note)."""
    items = list_action_items(session, done=None, note_id=checked_id(note_id, "note"))
    return render(request, "partials/note_action_items.html", items=items, today=_today().date())
