"""``callnotes sync``: refresh the mirror from MSX, then send every write that may leave.

Exit codes (DESIGN.md §Contracts): 0 nothing left that may leave; 3 writes still wait because MSX
cannot be reached (one line says why); 1 any other error (a refused write, a failed refresh).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callnotes.config import current_writeback
from callnotes.dataverse import DataverseError
from callnotes.domain import WritebackMode
from callnotes.msx.errors import MsxError
from callnotes.store import Conflict, StoreError, session_scope
from callnotes.store.repo.outbox import send_pending_now
from callnotes.sync.connection import link_org, open_client
from callnotes.sync.context import SyncContext
from callnotes.sync.outbox import DrainReport, drain, round_failure
from callnotes.sync.refresh_job import begin_refresh, finish_refresh, refresh_error, refresh_or_import
from callnotes.sync.writeback import waiting

EXIT_OK, EXIT_ERROR, EXIT_UNREACHABLE = 0, 1, 3


@dataclass
class SyncResult:
    exit_code: int = EXIT_OK
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_sync(context: SyncContext, *, refresh: bool = True) -> SyncResult:
    result = SyncResult()
    if refresh and not _refresh(context, result):
        return result
    if current_writeback(context.settings) is WritebackMode.OFF:
        result.lines.append("write-back is off: nothing is sent to MSX")
        return result
    with session_scope(context.session_factory) as session:
        send_pending_now(session)  # the user asks now: no row waits out its backoff
    _report(context, drain(context), result)
    return result


def _refresh(context: SyncContext, result: SyncResult) -> bool:
    """The incremental refresh of the mirror (a full import when nothing was imported yet), recorded
    as a refresh run; False (and the exit code set) when it could not run."""
    try:
        run_id = begin_refresh(context)
    except Conflict as exc:
        result.exit_code = EXIT_ERROR
        result.errors.append(f"refresh not started: {exc}")
        return True
    try:
        with open_client(context.settings) as client:
            summary = refresh_or_import(client, context.session_factory, crm_url=link_org(context.settings))
    except (DataverseError, MsxError, StoreError) as exc:
        finish_refresh(context.session_factory, run_id, error=refresh_error(exc))
        stop = round_failure(exc)
        unreachable = stop.kind in ("unreachable", "signed_out", "throttled")
        result.exit_code = EXIT_UNREACHABLE if unreachable else EXIT_ERROR
        result.errors.append(f"refresh failed: {stop.message}")
        return not unreachable  # unreachable: the writes cannot leave either
    finish_refresh(context.session_factory, run_id, summary=summary)
    result.lines.append(f"refreshed: {summary.changed} change(s), {summary.http_requests} HTTP requests")
    return True


def _report(context: SyncContext, report: DrainReport, result: SyncResult) -> None:
    result.lines.append(f"sent {report.sent} write(s) to MSX in {report.http_requests} HTTP request(s)")
    left = waiting(context)
    if report.failed:
        result.exit_code = max(result.exit_code, EXIT_ERROR)
        result.errors += report.errors
    if left.count and (report.unreachable or left.kind in ("unreachable", "signed_out", "throttled")):
        result.exit_code = EXIT_UNREACHABLE
        result.errors.insert(0, f"{left.count} write(s) still waiting: {report.stopped or left.reason}")
    elif left.count:
        result.exit_code = max(result.exit_code, EXIT_ERROR)
        result.errors.append(f"{left.count} write(s) still waiting: {left.reason or 'not sent yet'}")
