"""The milestones page: milestones of my accounts, on my team, due soon or of one customer, each
with its MSX link and the join / leave access-team button (``POST /msx/milestones/{id}/team``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.models import Customer, Milestone
from callnotes.web.deps import SessionDep, render
from callnotes.web.schemas import MAX_ID

router = APIRouter(include_in_schema=False)

#: Milestones dated within this many days count as "due soon" (here and on the home page).
DUE_SOON_DAYS = 30


class MilestoneView(StrEnum):
    MINE = "mine"  # every milestone of my accounts (the import brings only those)
    TEAM = "team"  # on my access team
    DUE = "due"  # dated within DUE_SOON_DAYS


def milestone_query(
    view: MilestoneView = MilestoneView.MINE, customer_id: int | None = None
) -> Select[tuple[Milestone]]:
    """Milestones still in MSX for ``view``; mine on the team first, then by date."""
    query = (select(Milestone).options(selectinload(Milestone.customer))
             .where(Milestone.gone_from_msx_at.is_(None)))
    if view is MilestoneView.TEAM:
        query = query.where(Milestone.on_my_team.is_(True))
    elif view is MilestoneView.DUE:
        today = datetime.now(UTC).date()
        query = query.where(Milestone.milestone_date >= today,
                            Milestone.milestone_date <= today + timedelta(days=DUE_SOON_DAYS))
    if customer_id is not None:
        query = query.where(Milestone.customer_id == customer_id)
    return query.order_by(Milestone.on_my_team.desc(), Milestone.milestone_date.is_(None),
                          Milestone.milestone_date, Milestone.id)


def milestones_due(session: Session, limit: int = 15) -> list[Milestone]:
    return list(session.scalars(milestone_query(MilestoneView.DUE).limit(limit)))


def _customers_with_milestones(session: Session) -> list[Customer]:
    has = select(Milestone.customer_id).where(Milestone.gone_from_msx_at.is_(None))
    return list(session.scalars(select(Customer).where(Customer.id.in_(has)).order_by(Customer.name)))


@router.get("/milestones", response_class=HTMLResponse)
@router.get("/msx/milestones", response_class=HTMLResponse, include_in_schema=False)
def milestones_page(
    request: Request,
    session: SessionDep,
    show: MilestoneView = MilestoneView.MINE,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    milestones = list(session.scalars(milestone_query(show, customer_id).limit(500)))
    return render(request, "milestones.html", active="milestones", milestones=milestones, show=show.value,
                  customer_id=customer_id, customers=_customers_with_milestones(session),
                  due_days=DUE_SOON_DAYS)
