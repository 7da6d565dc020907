"""The import as a job on the queue: start it (one at a time), follow it, cancel it — from any process.

State lives in the store (``sync_runs``, store/repo/sync_runs.py), so the page that started an import,
another tab, or a ``callnotes worker`` on the same database all see the same progress.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from callnotes.dataverse import DataverseClient, DataverseError
from callnotes.msx.errors import ImportCancelled, MsxError
from callnotes.msx.progress import CancelToken, ProgressEvent
from callnotes.store import StoreError, session_scope
from callnotes.store.models import RunKind, RunState, SyncRun
from callnotes.store.repo import sync_runs
from callnotes.sync.connection import link_org, open_client
from callnotes.sync.context import SyncContext
from callnotes.sync.importing import run_import
from callnotes.sync.summary import ImportSummary

if TYPE_CHECKING:  # the queue registers this module's task bodies
    from callnotes.sync.queue import JobQueue

_log = logging.getLogger(__name__)


class RunCancelToken(CancelToken):
    """Cancelled when the run's row says so (a page in any process may ask)."""

    def __init__(self, session_factory: sessionmaker[Session], run_id: int) -> None:
        super().__init__()
        self._factory, self._run_id = session_factory, run_id

    @property
    def cancelled(self) -> bool:
        if not super().cancelled:
            with self._factory() as session:
                if sync_runs.cancel_requested(session, self._run_id):
                    self.cancel()
        return super().cancelled


class RunProgress:
    """A progress callback that records each phase's count on the run (also its heartbeat)."""

    def __init__(self, session_factory: sessionmaker[Session], run_id: int) -> None:
        self._factory, self._run_id = session_factory, run_id

    def __call__(self, event: ProgressEvent) -> None:
        with session_scope(self._factory) as session:
            sync_runs.record_progress(session, self._run_id, event.phase, event.done, event.total)


def start_import(queue: JobQueue) -> SyncRun:
    """Queue an import; `Conflict` (store) while one is queued or running."""
    with session_scope(queue.context.session_factory) as session:
        run = sync_runs.begin_run(session, RunKind.IMPORT)
    queue.enqueue_import(run.id)
    return run


def cancel_import(session: Session) -> SyncRun | None:
    return sync_runs.request_cancel(session, RunKind.IMPORT)


def latest_import(session: Session) -> SyncRun | None:
    return sync_runs.latest_run(session, RunKind.IMPORT)


def run_recorded_import(client: DataverseClient, factory: sessionmaker[Session],
                        **options: Any) -> ImportSummary:
    """An import outside the queue (``callnotes import accounts``), recorded as an import run so that
    no refresh or other import runs beside it: `Conflict` (store) while one does. Errors propagate."""
    with session_scope(factory) as session:
        run_id = sync_runs.begin_run(session, RunKind.IMPORT).id
        sync_runs.mark_running(session, run_id)
    try:
        summary = run_import(client, factory, **options)
    except BaseException as exc:
        _finish(factory, run_id, RunState.FAILED, error=str(exc) or type(exc).__name__)
        raise
    _finish(factory, run_id, RunState.DONE, summary=summary)
    return summary


def run_import_job(context: SyncContext, run_id: int) -> None:
    """The task body: run the import, record how it ended. Never raises (the run says what happened)."""
    factory = context.session_factory
    with session_scope(factory) as session:
        if not sync_runs.mark_running(session, run_id):
            return  # cancelled while queued
    try:
        with open_client(context.settings) as client:
            summary = run_import(client, factory, progress=RunProgress(factory, run_id),
                                 cancel=RunCancelToken(factory, run_id), crm_url=link_org(context.settings))
    except ImportCancelled as exc:
        _finish(factory, run_id, RunState.CANCELLED, error=str(exc))
    except (MsxError, DataverseError, StoreError) as exc:
        _finish(factory, run_id, RunState.FAILED, error=str(exc))
    except Exception as exc:  # the run must always end in a visible state
        _log.exception("MSX import crashed")
        _finish(factory, run_id, RunState.FAILED, error=f"unexpected error: {type(exc).__name__}")
    else:
        _finish(factory, run_id, RunState.DONE, summary=summary)


def _finish(factory: sessionmaker[Session], run_id: int, state: RunState, *,
            summary: ImportSummary | None = None, error: str | None = None) -> None:
    lines = summary.lines() if summary is not None else []
    with session_scope(factory) as session:
        sync_runs.finish_run(session, run_id, state, summary=lines, error=error,
                             http_requests=summary.http_requests if summary else 0,
                             changed=summary.changed if summary else 0)
