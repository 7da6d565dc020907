"""The milestone tracker: filters that combine, sortable columns, paging, favourites and the counts
"at risk / blocked / overdue" at a glance.

:class:`TrackerFilters` is what the tracker's query string says, checked here (a bad value is a
:class:`ValidationError` naming the field); :func:`track_milestones` answers one page. Closed milestones
(``MILESTONE_CLOSED_LABELS``) are left out unless ``show_closed``; milestones gone from MSX never show.
A fiscal quarter is Microsoft's (``domain.FiscalQuarter``: the year starts on 1 July).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from callnotes.domain import MILESTONE_CLOSED_LABELS, MILESTONE_STATUSES, FiscalQuarter
from callnotes.store.errors import ValidationError
from callnotes.store.models import Customer, Milestone, MilestoneFavourite
from callnotes.store.repo._common import get_or_raise, like_contains, page_count
from callnotes.store.repo.milestones import is_overdue, open_condition, overdue_condition

#: Commitment labels (``msp_commitmentrecommendation``, as MSX shows them).
COMMITMENTS = ("Uncommitted", "Committed", "Committed at Risk")
#: Rows on one page of the tracker, and the most a page may ask for.
PER_PAGE = 50
MAX_PER_PAGE = 200
_TEXT_MAX = 300


class TrackerSort(StrEnum):
    """The tracker's sortable columns (``team``: on my team first, then by date — the default)."""

    TEAM = "team"
    DATE = "date"
    NAME = "name"
    CUSTOMER = "customer"
    STATUS = "status"
    COMMITMENT = "commitment"
    WORKLOAD = "workload"
    MONTHLY_USE = "monthly_use"


@dataclass(frozen=True)
class TrackerFilters:
    """Filters that combine (each one narrows the others' result). ``due_within`` = dated from today to
    today + that many days (the home page's "due soon")."""

    quarter: FiscalQuarter | None = None
    statuses: tuple[str, ...] = ()
    commitment: str | None = None
    workload: str | None = None
    customer_id: int | None = None
    on_my_team: bool = False
    overdue: bool = False
    favourites: bool = False
    due_within: int | None = None
    show_closed: bool = False


@dataclass(frozen=True)
class TrackerCounts:
    """Open milestones of the filtered set (whatever the status and overdue filters say)."""

    at_risk: int = 0
    blocked: int = 0
    overdue: int = 0


@dataclass
class TrackerPage:
    milestones: list[Milestone]
    total: int
    page: int
    per_page: int
    counts: TrackerCounts
    favourite_ids: set[int] = field(default_factory=set)
    overdue_ids: set[int] = field(default_factory=set)

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def parse_filters(
    *, quarter: str = "", statuses: list[str] | tuple[str, ...] = (), commitment: str = "",
    workload: str = "",
    customer_id: int | None = None, on_my_team: bool = False, overdue: bool = False,
    favourites: bool = False, due_within: int | None = None, show_closed: bool = False,
) -> TrackerFilters:
    """The filters from text as typed or shared in a URL; :class:`ValidationError` names what is wrong."""
    fiscal = None
    if quarter.strip():
        try:
            fiscal = FiscalQuarter.parse(quarter)
        except ValueError as exc:
            raise ValidationError(f"{exc} (e.g. FY26-Q2)", field="quarter") from None
    picked = tuple(dict.fromkeys(s.strip() for s in statuses if s.strip()))
    unknown = [s for s in picked if s not in MILESTONE_STATUSES]
    if unknown:
        raise ValidationError(f"unknown milestone status {unknown[0]!r}; use one of "
                              f"{', '.join(MILESTONE_STATUSES)}", field="status")
    if commitment.strip() and commitment.strip() not in COMMITMENTS:
        raise ValidationError(f"unknown commitment {commitment.strip()!r}; use one of "
                              f"{', '.join(COMMITMENTS)}",
                              field="commitment")
    if len(workload) > _TEXT_MAX:
        raise ValidationError(f"the workload filter holds at most {_TEXT_MAX} characters", field="workload")
    if due_within is not None and not 0 <= due_within <= 3660:
        raise ValidationError("due within is a number of days between 0 and 3660", field="due_within")
    return TrackerFilters(
        quarter=fiscal, statuses=picked, commitment=commitment.strip() or None,
        workload=workload.strip() or None, customer_id=customer_id, on_my_team=on_my_team, overdue=overdue,
        favourites=favourites, due_within=due_within,
        show_closed=show_closed or any(s in MILESTONE_CLOSED_LABELS for s in picked))


