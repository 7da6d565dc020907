"""My writes on each listed opportunity that have not landed yet: a new estimated close date, a join
or leave of the deal team. Pages ask for all their opportunities at once (one query)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from callnotes.store.models import Opportunity, OutboxItem, OutboxKind
from callnotes.store.repo._common import get_or_raise
from callnotes.store.repo.milestone_tasks import open_writes

_DEAL_TEAM_KINDS = (OutboxKind.JOIN_DEAL_TEAM, OutboxKind.LEAVE_DEAL_TEAM)


@dataclass
class OpportunityActivity:
    """One opportunity's open writes, newest first."""

    writes: list[OutboxItem] = field(default_factory=list)

    @property
    def close_date_change(self) -> OutboxItem | None:
        """The new close date still on its way, if any."""
        return next((item for item in self.writes if item.kind is OutboxKind.UPDATE_OPPORTUNITY), None)

    @property
    def team_change(self) -> OutboxItem | None:
        """The join or leave of the deal team still on its way, if any."""
        return next((item for item in self.writes if item.kind in _DEAL_TEAM_KINDS), None)


def activity_of_opportunities(
    session: Session, opportunity_ids: Iterable[int]
) -> dict[int, OpportunityActivity]:
    """Every opportunity of ``opportunity_ids`` (one entry each, empty when nothing is on its way)."""
    ids = sorted(set(opportunity_ids))
    writes = open_writes(session, OutboxItem.opportunity_id, ids) if ids else {}
    return {opportunity_id: OpportunityActivity(writes.get(opportunity_id, [])) for opportunity_id in ids}


def get_opportunity(session: Session, opportunity_id: int) -> Opportunity:
    """The opportunity, or :class:`NotFound`."""
    return get_or_raise(session, Opportunity, opportunity_id, "opportunity")
