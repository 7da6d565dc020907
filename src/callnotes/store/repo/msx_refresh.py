"""The store side of the incremental MSX refresh: what the mirror holds (the refresh's scope), the
per-table watermarks (``msx_watermarks``) and the "on my team" flags of milestones.

Watermarks only move forward: :func:`save_watermarks` keeps the greater of the stored and the new
``modifiedon`` and writes a row only when something in it differs, so a refresh that found nothing
writes nothing. Each function flushes at most; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.models import (
    Customer,
    Milestone,
    MsxWatermark,
    Opportunity,
    Seller,
    SolutionEngineer,
    Task,
    Territory,
    customer_sellers,
    customer_solution_engineers,
)
from callnotes.store.repo._common import in_chunks

#: The watermark row that keeps the signed-in user's ``systemuserid`` (its ``value``).
ME = "me"
#: The opportunity state the import stores for open opportunities.
OPEN = "Open"


@dataclass(frozen=True)
class Mark:
    """One table's watermark: greatest server ``modifiedon`` seen, rows in scope, a kept text."""

    modified_on: datetime | None = None
    row_count: int | None = None
    value: str | None = None


@dataclass
class MirrorScope:
    """MSX ids the mirror holds and has not marked gone, by kind: what a refresh looks after."""

    accounts: set[str] = field(default_factory=set)
    territories: set[str] = field(default_factory=set)
    open_opportunities: set[str] = field(default_factory=set)
    opportunities: set[str] = field(default_factory=set)
    milestones: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    #: (account id, user id, "seller" | "se"): the account teams as the mirror holds them.
    team_links: set[tuple[str, str, str]] = field(default_factory=set)


def _live_ids(session: Session, model: Any, *conditions: ColumnElement[bool]) -> set[str]:
    query = select(model.msx_id).where(model.msx_id.is_not(None), model.gone_from_msx_at.is_(None),
                                       *conditions)
    return {i for i in session.scalars(query) if i}


def mirror_scope(session: Session) -> MirrorScope:
    """The live MSX records of the mirror; tasks only those regarding a live milestone."""
    live_milestones = select(Milestone.id).where(Milestone.msx_id.is_not(None),
                                                 Milestone.gone_from_msx_at.is_(None))
    return MirrorScope(
        accounts=_live_ids(session, Customer),
        territories=_live_ids(session, Territory),
        open_opportunities=_live_ids(session, Opportunity, Opportunity.state == OPEN),
        opportunities=_live_ids(session, Opportunity),
        milestones=_live_ids(session, Milestone),
        tasks=_live_ids(session, Task, Task.milestone_id.in_(live_milestones)),
        team_links=_team_links(session),
    )


def _team_links(session: Session) -> set[tuple[str, str, str]]:
    links: set[tuple[str, str, str]] = set()
    teams = ((customer_sellers, "seller_id", Seller, "seller"),
             (customer_solution_engineers, "solution_engineer_id", SolutionEngineer, "se"))
    for table, column, model, kind in teams:
        query = (select(Customer.msx_id, model.msx_id)
                 .join(table, table.c.customer_id == Customer.id).join(model, model.id == table.c[column])
                 .where(Customer.msx_id.is_not(None), model.msx_id.is_not(None)))
        links.update((str(account), str(user), kind) for account, user in session.execute(query))
    return links


def read_watermarks(session: Session) -> dict[str, Mark]:
    rows = session.scalars(select(MsxWatermark))
    return {row.name: Mark(row.modified_on, row.row_count, row.value) for row in rows}


def last_mirrored_at(session: Session) -> datetime | None:
    """When an import or a refresh last moved a watermark (None: never)."""
    return session.scalar(select(func.max(MsxWatermark.updated_at)))


def save_watermarks(session: Session, marks: Mapping[str, Mark]) -> int:
    """Store ``marks``: ``modified_on`` never goes back (the greater one stays), ``None`` fields
    keep what is stored. Returns how many rows were written (0 when nothing differs)."""
    query = select(MsxWatermark).where(MsxWatermark.name.in_(list(marks)))
    stored = {row.name: row for row in session.scalars(query)}
    written = 0
    for name, mark in marks.items():
        row = stored.get(name)
        if row is None:
            session.add(MsxWatermark(name=name, modified_on=mark.modified_on, row_count=mark.row_count,
                                     value=mark.value, updated_at=utcnow()))
            written += 1
            continue
        wanted = _merged(row, mark)
        if wanted != (row.modified_on, row.row_count, row.value):
            row.modified_on, row.row_count, row.value = wanted
            row.updated_at = utcnow()
            written += 1
    session.flush()
    return written


def _merged(row: MsxWatermark, mark: Mark) -> tuple[datetime | None, int | None, str | None]:
    newest = row.modified_on
    if mark.modified_on is not None and (newest is None or mark.modified_on > newest):
        newest = mark.modified_on
    count = row.row_count if mark.row_count is None else mark.row_count
    value = row.value if mark.value is None else mark.value
    return newest, count, value


def set_team_flags(
    session: Session, milestones: Collection[str], opportunities: Collection[str] | None = None
) -> int:
    """Live milestones (and opportunities, when given) are "on my team" exactly when their MSX id is in
    ``milestones`` (``opportunities``): my milestone and deal access-team memberships as MSX lists them
    now. Returns how many flags changed."""
    changed = _set_flags(session, Milestone, set(milestones))
    if opportunities is not None:
        changed += _set_flags(session, Opportunity, set(opportunities))
    session.flush()
    return changed


_Flagged = TypeVar("_Flagged", Milestone, Opportunity)


def _set_flags(session: Session, model: type[_Flagged], wanted: set[str]) -> int:
    rows = session.execute(select(model.id, model.msx_id, model.on_my_team).where(
        model.msx_id.is_not(None), model.gone_from_msx_at.is_(None)))
    flips = [row_id for row_id, msx_id, flag in rows if bool(flag) != (msx_id in wanted)]
    now = utcnow()
    for chunk in in_chunks(flips):
        for record in session.scalars(select(model).where(model.id.in_(chunk))):
            record.on_my_team = record.msx_id in wanted
            record.msx_synced_at = now
    return len(flips)
