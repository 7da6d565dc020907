"""Background runs of the sync layer: one active run per kind, progress, heartbeat, cancel, result.

The rule "one import at a time" lives here: `begin_run` refuses a second active run of a kind
(`Conflict`) unless the active one stopped beating (its worker died: it is marked failed first).
Each function is one short transaction's worth of work; the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.errors import Conflict
from callnotes.store.models import RunKind, RunState, SyncRun
from callnotes.store.repo._common import get_or_raise

#: A run whose heartbeat is older than this lost its worker (killed, machine asleep).
STALE_AFTER = timedelta(minutes=5)
_ACTIVE = (RunState.QUEUED, RunState.RUNNING)
#: Kinds that must not run at once: an import and a refresh both write the MSX mirror.
_EXCLUSIVE: dict[RunKind, tuple[RunKind, ...]] = {
    RunKind.IMPORT: (RunKind.IMPORT, RunKind.REFRESH),
    RunKind.REFRESH: (RunKind.IMPORT, RunKind.REFRESH),
}


def latest_run(session: Session, kind: RunKind) -> SyncRun | None:
    """The newest run of ``kind`` (None when there never was one)."""
    query = select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id.desc()).limit(1)
    return session.scalars(query).first()


def get_run(session: Session, run_id: int) -> SyncRun:
    return get_or_raise(session, SyncRun, run_id, "sync run")


def _fail_stale(session: Session, kinds: tuple[RunKind, ...], now: datetime) -> None:
    session.execute(
        update(SyncRun)
        .where(SyncRun.kind.in_(kinds), SyncRun.state.in_(_ACTIVE), SyncRun.heartbeat_at < now - STALE_AFTER)
        .values(state=RunState.FAILED, finished_at=now,
                error="interrupted: the worker running it stopped (it can be started again)")
    )


def begin_run(session: Session, kind: RunKind) -> SyncRun:
    """A new queued run of ``kind``; `Conflict` while another one is queued or running (an import
    and a refresh count as one kind here: they write the same mirror)."""
    now = utcnow()
    kinds = _EXCLUSIVE.get(kind, (kind,))
    _fail_stale(session, kinds, now)
    active = session.scalars(select(SyncRun.kind).where(SyncRun.kind.in_(kinds), SyncRun.state.in_(_ACTIVE)))
    running = active.first()
    if running is not None:
        raise Conflict(f"a{'n' if running is RunKind.IMPORT else ''} {running.value} is already running")
    run = SyncRun(kind=kind, state=RunState.QUEUED, created_at=now, heartbeat_at=now, progress={},
                  summary=[])
    session.add(run)
    session.flush()
    return run


def mark_running(session: Session, run_id: int) -> bool:
    """Queued → running (the worker picked it up); False when it was cancelled or finished meanwhile."""
    now = utcnow()
    done = session.execute(
        update(SyncRun).where(SyncRun.id == run_id, SyncRun.state == RunState.QUEUED)
        .values(state=RunState.RUNNING, started_at=now, heartbeat_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def record_progress(session: Session, run_id: int, phase: str, done: int, total: int) -> None:
    """The latest count of ``phase``; doubles as the heartbeat."""
    run = get_run(session, run_id)
    run.progress = {**(run.progress or {}), phase: [done, total]}
    run.heartbeat_at = utcnow()


def request_cancel(session: Session, kind: RunKind) -> SyncRun | None:
    """Ask the active run of ``kind`` to stop (a queued one is cancelled at once)."""
    run = latest_run(session, kind)
    if run is None or not run.state.active:
        return run
    run.cancel_requested = True
    if run.state is RunState.QUEUED:
        run.state, run.finished_at = RunState.CANCELLED, utcnow()
        run.error = f"{kind.value.capitalize()} cancelled before it started; nothing was changed."
    return run


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(SyncRun.cancel_requested).where(SyncRun.id == run_id)))


def finish_run(
    session: Session,
    run_id: int,
    state: RunState,
    *,
    summary: list[str] | None = None,
    http_requests: int = 0,
    changed: int = 0,
    error: str | None = None,
) -> SyncRun:
    """The run's end: its final state, what it did and what it cost, or why it failed."""
    run = get_run(session, run_id)
    now = utcnow()
    run.state, run.finished_at, run.heartbeat_at = state, now, now
    run.summary, run.http_requests, run.changed, run.error = summary or [], http_requests, changed, error
    return run
