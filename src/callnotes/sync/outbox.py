"""Draining the outbox: due rows go to MSX in one ``$batch`` per round, exactly once.

A round: claim due rows with a lease (committed before anything is sent) → read what the writes need
(who I am, which re-sent tasks already exist, the milestones to comment on with their ETags, the
milestone status option set) → one ``$batch`` of change sets of task creates plus independent
PATCHes and team actions → record every outcome in one transaction. Exactly once, whatever fails:

- a task's GUID is fixed when its row is made: a create that already landed answers "duplicate key"
  (or shows up in the existence check of a re-sent row) and counts as sent;
- PATCHes carry ``If-Match: *`` (never re-create a deleted record) or the ETag they were built on
  (forecast comments: a 412 re-reads, merges and retries; a comment already there — same text, author
  and stamp — counts as sent);
- team actions leave the team as it is when sent again.

A blocked VPN, a token that cannot be had or throttling past the client's budget stop the drain with
the rows pending and one sentence (`DrainReport.stopped`); a 5xx or a dropped connection puts rows
back with backoff; an answer the CRM refuses or that cannot be understood fails only that row.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from callnotes.dataverse import (
    AuthError,
    BadResponse,
    BatchError,
    DataverseClient,
    DataverseError,
    NetworkBlocked,
    NotExecuted,
    RolledBack,
    ServerError,
    Throttled,
    TransportError,
)
from callnotes.msx.errors import MsxError, VpnDown
from callnotes.store import session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.repo import outbox_sending
from callnotes.sync.connection import open_client
from callnotes.sync.context import SyncContext
from callnotes.sync.outbox_plan import Outcome, plan_round

_log = logging.getLogger(__name__)

#: Rows per round: one ``$batch`` holds at most 1,000 requests (execute-batch-operations-using-web-api.md).
ROUND_ROWS = 500
#: How long a claim holds a row; a worker killed mid-send frees its rows after this.
DEFAULT_LEASE = timedelta(seconds=120)
#: Give a row up after this many tries that reached MSX and failed for a passing reason.
MAX_TRANSIENT_ATTEMPTS = 10
#: How long one drain keeps going (waiting out short backoffs) before it leaves the rest to the next.
DRAIN_BUDGET_S = 60.0
#: Consecutive whole-round failures (5xx, dropped connection) after which the drain stops.
MAX_FAILED_ROUNDS = 5


@dataclass
class DrainReport:
    """What one drain did: how many rows landed or failed, what waits, and why it stopped early."""

    sent: int = 0
    failed: int = 0
    rounds: int = 0
    http_requests: int = 0
    stopped: str | None = None
    stop_kind: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def unreachable(self) -> bool:
        """MSX could not be reached or would not let us in: rows wait for the network or a sign-in."""
        return self.stop_kind in ("unreachable", "signed_out", "throttled")


class _Stop(Exception):
    """The round could not be sent at all; every claimed row goes back, and maybe the drain stops."""

    def __init__(self, message: str, kind: str, *, retry_in: float, final: bool) -> None:
        super().__init__(message)
        self.message, self.kind, self.retry_in, self.final = message, kind, retry_in, final


def worker_name() -> str:
    """Who holds a lease: host, process and a per-drain tag (several threads share a process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_seconds(attempts: int) -> float:
    """0.5 s, 1 s, 2 s … capped at 60 s, with ±20 % jitter so workers do not retry in step."""
    return min(60.0, 0.5 * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)


def drain(
    context: SyncContext, *, client: DataverseClient | None = None, budget_s: float = DRAIN_BUDGET_S,
    lease: timedelta = DEFAULT_LEASE,
) -> DrainReport:
    """Send every due row (until the budget is spent or MSX cannot be reached)."""
    report, worker = DrainReport(), worker_name()
    own_client = client is None
    try:
        active = client or open_client(context.settings)
    except (DataverseError, MsxError) as exc:
        report.stopped, report.stop_kind = _sentence(exc), _stop_kind(exc)
        return report
    sent_before, deadline = active.pipeline.requests_sent, time.monotonic() + budget_s
    try:
        _rounds(context, active, worker, lease, report, deadline)
    finally:
        report.http_requests = active.pipeline.requests_sent - sent_before
        if own_client:
            active.close()
    return report


def _rounds(context: SyncContext, client: DataverseClient, worker: str, lease: timedelta,
            report: DrainReport, deadline: float) -> None:
    failed_rounds, solo = 0, False
    while time.monotonic() < deadline and report.stopped is None:
        with session_scope(context.session_factory) as session:
            claimed = outbox_sending.claim_due(session, worker, limit=1 if solo else ROUND_ROWS, lease=lease)
        if not claimed:
            return
        report.rounds += 1
        try:
            _record(context, plan_round(client, claimed).send(client), worker, report)
            failed_rounds = 0
            continue
        except (BadResponse, BatchError) as exc:
            if not isinstance(exc, RolledBack | NotExecuted) and (solo or len(claimed) == 1):
                _fail_unreadable(context, claimed, worker, exc, report)
                continue
            solo, stop = True, _Stop(str(exc), "transient", retry_in=0.0, final=False)  # find the row
        except (DataverseError, MsxError) as exc:
            stop = round_failure(exc)
        except Exception as exc:  # a bug must neither kill the worker nor lose the rows
            _log.exception("outbox round failed")
            stop = _Stop(f"unexpected error while writing to MSX ({type(exc).__name__})", "transient",
                         retry_in=30.0, final=True)
        _put_back(context, claimed, worker, stop)
        failed_rounds = 0 if stop.final else failed_rounds + 1
        if stop.final or failed_rounds >= MAX_FAILED_ROUNDS:
            report.stopped, report.stop_kind = stop.message, stop.kind
        else:
            time.sleep(min(stop.retry_in, max(0.0, deadline - time.monotonic())))


def _fail_unreadable(context: SyncContext, claimed: list[outbox_sending.Claimed], worker: str,
                     exc: Exception, report: DrainReport) -> None:
    """An answer that cannot be understood fails its row (sending it again is safe: ``retry``)."""
    reason = f"MSX sent an answer callnotes cannot read ({exc}); retry sends it again without a duplicate"
    with session_scope(context.session_factory) as session:
        for entry in claimed:
            outbox_sending.mark_failed(session, entry.item.id, worker, error=reason)
            report.failed += 1
            report.errors.append(f"#{entry.item.id}: {reason}")


def _put_back(context: SyncContext, claimed: list[outbox_sending.Claimed], worker: str, stop: _Stop) -> None:
    retry_at = utcnow() + timedelta(seconds=stop.retry_in)
    with session_scope(context.session_factory) as session:
        for entry in claimed:
            outbox_sending.release(session, entry.item.id, worker, error=stop.message, kind=stop.kind,
                                   retry_at=retry_at)


def _record(context: SyncContext, outcomes: list[Outcome], worker: str, report: DrainReport) -> None:
    """Every outcome of a round in one short transaction."""
    landed = [outbox_sending.Landed(o.item.id, o.crm_id or o.item.crm_record_id, o.status_code)
              for o in outcomes if o.sent]
    with session_scope(context.session_factory) as session:
        report.sent += outbox_sending.mark_sent(session, landed)
        outbox_sending.load_rows(session, [o.item.id for o in outcomes if not o.sent])
        with session.no_autoflush:
            for outcome in outcomes:
                if not outcome.sent:
                    _record_unsent(session, outcome, worker, report)


def _record_unsent(session: Session, outcome: Outcome, worker: str, report: DrainReport) -> None:
    item = outcome.item
    if outcome.refused or item.attempts >= MAX_TRANSIENT_ATTEMPTS:
        reason = outcome.error or "refused"
        if not outcome.refused:
            reason = f"gave up after {item.attempts} tries: {reason}"
        outbox_sending.mark_failed(session, item.id, worker, error=reason)
        report.failed += 1
        report.errors.append(f"#{item.id}: {reason}")
    else:
        wait = 0.0 if outcome.again_now else backoff_seconds(item.attempts)
        outbox_sending.release(session, item.id, worker, error=outcome.error or "not sent", kind="transient",
                               retry_at=utcnow() + timedelta(seconds=wait))


def round_failure(exc: Exception) -> _Stop:
    """Why a whole ``$batch`` (or the reads before it) failed, as a stop: final when MSX cannot be
    reached or will not let us in (the rows wait), passing otherwise (a short backoff)."""
    if isinstance(exc, NetworkBlocked | VpnDown):
        return _Stop(_sentence(exc), "unreachable", retry_in=60.0, final=True)
    if isinstance(exc, AuthError):
        return _Stop(_sentence(exc), "signed_out", retry_in=60.0, final=True)
    if isinstance(exc, Throttled):
        wait = exc.retry_after or 30.0
        return _Stop(f"MSX is throttling requests (service protection): writes wait; next try in "
                     f"{wait:.0f} s.", "throttled", retry_in=wait, final=True)
    if isinstance(exc, TransportError):
        return _Stop(_sentence(exc), "unreachable", retry_in=1.0, final=False)
    if isinstance(exc, ServerError):
        return _Stop(f"MSX answered with a server error ({exc}); trying again shortly.", "transient",
                     retry_in=1.0, final=False)
    return _Stop(f"writing to MSX failed: {exc}", "transient", retry_in=5.0, final=False)


def _stop_kind(exc: Exception) -> str:
    return round_failure(exc).kind


def _sentence(exc: Exception) -> str:
    """The one place a CRM error becomes the sentence shown beside waiting writes."""
    if isinstance(exc, NetworkBlocked | VpnDown):
        return str(VpnDown())
    if isinstance(exc, AuthError):
        return f"Not signed in to MSX: {exc} Sign in on the MSX connection page."
    if isinstance(exc, TransportError):
        return f"MSX cannot be reached (is the VPN or the network down?): {exc}"
    return str(exc)

