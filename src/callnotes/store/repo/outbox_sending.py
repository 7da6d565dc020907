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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from callnotes.domain import HokCategory
from callnotes.store.column_types import utcnow
from callnotes.store.db import is_postgres
from callnotes.store.models import Milestone, Opportunity, OutboxItem, OutboxKind, OutboxState, Task
from callnotes.store.repo._common import in_chunks

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


@dataclass(frozen=True)
class Landed:
    """A write that landed: its row, the CRM id it produced, the status code a status change used."""

    item_id: int
    crm_id: str
    status_code: int | None = None


def load_rows(session: Session, item_ids: Sequence[int]) -> dict[int, OutboxItem]:
    """The rows (one query per 500 ids), so recording a round's outcomes reads nothing row by row."""
    found: dict[int, OutboxItem] = {}
    for chunk in in_chunks(sorted(set(item_ids))):
        rows = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(chunk)))
        found.update((item.id, item) for item in rows)
    return found


def mark_sent(session: Session, landed: Sequence[Landed]) -> int:
    """Writes that landed: ``sent`` (whichever worker saw them land), and the mirror shows them —
    in a few queries for the whole round. Returns how many rows changed."""
    rows = load_rows(session, [entry.item_id for entry in landed])
    now, changed = utcnow(), []
    with session.no_autoflush:
        for entry in landed:
            item = rows.get(entry.item_id)
            if item is None or item.state in (OutboxState.SENT, OutboxState.DISCARDED):
                continue
            item.state, item.crm_id, item.sent_at = OutboxState.SENT, entry.crm_id, now
            item.lease_owner, item.lease_expires_at, item.last_error, item.error_kind = None, None, None, None
            changed.append((item, entry.status_code))
        _mirror_tasks(session, [item for item, _ in changed if item.kind is OutboxKind.CREATE_TASK])
        for item, status_code in changed:
            _mirror(session, item, status_code)
    return len(changed)


def _mirror(session: Session, item: OutboxItem, status_code: int | None) -> None:
    """What a landed write (other than a task) changes locally: team flags, milestone fields."""
    if item.kind is OutboxKind.CREATE_TASK:
        return
    elif item.kind in (OutboxKind.JOIN_MILESTONE_TEAM, OutboxKind.LEAVE_MILESTONE_TEAM):
        _set_on_my_team(session, Milestone, item.milestone_id, item.kind is OutboxKind.JOIN_MILESTONE_TEAM)
    elif item.kind in (OutboxKind.JOIN_DEAL_TEAM, OutboxKind.LEAVE_DEAL_TEAM):
        _set_on_my_team(session, Opportunity, item.opportunity_id, item.kind is OutboxKind.JOIN_DEAL_TEAM)
    elif item.kind is OutboxKind.UPDATE_MILESTONE:
        _mirror_milestone(session, item, status_code)
    elif item.kind is OutboxKind.UPDATE_OPPORTUNITY and item.opportunity_id:
        opportunity = session.get(Opportunity, item.opportunity_id)
        if opportunity is not None:
            opportunity.estimated_close_date = date.fromisoformat(item.payload["estimated_close_date"])


_TeamRecord = TypeVar("_TeamRecord", Milestone, Opportunity)


def _set_on_my_team(session: Session, model: type[_TeamRecord], record_id: int | None, on_team: bool) -> None:
    record = session.get(model, record_id) if record_id else None
    if record is not None:
        record.on_my_team = on_team


def _mirror_tasks(session: Session, items: Sequence[OutboxItem]) -> None:
    """The tasks MSX now has, keyed by their MSX ids: one an import already brought in keeps its row
    (and gets the note link), so no task is ever listed twice."""
    ids = [item.crm_id for item in items if item.crm_id]
    existing: dict[str, Task] = {}
    for chunk in in_chunks(ids):
        tasks = session.scalars(select(Task).where(Task.msx_id.in_(chunk)))
        existing.update((t.msx_id or "", t) for t in tasks)
    for item in items:
        task = existing.get(item.crm_id or "") or _new_task(item)
        session.add(task)
        task.milestone_id = task.milestone_id or item.milestone_id
        task.note_id = task.note_id or item.note_id


def _new_task(item: OutboxItem) -> Task:
    payload = item.payload
    category = payload.get("category")
    known = category if isinstance(category, int) and category in HokCategory._value2member_map_ else None
    return Task(msx_id=item.crm_id, subject=payload["subject"], category_code=category,
                is_hok=known is not None and HokCategory(known).is_hok,
                duration_minutes=payload.get("duration_minutes"), state=_OPEN_TASK, msx_synced_at=utcnow(),
                task_date=_payload_day(payload.get("due")))


def _payload_day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


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
