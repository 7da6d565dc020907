"""What each listed milestone has going on: its tasks in the mirror (imported from MSX, or mine once
they landed) and my writes on it that have not landed yet (tasks being logged, edits, comments, team
changes). Pages ask for all their milestones at once: two queries per page, whatever the count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.models import OutboxItem, OutboxKind, OutboxState, Task

#: Writes shown beside a milestone: not landed yet (and not dropped).
OPEN_STATES = (OutboxState.AWAITING_APPROVAL, OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)
_TEAM_KINDS = (OutboxKind.JOIN_MILESTONE_TEAM, OutboxKind.LEAVE_MILESTONE_TEAM)


@dataclass
class MilestoneActivity:
    """One milestone's tasks (newest first) and open writes (newest first)."""

    tasks: list[Task] = field(default_factory=list)
    writes: list[OutboxItem] = field(default_factory=list)

    @property
    def queued_tasks(self) -> list[OutboxItem]:
        """Tasks I asked for that MSX does not have yet."""
        return [item for item in self.writes if item.kind is OutboxKind.CREATE_TASK]

    @property
    def team_change(self) -> OutboxItem | None:
        """The join or leave of the access team still on its way, if any."""
        return next((item for item in self.writes if item.kind in _TEAM_KINDS), None)

    @property
    def edits(self) -> list[OutboxItem]:
        """Field changes and forecast comments still on their way."""
        return [item for item in self.writes
                if item.kind in (OutboxKind.UPDATE_MILESTONE, OutboxKind.FORECAST_COMMENT)]

    @property
    def task_count(self) -> int:
        return len(self.tasks) + len(self.queued_tasks)


def activity_of_milestones(session: Session, milestone_ids: Iterable[int]) -> dict[int, MilestoneActivity]:
    """Every milestone of ``milestone_ids`` (one entry each, empty when nothing goes on)."""
    ids = sorted(set(milestone_ids))
    found = {milestone_id: MilestoneActivity() for milestone_id in ids}
    if not ids:
        return found
    tasks = session.scalars(select(Task).where(Task.milestone_id.in_(ids))
                            .order_by(Task.created_at.desc(), Task.id.desc()))
    for task in tasks:
        found[task.milestone_id or 0].tasks.append(task)
    for milestone_id, writes in open_writes(session, OutboxItem.milestone_id, ids).items():
        found[milestone_id].writes = writes
    return found


def open_writes(session: Session, link: Any, ids: list[int]) -> dict[int, list[OutboxItem]]:
    """My writes not landed yet on the records ``ids``, newest first, by the id ``link`` (an outbox
    column: ``OutboxItem.milestone_id``, ``OutboxItem.opportunity_id``) names."""
    found: dict[int, list[OutboxItem]] = {}
    rows = session.execute(select(link, OutboxItem).where(link.in_(ids), OutboxItem.state.in_(OPEN_STATES))
                           .order_by(OutboxItem.id.desc()))
    for record_id, item in rows:
        found.setdefault(record_id, []).append(item)
    return found
