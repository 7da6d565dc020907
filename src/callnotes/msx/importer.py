"""The account import: read my world from MSX in a handful of round trips, upsert it into the store.

``fetch_snapshot`` runs the dependency-levelled plan (import_plan.py) through the round runner
(rounds.py), each round one ``$batch``; ``run_import`` then writes the snapshot in one transaction
(store_sync.py), so a cancelled or failed import leaves the store as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from callnotes.dataverse import DataverseClient, NetworkBlocked
from callnotes.dataverse.query import BATCH_URL_BUDGET, GET_URL_BUDGET
from callnotes.msx.errors import VpnDown
from callnotes.msx.import_plan import ImportPlan, ImportSnapshot
from callnotes.msx.progress import (
    CancelToken,
    ImportSummary,
    ProgressCallback,
    ProgressEvent,
    ignore_progress,
)
from callnotes.msx.rounds import RoundRunner
from callnotes.msx.transport import BatchTransport, SingleTransport

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchStats:
    rounds: int
    parts: int
    http_requests: int
    seconds: float


def fetch_snapshot(
    client: DataverseClient,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    batched: bool = True,
) -> tuple[ImportSnapshot, FetchStats]:
    """Everything the import needs, typed. ``batched=False`` sends one request per query (baseline)."""
    plan = ImportPlan(url_budget=BATCH_URL_BUDGET if batched else GET_URL_BUDGET)
    transport = BatchTransport(client) if batched else SingleTransport(client)
    runner = RoundRunner(transport, progress=progress, cancel=cancel)
    sent_before = client.pipeline.requests_sent
    started = time.monotonic()
    try:
        runner.run(plan.first_reads())
    except NetworkBlocked as exc:
        raise VpnDown(exc.message) from exc
    stats = FetchStats(runner.rounds, runner.parts, client.pipeline.requests_sent - sent_before,
                       time.monotonic() - started)
    _log.info("import read %d accounts in %d rounds, %d HTTP requests", len(plan.snapshot.accounts),
              stats.rounds, stats.http_requests)
    return plan.snapshot, stats


def run_import(
    client: DataverseClient,
    session_factory: sessionmaker[Session],
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    crm_url: str | None = None,
) -> ImportSummary:
    """Import my accounts and everything around them; returns what changed in the store.

    ``crm_url`` is the org the stored "open in MSX" links point at (default: the client's org).
    """
    from callnotes.msx.store_sync import apply_snapshot

    cancel = cancel or CancelToken()
    started = time.monotonic()
    snapshot, stats = fetch_snapshot(client, progress=progress, cancel=cancel)
    cancel.raise_if_cancelled()
    progress(ProgressEvent("saving", 0, 1))
    with session_factory() as session:
        org = crm_url or client.api_url.split("/api/data/")[0]
        summary = apply_snapshot(session, snapshot, crm_url=org)
        cancel.raise_if_cancelled()
        session.commit()
    progress(ProgressEvent("saving", 1, 1))
    summary.http_requests, summary.batch_parts = stats.http_requests, stats.parts
    summary.seconds = time.monotonic() - started
    return summary
