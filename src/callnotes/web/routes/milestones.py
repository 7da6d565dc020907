"""The milestones page (milestones of my accounts, on my team, due soon or of one customer, each with
its MSX link, its tasks and the join / leave access-team button; ticked ones join or leave at once)
and one milestone's page (its tasks, my changes on their way, the edit form). The changes themselves
go through the outbox: ``milestone_writes``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from callnotes.domain import MILESTONE_STATUSES
from callnotes.store.limits import MAX_ID
from callnotes.store.models import Milestone
from callnotes.store.repo.customers import list_customers_with_milestones
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.milestones import get_milestone, list_milestones
from callnotes.web.deps import SessionDep, checked_id, render
from callnotes.web.writeback import mode

router = APIRouter(include_in_schema=False)

#: Milestones dated within this many days count as "due soon" (here and on the home page).
DUE_SOON_DAYS = 30
#: The most milestones one page lists.
_PAGE_LIMIT = 500


class MilestoneView(StrEnum):
    MINE = "mine"  # every milestone of my accounts (the import brings only those)
    TEAM = "team"  # on my access team
    DUE = "due"  # dated within DUE_SOON_DAYS


def _milestones(
    session: Session, view: MilestoneView, customer_id: int | None = None, limit: int = _PAGE_LIMIT
) -> list[Milestone]:
    """Milestones still in MSX for ``view`` (the store's one listing and ordering)."""
    if view is MilestoneView.DUE:
        today = datetime.now(UTC).date()
        return list_milestones(session, customer_id=customer_id, due_from=today,
                               due_to=today + timedelta(days=DUE_SOON_DAYS), limit=limit)
    on_my_team = True if view is MilestoneView.TEAM else None
    return list_milestones(session, customer_id=customer_id, on_my_team=on_my_team, limit=limit)


def milestones_due(session: Session, limit: int = 15) -> list[Milestone]:
    return _milestones(session, MilestoneView.DUE, limit=limit)


@router.get("/milestones", response_class=HTMLResponse)
@router.get("/msx/milestones", response_class=HTMLResponse, include_in_schema=False)
def milestones_page(
    request: Request,
    session: SessionDep,
    show: MilestoneView = MilestoneView.MINE,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    milestones = _milestones(session, show, customer_id)
    return render(request, "milestones.html", active="milestones", milestones=milestones, show=show.value,
                  customer_id=customer_id, customers=list_customers_with_milestones(session),
                  due_days=DUE_SOON_DAYS,
                  activity=activity_of_milestones(session, [m.id for m in milestones]),
                  return_to=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
                  writeback_mode=mode(request).value)


def edit_fields(milestone: Milestone) -> dict[str, str]:
    """The edit form's fields with the milestone's values now (text, as the form shows them)."""
    monthly = milestone.monthly_use
    shown = "" if monthly is None else str(int(monthly)) if monthly.is_integer() else str(monthly)
    return {"milestone_date": milestone.milestone_date.isoformat() if milestone.milestone_date else "",
            "monthly_use": shown, "status": milestone.status_label or "", "comment": ""}


def milestone_page(request: Request, session: Session, milestone: Milestone, *, fields: dict[str, str],
                   errors: list[str] | None = None, status_code: int = 200) -> HTMLResponse:
    """One milestone: facts, tasks (imported and mine), my changes on their way, the edit form."""
    context: dict[str, Any] = {
        "m": milestone, "activity": activity_of_milestones(session, [milestone.id]), "fields": fields,
        "statuses": MILESTONE_STATUSES, "errors": errors or [], "writeback_mode": mode(request).value,
    }
    return render(request, "milestones/detail.html", status_code=status_code, active="milestones", **context)


@router.get("/milestones/{milestone_id}", response_class=HTMLResponse)
def milestone_detail(request: Request, session: SessionDep, milestone_id: int) -> HTMLResponse:
    milestone = get_milestone(session, checked_id(milestone_id, "milestone"))
    return milestone_page(request, session, milestone, fields=edit_fields(milestone))
