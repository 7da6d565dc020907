"""Scheduled pushes on the job queue: every ``CALLNOTES_PUSH_MINUTES`` the files of
``CALLNOTES_PUSH_MAPPINGS`` are pushed, and sooner when a record's passing failure comes due.

A scheduled push respects each record's backoff (``push_records.next_attempt_at``: 30 s doubling up to an
hour after a passing failure, six hours after a refusal); ``callnotes push`` does not (the user asks
now). Each run is a ``sync_runs`` row of kind ``push`` (one at a time): state, summary lines, HTTP
requests, the number of records written, and the error when the CRM could not be reached.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from callnotes.dataverse import DataverseError
from callnotes.msx.errors import MsxError
from callnotes.store import Conflict, StoreError, session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.models import RunKind, RunState
from callnotes.store.repo import push_records, sync_runs
from callnotes.sync.context import SyncContext
from callnotes.sync.errors import SyncError
from callnotes.sync.push_run import push_files

_log = logging.getLogger(__name__)


def mapping_paths(context: SyncContext) -> list[str]:
    return [part.strip() for part in (context.settings.push_mappings or "").split(",") if part.strip()]


def push_due(context: SyncContext) -> bool:
    """Mapping files are configured and the interval has passed (or a retry is due)."""
    if not mapping_paths(context):
        return False
    with context.session_factory() as session:
        last = sync_runs.latest_run(session, RunKind.PUSH)
        if last is not None and last.state.active:
            return False
        interval = timedelta(minutes=context.settings.push_minutes)
        if last is None or last.finished_at is None or utcnow() - last.finished_at >= interval:
            return True
        return push_records.retry_due(session)


def run_scheduled_push(context: SyncContext) -> int | None:
    """One scheduled push, recorded as a run; the run id (None when another push is running)."""
    try:
        with session_scope(context.session_factory) as session:
            run_id = sync_runs.begin_run(session, RunKind.PUSH).id
            sync_runs.mark_running(session, run_id)
    except Conflict:
        return None
    state, summary, requests, changed, error = RunState.DONE, list[str](), 0, 0, None
    try:
        reports = push_files(context, mapping_paths(context), respect_backoff=True)
        summary = [line for report in reports for line in report.lines()]
        requests = sum(r.http_requests for r in reports)
        changed = sum(r.created + r.updated for r in reports)
        problems = [f"{r.mapping}: {e}" for r in reports for e in r.errors] + [
            f"{r.mapping}: stopped: {r.stopped}" for r in reports if r.stopped]
        if problems:
            state, error = RunState.FAILED, "; ".join(problems)[:2000]
    except (SyncError, DataverseError, MsxError, StoreError, OSError) as exc:
        state, error = RunState.FAILED, str(exc)
    with session_scope(context.session_factory) as session:
        sync_runs.finish_run(session, run_id, state, summary=summary, http_requests=requests, changed=changed,
                             error=error)
    _log.info("scheduled push %s: %s", state.value, error or f"{changed} record(s) written")
    return run_id
