"""The outbox at a glance (the header badge): how many rows are in each state and when any row last
changed, in one query. Pages compare `OutboxStatus.fingerprint` with the one they last saw to know
whether what they show of the outbox is out of date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.models import OutboxItem, OutboxState
from callnotes.store.repo.outbox import WAITING


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[OutboxState, int] = field(default_factory=dict)
    changed_at: datetime | None = None

    def count(self, state: OutboxState) -> int:
        return self.counts.get(state, 0)

    @property
    def waiting(self) -> int:
        """Rows that have not left yet and will (or may, once approved)."""
        return sum(self.count(state) for state in WAITING)

    @property
    def fingerprint(self) -> str:
        """Changes whenever any row changes state (or is tried again)."""
        counts = "-".join(str(self.count(state)) for state in OutboxState)
        return f"{counts}@{self.changed_at.timestamp() if self.changed_at else 0:.6f}"


def outbox_status(session: Session) -> OutboxStatus:
    rows = session.execute(select(OutboxItem.state, func.count(), func.max(OutboxItem.updated_at))
                           .group_by(OutboxItem.state))
    counts: dict[OutboxState, int] = {}
    changed: list[datetime] = []
    for state, count, last in rows:
        counts[state] = count
        if last is not None:
            changed.append(last)
    return OutboxStatus(counts, max(changed) if changed else None)
