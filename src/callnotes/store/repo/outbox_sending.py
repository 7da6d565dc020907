"""The outbox, as a worker sees it: claim due rows with a lease, record how each try ended, and
update the local mirror once a write has landed.

Claiming is one short transaction: due rows (``pending`` and due, or ``sending`` with a lease that
ran out because its worker died) become ``sending`` for this worker until the lease ends. On
PostgreSQL concurrent workers skip each other's locked rows (``FOR UPDATE SKIP LOCKED``); SQLite's
``BEGIN IMMEDIATE`` lets one writer at a time claim. So two workers never send one row at once, and a
row whose worker died is sent again — which is safe, because every write is made idempotent by the
sync layer (fixed record ids, ``If-Match``, comment stamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from callnotes.domain import HokCategory
from callnotes.store.column_types import utcnow
from callnotes.store.db import is_postgres
from callnotes.store.models import Milestone, Opportunity, OutboxItem, OutboxKind, OutboxState, Task

_OPEN_TASK = "Open"


@dataclass(frozen=True)
class Claimed:
    """A row this worker now sends; ``resent`` when an earlier try may have landed."""

    item: OutboxItem
    resent: bool


def claim_due(session: Session, worker: str, *, limit: int, lease: timedelta) -> list[Claimed]:
    """Up to ``limit`` due rows, oldest first, now ``sending`` for ``worker``. The caller commits at
    once (before it sends anything), so a crash after this point leaves rows a later claim takes."""
    now = utcnow()
    due = or_(
        (OutboxItem.state == OutboxState.PENDING) & (OutboxItem.next_attempt_at <= now),
        (OutboxItem.state == OutboxState.SENDING) & (OutboxItem.lease_expires_at < now),
    )
    query = select(OutboxItem).where(due).order_by(OutboxItem.id).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for item in session.scalars(query):
        claimed.append(Claimed(item, resent=item.attempts > 0))
        item.state, item.lease_owner, item.lease_expires_at = OutboxState.SENDING, worker, now + lease
        item.attempts += 1
    session.flush()
    return claimed


def _owned(session: Session, item_id: int, worker: str) -> OutboxItem | None:
    """The row if this worker still holds it (a row another worker took over is theirs now)."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.state is not OutboxState.SENDING or item.lease_owner != worker:
        return None
    return item


def release(
    session: Session, item_id: int, worker: str, *, error: str, kind: str, retry_at: datetime
) -> None:
    """The try did not land (or may not have): ``pending`` again, due at ``retry_at``."""
    item = _owned(session, item_id, worker)
    if item is not None:
        item.state, item.lease_owner, item.lease_expires_at = OutboxState.PENDING, None, None
        item.last_error, item.error_kind, item.next_attempt_at = error, kind, retry_at


def mark_failed(session: Session, item_id: int, worker: str, *, error: str) -> None:
    """The CRM refused the write (or it was tried too often): ``failed`` with the reason; ``retry``
    makes it pending again."""
    item = _owned(session, item_id, worker)
    if item is not None:
        item.state, item.lease_owner, item.lease_expires_at = OutboxState.FAILED, None, None
        item.last_error, item.error_kind = error, "refused"


def mark_sent(
    session: Session, item_id: int, *, crm_id: str, status_code: int | None = None
) -> OutboxItem | None:
    """The write landed: ``sent`` (whichever worker saw it land), and the mirror shows it.
    ``status_code`` is the option value a status change was sent as."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.state in (OutboxState.SENT, OutboxState.DISCARDED):
        return item
    item.state, item.crm_id, item.sent_at = OutboxState.SENT, crm_id, utcnow()
    item.lease_owner, item.lease_expires_at, item.last_error, item.error_kind = None, None, None, None
    _mirror(session, item, status_code)
    return item


def _mirror(session: Session, item: OutboxItem, status_code: int | None) -> None:
    """What a landed write changes locally: the new task under its milestone, team flags, fields."""
    if item.kind is OutboxKind.CREATE_TASK:
        _mirror_task(session, item)
    elif item.kind in (OutboxKind.JOIN_MILESTONE_TEAM, OutboxKind.LEAVE_MILESTONE_TEAM):
        milestone = session.get(Milestone, item.milestone_id) if item.milestone_id else None
        if milestone is not None:
            milestone.on_my_team = item.kind is OutboxKind.JOIN_MILESTONE_TEAM
    elif item.kind is OutboxKind.UPDATE_MILESTONE:
        _mirror_milestone(session, item, status_code)
    elif item.kind is OutboxKind.UPDATE_OPPORTUNITY and item.opportunity_id:
        opportunity = session.get(Opportunity, item.opportunity_id)
        if opportunity is not None:
            opportunity.estimated_close_date = date.fromisoformat(item.payload["estimated_close_date"])


def _mirror_task(session: Session, item: OutboxItem) -> None:
    """The task MSX now has, keyed by its MSX id: an import that already brought it in keeps its
    row (and gets the note link), so the task is never listed twice."""
    payload = item.payload
    task = session.scalar(select(Task).where(Task.msx_id == item.crm_id))
    if task is None:
        category = payload.get("category")
        known = category if isinstance(category, int) and category in HokCategory._value2member_map_ else None
        task = Task(msx_id=item.crm_id, subject=payload["subject"], category_code=category,
                    is_hok=known is not None and HokCategory(known).is_hok,
                    duration_minutes=payload.get("duration_minutes"), state=_OPEN_TASK,
                    msx_synced_at=utcnow())
        session.add(task)
    task.milestone_id = task.milestone_id or item.milestone_id
    task.note_id = task.note_id or item.note_id


def _mirror_milestone(session: Session, item: OutboxItem, status_code: int | None) -> None:
    milestone = session.get(Milestone, item.milestone_id) if item.milestone_id else None
    if milestone is None:
        return
    changes = item.payload.get("changes", {})
    if "milestone_date" in changes:
        milestone.milestone_date = date.fromisoformat(changes["milestone_date"])
    if "monthly_use" in changes:
        milestone.monthly_use = float(changes["monthly_use"])
    if "status" in changes:
        milestone.status_label, milestone.status = changes["status"], status_code
