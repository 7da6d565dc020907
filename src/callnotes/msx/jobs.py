"""A background import the web UI can start, watch (progress per phase), cancel and read back."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from callnotes.config import Settings
from callnotes.dataverse import DataverseError
from callnotes.msx.connection import link_org, open_client
from callnotes.msx.errors import ImportCancelled, MsxError
from callnotes.msx.importer import run_import
from callnotes.msx.progress import CancelToken, ImportSummary, ProgressEvent
from callnotes.store import StoreError

_log = logging.getLogger(__name__)


class JobState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class ImportJob:
    """One import at a time; the latest event per phase is kept for display."""

    state: JobState = JobState.IDLE
    phases: dict[str, ProgressEvent] = field(default_factory=dict)
    summary: ImportSummary | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    _cancel: CancelToken = field(default_factory=CancelToken)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING

    def start(self, settings: Settings, session_factory: sessionmaker[Session]) -> bool:
        """Start in a background thread; False when an import is already running."""
        with self._lock:
            if self.running:
                return False
            self.state, self.phases, self.summary, self.error = JobState.RUNNING, {}, None, None
            self.started_at, self.finished_at, self._cancel = datetime.now(UTC), None, CancelToken()
        threading.Thread(target=self._run, args=(settings, session_factory), name="msx-import",
                         daemon=True).start()
        return True

    def cancel(self) -> None:
        self._cancel.cancel()

    def _progress(self, event: ProgressEvent) -> None:
        # a new dict each time: a page rendering the old one in another thread never sees it change
        self.phases = {**self.phases, event.phase: event}

    def _run(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        try:
            with open_client(settings) as client:
                summary = run_import(client, session_factory, progress=self._progress, cancel=self._cancel,
                                     crm_url=link_org(settings))
        except ImportCancelled as exc:
            self._finish(JobState.CANCELLED, error=str(exc))
        except (MsxError, DataverseError, StoreError) as exc:
            self._finish(JobState.FAILED, error=str(exc))
        except Exception as exc:  # the thread must always end in a visible state
            _log.exception("MSX import crashed")
            self._finish(JobState.FAILED, error=f"unexpected error: {type(exc).__name__}")
        else:
            self._finish(JobState.DONE, summary=summary)

    def _finish(
        self, state: JobState, *, summary: ImportSummary | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            self.state, self.summary, self.error = state, summary, error
            self.finished_at = datetime.now(UTC)
