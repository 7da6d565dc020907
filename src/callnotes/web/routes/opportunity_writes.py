"""Changes to opportunities in MSX, through the outbox: move the estimated close date, join or leave
the deal team. Each is queued in the request's transaction and a drain follows the commit; the
customer page's row shows the change on its way until it lands."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from callnotes.store.errors import StoreError, ValidationError
from callnotes.store.models import Opportunity, OutboxItem
from callnotes.store.repo.opportunity_writes import activity_of_opportunities, get_opportunity
from callnotes.store.repo.outbox import WritebackOff, queue_deal_team_change, queue_opportunity_close_date
from callnotes.web.deps import SessionDep, checked_id, render
from callnotes.web.errors import store_error_status
from callnotes.web.routes.outbox import CHANGED_EVENT
from callnotes.web.writeback import drain_after_response, mode

router = APIRouter(include_in_schema=False)
_Action = Annotated[Literal["join", "leave"], Form()]


def _close_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"close date {text!r} is not a date (YYYY-MM-DD)",
                              field="estimated_close_date") from None


def _writes(request: Request, session: Session, opportunity: Opportunity, *, error: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    activity = activity_of_opportunities(session, [opportunity.id])[opportunity.id]
    return render(request, "customers/_opportunity_writes.html", status_code=status_code, o=opportunity,
                  activity=activity, writeback_mode=mode(request).value, error=error)


def _queued(request: Request, session: Session, background: BackgroundTasks, opportunity: Opportunity,
            items: list[OutboxItem]) -> HTMLResponse:
    drain_after_response(request, background, items)
    response = _writes(request, session, opportunity)
    response.headers["HX-Trigger"] = CHANGED_EVENT
    return response


def _refused(request: Request, session: Session, opportunity_id: int, exc: StoreError) -> HTMLResponse:
    session.rollback()
    return _writes(request, session, get_opportunity(session, opportunity_id), error=str(exc),
                   status_code=store_error_status(exc))


@router.get("/opportunities/{opportunity_id:int}/writes", response_class=HTMLResponse)
def opportunity_writes(request: Request, session: SessionDep, opportunity_id: int) -> HTMLResponse:
    """The close-date and deal-team controls as they are now (reloaded when the outbox changes)."""
    return _writes(request, session, get_opportunity(session, checked_id(opportunity_id, "opportunity")))


@router.post("/opportunities/{opportunity_id:int}/close-date", response_class=HTMLResponse)
def move_close_date(request: Request, session: SessionDep, background: BackgroundTasks, opportunity_id: int,
                    close_date: Annotated[str, Form(max_length=40)] = "") -> HTMLResponse:
    """Queue a new estimated close date for MSX (one not sent yet is replaced)."""
    opportunity = get_opportunity(session, checked_id(opportunity_id, "opportunity"))
    try:
        items = queue_opportunity_close_date(session, opportunity.id, _close_date(close_date), mode(request))
    except (ValidationError, WritebackOff) as exc:
        return _refused(request, session, opportunity.id, exc)
    return _queued(request, session, background, opportunity, items)


@router.post("/opportunities/{opportunity_id:int}/deal-team", response_class=HTMLResponse)
def deal_team_change(request: Request, session: SessionDep, background: BackgroundTasks, opportunity_id: int,
                     action: _Action) -> HTMLResponse:
    """Join or leave the deal team through the outbox; the opposite of a change on its way cancels it."""
    opportunity = get_opportunity(session, checked_id(opportunity_id, "opportunity"))
    try:
        items = queue_deal_team_change(session, opportunity.id, action == "join", mode(request))
    except (ValidationError, WritebackOff) as exc:
        return _refused(request, session, opportunity.id, exc)
    return _queued(request, session, background, opportunity, items)
