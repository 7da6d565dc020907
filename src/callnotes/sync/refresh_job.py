"""The refresh as a job: "Refresh now", ``POST /api/refresh``, ``callnotes sync`` and the scheduled
one every ``refresh_minutes`` all run it as a ``sync_runs`` row of kind ``refresh``, so a refresh and
an import never run at once (store/repo/sync_runs.py refuses the second) and every page sees the
last one's state, cost, number of changes or the sentence saying why it failed.

The schedule is a huey periodic task that looks every minute (`refresh_due`): the interval is read
then (the environment, else the settings page's saved choice), so changing it needs no restart.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from callnotes.config import ENV_PREFIX, Settings, saved_preferences
from callnotes.dataverse import (
    AuthError,
    DataverseClient,
    DataverseError,
    NetworkBlocked,
    Throttled,
    TransportError,
)
from callnotes.msx.errors import MsxError, VpnDown
from callnotes.store import Conflict, StoreError, session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.models import RunKind, RunState, SyncRun
from callnotes.store.repo import sync_runs
from callnotes.store.repo.msx_refresh import ME, last_mirrored_at, read_watermarks
from callnotes.sync.connection import link_org, open_client
from callnotes.sync.context import SyncContext
from callnotes.sync.importing import run_import
from callnotes.sync.refreshing import NothingImported, run_refresh
from callnotes.sync.summary import ImportSummary

if TYPE_CHECKING:  # the queue registers this module's task bodies
    from callnotes.sync.queue import JobQueue

_log = logging.getLogger(__name__)
#: The longest interval between scheduled refreshes (a day), as `Settings.refresh_minutes` allows.
MAX_MINUTES = 24 * 60


def refresh_minutes(settings: Settings) -> int:
    """Minutes between scheduled refreshes now: ``CALLNOTES_REFRESH_MINUTES``, else the saved choice."""
    if f"{ENV_PREFIX}REFRESH_MINUTES" in os.environ:
        return settings.refresh_minutes
    try:
        minutes = int(saved_preferences(settings).get("refresh_minutes", settings.refresh_minutes))
    except (TypeError, ValueError):
        return settings.refresh_minutes
    return minutes if 1 <= minutes <= MAX_MINUTES else settings.refresh_minutes


def refresh_or_import(client: DataverseClient, factory: sessionmaker[Session], *,
                      crm_url: str | None = None) -> ImportSummary:
    """The incremental refresh, or a full import when nothing was imported yet or when accounts
    were newly given to me (an import brings their whole world)."""
    try:
        summary = run_refresh(client, factory, crm_url=crm_url)
    except NothingImported:
        _log.info("nothing imported yet: the refresh runs a full import")
        return run_import(client, factory, crm_url=crm_url)
    if not summary.new_accounts:
        return summary
    _log.info("%d account(s) newly mine: the refresh runs a full import", summary.new_accounts)
    imported = run_import(client, factory, crm_url=crm_url)
    imported.updated += summary.changed  # the refresh's own changes, already in the store
    imported.http_requests += summary.http_requests
    return imported


_UNREACHABLE = "MSX cannot be reached"


def short_error(error: str | None) -> str | None:
    """The failed refresh's sentence as the home page shows it: when MSX was out of reach (the VPN),
    the header's one banner already says why, so the line only says that it was."""
    if error is not None and error.startswith((str(VpnDown()), _UNREACHABLE)):
        return "MSX could not be reached; the mirror was not changed."
    return error


def refresh_error(exc: Exception) -> str:
    """The one sentence a failed refresh leaves behind (the mirror and its watermarks are unchanged)."""
    unchanged = "The mirror was not changed; it refreshes again on the next try."
    if isinstance(exc, NetworkBlocked | VpnDown):
        return f"{VpnDown()} {unchanged}"
    if isinstance(exc, AuthError):
        return f"Not signed in to MSX: {exc} Sign in on the MSX connection page. {unchanged}"
    if isinstance(exc, Throttled):
        return f"MSX is throttling requests (service protection). {unchanged}"
    if isinstance(exc, TransportError):
        return f"{_UNREACHABLE} (is the VPN or the network down?): {exc}. {unchanged}"
    return f"The refresh failed: {exc}. {unchanged}"