def _where(stmt: Any, filters: TrackerFilters, today: date, *, with_status: bool = True) -> Any:
    """``stmt`` (a select over milestones) narrowed by ``filters``; without ``with_status`` the status,
    closed and overdue filters give way to "open" (the counts at a glance)."""
    stmt = stmt.where(Milestone.gone_from_msx_at.is_(None))
    if filters.quarter is not None:
        stmt = stmt.where(Milestone.milestone_date.between(filters.quarter.start, filters.quarter.end))
    if filters.commitment:
        stmt = stmt.where(Milestone.commitment == filters.commitment)
    if filters.workload:
        stmt = stmt.where(func.lower(Milestone.workload).like(like_contains(filters.workload.lower()),
                                                               escape="\\"))
    if filters.customer_id is not None:
        stmt = stmt.where(Milestone.customer_id == filters.customer_id)
    if filters.on_my_team:
        stmt = stmt.where(Milestone.on_my_team.is_(True))
    if filters.favourites:
        stmt = stmt.where(Milestone.id.in_(select(MilestoneFavourite.milestone_id)))
    if filters.due_within is not None:
        stmt = stmt.where(Milestone.milestone_date.between(today, today + timedelta(days=filters.due_within)))
    if not with_status:
        return stmt.where(open_condition())
    if filters.statuses:
        stmt = stmt.where(Milestone.status_label.in_(filters.statuses))
    if not filters.show_closed:
        stmt = stmt.where(open_condition())
    if filters.overdue:
        stmt = stmt.where(overdue_condition(today))
    return stmt


def _order(sort: TrackerSort, descending: bool) -> list[Any]:
    if sort is TrackerSort.TEAM:
        first = Milestone.on_my_team.asc() if descending else Milestone.on_my_team.desc()
        return [first, Milestone.milestone_date.is_(None), Milestone.milestone_date, Milestone.name,
                Milestone.id]
    columns: dict[TrackerSort, Any] = {
        TrackerSort.DATE: Milestone.milestone_date, TrackerSort.NAME: func.lower(Milestone.name),
        TrackerSort.CUSTOMER: func.lower(Customer.name), TrackerSort.STATUS: Milestone.status_label,
        TrackerSort.COMMITMENT: Milestone.commitment, TrackerSort.WORKLOAD: func.lower(Milestone.workload),
        TrackerSort.MONTHLY_USE: Milestone.monthly_use,
    }
    column = columns[sort]
    return [column.is_(None), column.desc() if descending else column.asc(), Milestone.milestone_date,
            Milestone.name, Milestone.id]


def _counts(session: Session, filters: TrackerFilters, today: date) -> TrackerCounts:
    base = _where(select(Milestone.status_label, func.count()), filters, today, with_status=False)
    rows = session.execute(base.group_by(Milestone.status_label))
    by_status: dict[str | None, int] = {label: n for label, n in rows}
    overdue = session.scalar(_where(select(func.count()).select_from(Milestone), filters, today,
                                    with_status=False).where(overdue_condition(today))) or 0
    return TrackerCounts(at_risk=by_status.get("At Risk", 0), blocked=by_status.get("Blocked", 0),
                         overdue=overdue)


def track_milestones(
    session: Session, filters: TrackerFilters, *, today: date, sort: TrackerSort | str = TrackerSort.TEAM,
    descending: bool = False, page: int = 1, per_page: int = PER_PAGE,
) -> TrackerPage:
    """One page of the milestones ``filters`` select (customer and opportunity loaded), sorted by
    ``sort`` (empty values last, then by date and name), with the total and the counts at a glance."""
    try:
        sort = TrackerSort(sort)
    except ValueError:
        raise ValidationError(f"cannot sort by {sort!r}; use one of {', '.join(TrackerSort)}",
                              field="sort") from None
    if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
        raise ValidationError(f"a page is 1 or more, with 1 to {MAX_PER_PAGE} rows", field="page")
    total = session.scalar(_where(select(func.count()).select_from(Milestone), filters, today)) or 0
    stmt = _where(select(Milestone).outerjoin(Customer, Customer.id == Milestone.customer_id), filters, today)
    stmt = (stmt.options(selectinload(Milestone.customer), selectinload(Milestone.opportunity))
            .order_by(*_order(sort, descending)).limit(per_page).offset((page - 1) * per_page))
    milestones = list(session.scalars(stmt))
    return TrackerPage(milestones, total, page, per_page, _counts(session, filters, today),
                       favourite_ids(session, [m.id for m in milestones]),
                       {m.id for m in milestones if is_overdue(m, today)})


def favourite_ids(session: Session, milestone_ids: list[int]) -> set[int]:
    """Which of ``milestone_ids`` are favourites."""
    if not milestone_ids:
        return set()
    return set(session.scalars(select(MilestoneFavourite.milestone_id)
                               .where(MilestoneFavourite.milestone_id.in_(milestone_ids))))


def set_favourite(session: Session, milestone_id: int, favourite: bool) -> bool:
    """Star (True) or unstar a milestone; :class:`NotFound` for an unknown one. Answers the new state;
    doing it twice is the same as once."""
    get_or_raise(session, Milestone, milestone_id, "milestone")
    if not favourite:
        session.execute(delete(MilestoneFavourite).where(MilestoneFavourite.milestone_id == milestone_id))
    elif session.get(MilestoneFavourite, milestone_id) is None:
        session.add(MilestoneFavourite(milestone_id=milestone_id))
    session.flush()
    return favourite


def workloads(session: Session) -> list[str]:
    """The workloads of the milestones still in MSX, A→Z (the tracker's workload picker)."""
    stmt = (select(Milestone.workload)
            .where(Milestone.workload.is_not(None), Milestone.gone_from_msx_at.is_(None))
            .distinct().order_by(Milestone.workload))
    return [w for w in session.scalars(stmt) if w]
