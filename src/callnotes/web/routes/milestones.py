"""The milestones page: milestones of my accounts, on my team, due soon or of one customer, each
with its MSX link and the join / leave access-team button (``POST /msx/milestones/{id}/team``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from callnotes.store.limits import MAX_ID
from callnotes.store.models import Milestone
from callnotes.store.repo.customers import list_customers_with_milestones
from callnotes.store.repo.milestones import list_milestones
from callnotes.web.deps import SessionDep, render

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
                  due_days=DUE_SOON_DAYS)