def begin_refresh(context: SyncContext) -> int:
    """A running refresh row; `Conflict` (store) while an import or a refresh is queued or running."""
    with session_scope(context.session_factory) as session:
        run_id = sync_runs.begin_run(session, RunKind.REFRESH).id
        sync_runs.mark_running(session, run_id)
    return run_id


def start_refresh(queue: JobQueue) -> SyncRun:
    """Queue a refresh ("Refresh now", ``POST /api/refresh``); `Conflict` while one is active."""
    with session_scope(queue.context.session_factory) as session:
        run = sync_runs.begin_run(session, RunKind.REFRESH)
    queue.enqueue_refresh(run.id)
    return run


def run_refresh_job(context: SyncContext, run_id: int) -> ImportSummary | None:
    """Run the refresh of row ``run_id`` and record how it ended; never raises (the row says)."""
    factory = context.session_factory
    with session_scope(factory) as session:
        if sync_runs.get_run(session, run_id).state is RunState.QUEUED:
            sync_runs.mark_running(session, run_id)
    try:
        with open_client(context.settings) as client:
            summary = refresh_or_import(client, factory, crm_url=link_org(context.settings))
    except (MsxError, DataverseError, StoreError) as exc:
        finish_refresh(factory, run_id, error=refresh_error(exc))
        return None
    except Exception as exc:  # the run must always end in a visible state
        _log.exception("MSX refresh crashed")
        finish_refresh(factory, run_id, error=f"The refresh stopped on an unexpected error "
                                                         f"({type(exc).__name__}); nothing was changed.")
        return None
    finish_refresh(factory, run_id, summary=summary)
    return summary


def finish_refresh(factory: sessionmaker[Session], run_id: int, *, summary: ImportSummary | None = None,
                   error: str | None = None) -> None:
    """Record how refresh ``run_id`` ended: done with ``summary``, or failed with ``error``."""
    state = RunState.FAILED if error is not None or summary is None else RunState.DONE
    with session_scope(factory) as session:
        sync_runs.finish_run(session, run_id, state, summary=summary.lines() if summary else [], error=error,
                             http_requests=summary.http_requests if summary else 0,
                             changed=summary.changed if summary else 0)


def refresh_due(context: SyncContext, now: datetime | None = None) -> bool:
    """Something was imported (the schedule never starts a first import), no import or refresh is
    active, and the interval has passed since the last refresh or import began."""
    now = now or utcnow()
    with context.session_factory() as session:
        last = [r for r in (sync_runs.latest_run(session, k) for k in (RunKind.REFRESH, RunKind.IMPORT)) if r]
        imported = ME in read_watermarks(session) or any(  # an import older than the watermarks counts
            r.kind is RunKind.IMPORT and r.state is RunState.DONE for r in last)
        mirrored = last_mirrored_at(session)  # also an import run outside the queue (the CLI)
    if not imported or any(r.state.active for r in last):
        return False
    began = [r.started_at or r.created_at for r in last] + ([mirrored] if mirrored else [])
    return not began or now - max(began) >= timedelta(minutes=refresh_minutes(context.settings))


def run_scheduled_refresh(context: SyncContext) -> int | None:
    """The periodic task's body: a refresh when one is due; its run id (None when none ran)."""
    if not refresh_due(context):
        return None
    try:
        run_id = begin_refresh(context)
    except Conflict:
        return None
    run_refresh_job(context, run_id)
    return run_id


def refresh_state(session: Session) -> dict[str, Any] | None:
    """The last refresh as ``GET /api/refresh`` shows it (None when there never was one)."""
    run = sync_runs.latest_run(session, RunKind.REFRESH)
    if run is None:
        return None
    states = {RunState.QUEUED: "running", RunState.RUNNING: "running", RunState.DONE: "done"}
    return {"state": states.get(run.state, "failed"), "started_at": _iso(run.started_at or run.created_at),
            "finished_at": _iso(run.finished_at),
            "http_requests": run.http_requests, "changed": run.changed, "error": run.error}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
