"""The milestone tracker (filters that combine — fiscal quarter, status, commitment, workload,
customer, on my team, overdue, favourites —, closed ones hidden unless asked, sortable columns, paging,
the counts at risk / blocked / overdue; each row with its MSX link, its tasks and the join / leave
access-team button; ticked ones join or leave at once) and one milestone's page (its tasks, my changes
on their way, the edit form). The changes themselves go through the outbox: ``milestone_writes``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from callnotes.domain import MILESTONE_STATUSES, FiscalQuarter
from callnotes.store.errors import ValidationError
from callnotes.store.models import Milestone
from callnotes.store.repo.customers import list_customers_with_milestones
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.milestone_tracker import (
    COMMITMENTS,
    TrackerFilters,
    TrackerPage,
    TrackerSort,
    parse_filters,
    set_favourite,
    track_milestones,
    workloads,
)
from callnotes.store.repo.milestones import get_milestone, list_milestones
from callnotes.web.deps import SessionDep, checked_id, id_or_none, render
from callnotes.web.writeback import mode

router = APIRouter(include_in_schema=False)

#: Milestones dated within this many days count as "due soon" (here and on the home page).
DUE_SOON_DAYS = 30


class MilestoneView(StrEnum):
    """The older ``?show=`` links (home, bookmarks): each is a tracker filter now."""

    MINE = "mine"  # every milestone of my accounts (the import brings only those)
    TEAM = "team"  # on my access team
    DUE = "due"  # dated within DUE_SOON_DAYS


def milestones_due(session: Session, limit: int = 15) -> list[Milestone]:
    """The home page's "due soon": open milestones dated within DUE_SOON_DAYS (closed ones hidden)."""
    today = datetime.now(UTC).date()
    return list_milestones(session, due_from=today, due_to=today + timedelta(days=DUE_SOON_DAYS), limit=limit)


def _page_url(request: Request, **changes: object) -> str:
    """This page's URL with ``changes`` to its query string (None drops a parameter)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return "/milestones" + (f"?{urlencode(params)}" if params else "")


_Bool = Annotated[bool, Query()]
_SORTS = ((TrackerSort.TEAM.value, "On my team, then date"), (TrackerSort.DATE.value, "Date"),
          (TrackerSort.NAME.value, "Milestone"), (TrackerSort.CUSTOMER.value, "Customer"),
          (TrackerSort.STATUS.value, "Status"), (TrackerSort.COMMITMENT.value, "Commitment"),
          (TrackerSort.WORKLOAD.value, "Workload"), (TrackerSort.MONTHLY_USE.value, "Monthly use"))


@router.get("/milestones", response_class=HTMLResponse)
@router.get("/msx/milestones", response_class=HTMLResponse, include_in_schema=False)
def milestones_page(
    request: Request,
    session: SessionDep,
    show: MilestoneView = MilestoneView.MINE,
    customer: Annotated[str, Query(alias="customer_id", max_length=12)] = "",
    quarter: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[list[str] | None, Query(max_length=40)] = None,
    commitment: Annotated[str, Query(max_length=40)] = "",
    workload: Annotated[str, Query(max_length=300)] = "",
    team: _Bool = False,
    overdue: _Bool = False,
    favourites: _Bool = False,
    closed: _Bool = False,
    sort: TrackerSort = TrackerSort.TEAM,
    desc: _Bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The milestone tracker: filters in the query string (a shareable URL), checked by the store."""
    today = datetime.now(UTC).date()
    customer_id = id_or_none(customer)
    if customer.strip() and customer_id is None:
        raise ValidationError(f"customer {customer.strip()!r} is not a customer id", field="customer_id")
    errors: list[str] = []
    try:
        filters = parse_filters(
            quarter=quarter, statuses=status or [], commitment=commitment, workload=workload,
            customer_id=customer_id, on_my_team=team or show is MilestoneView.TEAM, overdue=overdue,
            favourites=favourites, due_within=DUE_SOON_DAYS if show is MilestoneView.DUE else None,
            show_closed=closed)
    except ValidationError as exc:
        errors.append(str(exc))
        filters = TrackerFilters(customer_id=customer_id)
    result = track_milestones(session, filters, today=today, sort=sort, descending=desc, page=page)
    context = _tracker_context(request, session, result, today)
    return render(request, "milestones.html", status_code=422 if errors else 200, active="milestones",
                  filters=filters, show=show.value, customer_id=customer_id, quarter=quarter, sort=sort.value,
                  desc=desc, errors=errors, **context)


def _tracker_context(request: Request, session: Session, result: TrackerPage, today: date) -> dict[str, Any]:
    """What the tracker shows besides its filters: rows, pickers, links, each row's activity."""
    return {
        "result": result, "milestones": result.milestones,
        "customers": list_customers_with_milestones(session),
        "workloads": workloads(session), "statuses": MILESTONE_STATUSES, "commitments": COMMITMENTS,
        "quarters": _quarters(today), "today": today, "due_days": DUE_SOON_DAYS, "sorts": _SORTS,
        "page_url": lambda **changes: _page_url(request, **changes),
        "activity": activity_of_milestones(session, [m.id for m in result.milestones]),
        "return_to": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        "writeback_mode": mode(request).value,
    }


def _quarters(today: date) -> list[FiscalQuarter]:
    """The quarter picker: last quarter, this one and the next four."""
    first = FiscalQuarter.of(today).previous()
    quarters = [first]
    for _ in range(5):
        quarters.append(quarters[-1].next())
    return quarters


@router.post("/milestones/{milestone_id}/favourite", response_class=HTMLResponse)
def milestone_favourite(
    request: Request, session: SessionDep, milestone_id: int, favourite: Annotated[bool, Form()] = True,
) -> HTMLResponse:
    """Star or unstar a milestone (htmx swaps the star button)."""
    starred = set_favourite(session, checked_id(milestone_id, "milestone"), favourite)
    return render(request, "milestones/_favourite.html", milestone_id=milestone_id, starred=starred)


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
