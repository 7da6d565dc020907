"""Write-back as the rest of the app uses it: the mode in force, draining now, and what waits.

``drain_now`` is the queue task's body (and the CLI's): it drains unless write-back is ``off``, logs
what happened and says when the next drain is worth it (a row waits for a short backoff).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from callnotes.config import current_writeback
from callnotes.domain import WritebackMode
from callnotes.store.column_types import utcnow
from callnotes.store.models import OutboxItem, OutboxState
from callnotes.sync.context import SyncContext
from callnotes.sync.outbox import DrainReport, drain

_log = logging.getLogger(__name__)
#: A retry due within this long gets its own scheduled drain; later ones wait for the periodic one.
SOON = timedelta(seconds=60)


@dataclass(frozen=True)
class Waiting:
    """Rows that may still leave, and why the last try of any of them did not land."""

    count: int
    reason: str | None
    kind: str | None


def drain_now(context: SyncContext) -> float | None:
    """Drain (unless write-back is off); seconds until the next pending row is due, if soon."""
    if current_writeback(context.settings) is WritebackMode.OFF:
        return None
    report = drain(context, lease=timedelta(seconds=context.settings.outbox_lease_seconds))
    _log_report(report)
    return None if report.unreachable else _next_due_in(context)


def _log_report(report: DrainReport) -> None:
    if report.rounds:
        _log.info("outbox drain: %d sent, %d failed in %d round(s), %d HTTP requests%s", report.sent,
                  report.failed, report.rounds, report.http_requests,
                  f"; stopped: {report.stopped}" if report.stopped else "")


def _next_due_in(context: SyncContext) -> float | None:
    with context.session_factory() as session:
        due = session.scalar(select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.state == OutboxState.PENDING))
    if due is None:
        return None
    wait = (due - utcnow()).total_seconds()
    return max(0.0, wait) if wait <= SOON.total_seconds() else None


def waiting(context: SyncContext) -> Waiting:
    """Rows that may still leave (pending or being sent) and the reason the newest of them waits."""
    with context.session_factory() as session:
        rows = list(session.execute(
            select(OutboxItem.last_error, OutboxItem.error_kind)
            .where(OutboxItem.state.in_([OutboxState.PENDING, OutboxState.SENDING]))
            .order_by(OutboxItem.updated_at.desc())))
    reason = next(((error, kind) for error, kind in rows if error), (None, None))
    return Waiting(len(rows), *reason)
