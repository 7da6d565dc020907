"""Read side of the MSX records: milestones, opportunities and tasks as the pages list them.

:func:`list_milestones` is the one milestone listing (the milestones page, "due soon" on the home page,
a customer's page, the editor's picker, ``GET /api/milestones``): one ordering, filters as parameters.
Closed milestones (Completed, Cancelled, Lost to Competitor, Hygiene/Duplicate: ``MILESTONE_CLOSED_LABELS``)
are left out unless asked for; :func:`is_open` / :func:`is_overdue` are the rules the pages show.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from callnotes.domain import MILESTONE_CLOSED_LABELS
from callnotes.store.models import Milestone, Opportunity, Task
from callnotes.store.repo._common import get_or_raise

#: ``statecode`` labels of an opportunity that is still being worked on.
OPEN_OPPORTUNITY_STATES = frozenset({"Open"})


def is_open(milestone: Milestone) -> bool:
    """Still needs work: no status, or one that is not closed (Completed, Cancelled, Lost…)."""
    return (milestone.status_label or "") not in MILESTONE_CLOSED_LABELS


def is_overdue(milestone: Milestone, today: date) -> bool:
    """Open and dated before ``today``: MSX still says "On Track" but the date has passed."""
    return is_open(milestone) and milestone.milestone_date is not None and milestone.milestone_date < today


def open_condition() -> Any:
    """SQL: the milestone is open (:func:`is_open`)."""
    return or_(Milestone.status_label.is_(None),
               Milestone.status_label.not_in(sorted(MILESTONE_CLOSED_LABELS)))


def overdue_condition(today: date) -> Any:
    """SQL: the milestone is overdue on ``today`` (:func:`is_overdue`)."""
    return open_condition() & (Milestone.milestone_date < today)


def get_milestone(session: Session, milestone_id: int) -> Milestone:
    """The milestone (opportunity, customer and tasks loaded), or :class:`NotFound`."""
    milestone = session.scalar(select(Milestone).where(Milestone.id == milestone_id).options(
        selectinload(Milestone.opportunity), selectinload(Milestone.customer), selectinload(Milestone.tasks)))
    return milestone if milestone is not None else get_or_raise(session, Milestone, milestone_id, "milestone")


def list_milestones(
    session: Session,
    *,
    customer_id: int | None = None,
    on_my_team: bool | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
    include_gone: bool = False,
    include_closed: bool = False,
    limit: int | None = None,
) -> list[Milestone]:
    """Open milestones still in MSX (``include_gone`` / ``include_closed`` add the others), those on my
    team first, then by date (undated last), name and id. "Due soon" is ``due_from=today,
    due_to=today + N days``."""
    stmt = select(Milestone).options(selectinload(Milestone.opportunity), selectinload(Milestone.customer))
    if customer_id is not None:
        stmt = stmt.where(Milestone.customer_id == customer_id)
    if on_my_team is not None:
        stmt = stmt.where(Milestone.on_my_team.is_(on_my_team))
    if due_from is not None:
        stmt = stmt.where(Milestone.milestone_date >= due_from)
    if due_to is not None:
        stmt = stmt.where(Milestone.milestone_date <= due_to)
    if not include_gone:
        stmt = stmt.where(Milestone.gone_from_msx_at.is_(None))
    if not include_closed:
        stmt = stmt.where(open_condition())
    stmt = stmt.order_by(Milestone.on_my_team.desc(), Milestone.milestone_date.is_(None),
                         Milestone.milestone_date, Milestone.name, Milestone.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def set_on_my_team(session: Session, milestone_id: int, on_my_team: bool) -> Milestone:
    """Record locally that I joined (True) or left (False) the milestone's access team in MSX."""
    milestone = get_or_raise(session, Milestone, milestone_id, "milestone")
    milestone.on_my_team = on_my_team
    session.flush()
    return milestone


def list_opportunities(session: Session, *, customer_id: int | None = None,
                       include_gone: bool = False, only_open: bool = False,
                       with_milestones: bool = True) -> list[Opportunity]:
    """Opportunities by name, with their milestones loaded unless not ``with_milestones``
    (``only_open``: still being worked on, nearest close date first)."""
    stmt = select(Opportunity)
    if with_milestones:
        stmt = stmt.options(selectinload(Opportunity.milestones))
    if customer_id is not None:
        stmt = stmt.where(Opportunity.customer_id == customer_id)
    if not include_gone:
        stmt = stmt.where(Opportunity.gone_from_msx_at.is_(None))
    if only_open:
        stmt = stmt.where(or_(Opportunity.state.is_(None),
                              Opportunity.state.in_(sorted(OPEN_OPPORTUNITY_STATES))))
        stmt = stmt.order_by(Opportunity.estimated_close_date.is_(None), Opportunity.estimated_close_date)
    return list(session.scalars(stmt.order_by(Opportunity.name, Opportunity.id)))


def list_tasks(session: Session, *, milestone_id: int | None = None,
               note_id: int | None = None) -> list[Task]:
    """Tasks, newest first, for a milestone and / or the note that caused them."""
    stmt = select(Task)
    if milestone_id is not None:
        stmt = stmt.where(Task.milestone_id == milestone_id)
    if note_id is not None:
        stmt = stmt.where(Task.note_id == note_id)
    return list(session.scalars(stmt.order_by(Task.created_at.desc(), Task.id.desc())))
