"""The account import's reads: my world from MSX in a handful of round trips.

``fetch_snapshot`` runs the dependency-levelled plan (import_plan.py) through the round runner
(rounds.py), each round one ``$batch``; ``still_in_msx`` asks, in one more round, which records the
import did not return MSX still has. Writing the snapshot into the store is ``callnotes.sync``'s job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from callnotes.dataverse import DataverseClient, NetworkBlocked
from callnotes.dataverse.query import BATCH_URL_BUDGET, GET_URL_BUDGET, chunk_in_filters
from callnotes.msx._parse import formatted
from callnotes.msx.errors import VpnDown
from callnotes.msx.import_plan import ImportPlan, ImportSnapshot
from callnotes.msx.progress import CancelToken, ProgressCallback, ignore_progress
from callnotes.msx.rounds import Read, ReadTransport, RoundRunner, Rows
from callnotes.msx.schema import EntitySet
from callnotes.msx.transport import BatchTransport, SingleTransport

_log = logging.getLogger(__name__)
K = TypeVar("K")


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
    with BatchTransport(client) if batched else SingleTransport(client) as transport:
        return fetch_with(transport, progress=progress, cancel=cancel, batched=batched)


def fetch_with(
    transport: ReadTransport, *, progress: ProgressCallback, cancel: CancelToken | None, batched: bool
) -> tuple[ImportSnapshot, FetchStats]:
    plan = ImportPlan(url_budget=BATCH_URL_BUDGET if batched else GET_URL_BUDGET)
    runner = RoundRunner(transport, progress=progress, cancel=cancel)
    sent_before, started = transport.http_requests, time.monotonic()
    try:
        runner.run(plan.first_reads())
    except NetworkBlocked as exc:
        raise VpnDown(exc.message) from exc
    stats = FetchStats(runner.rounds, runner.parts, transport.http_requests - sent_before,
                       time.monotonic() - started)
    _log.info("import read %d accounts in %d rounds, %d HTTP requests", len(plan.snapshot.accounts),
              stats.rounds, stats.http_requests)
    return plan.snapshot, stats


#: Where to look up each kind of stored record by id: entity set and key (sellers / SEs are users).
_LOOKUP: dict[str, tuple[str, str]] = {
    "territories": (EntitySet.TERRITORIES, "territoryid"),
    "sellers": (EntitySet.SYSTEM_USERS, "systemuserid"),
    "solution_engineers": (EntitySet.SYSTEM_USERS, "systemuserid"),
    "customers": (EntitySet.ACCOUNTS, "accountid"),
    "opportunities": (EntitySet.OPPORTUNITIES, "opportunityid"),
    "milestones": (EntitySet.MILESTONES, "msp_engagementmilestoneid"),
    "tasks": (EntitySet.TASKS, "activityid"),
}


def still_in_msx(
    transport: ReadTransport,
    unseen: Mapping[K, set[str]],
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> dict[K, dict[str, str | None]]:
    """Which of the ids the import did not return MSX still has, each with its state label (filled
    for opportunities: "Won", "Lost"…). One ``$batch`` round; no request when nothing is unseen.
    Ids that are no GUID cannot be in MSX."""
    found: dict[K, dict[str, str | None]] = {kind: {} for kind in unseen}
    api_url = transport.api_url
    reads = [read for kind, ids in unseen.items() for read in _existence_reads(api_url, kind, ids, found)]
    if reads:
        RoundRunner(transport, progress=progress, cancel=cancel).run(reads)
    return found


def _existence_reads(
    api_url: str, kind: K, ids: set[str], found: dict[K, dict[str, str | None]]
) -> list[Read]:
    entity_set, key = _LOOKUP[str(kind)]
    guids = sorted({g for g in map(_guid_or_none, ids) if g is not None}, key=str)
    if not guids:
        return []
    select = f"{key},statecode" if entity_set == EntitySet.OPPORTUNITIES else key

    def _done(rows: Rows) -> list[Read]:
        for row in rows:
            found[kind][str(row.get(key, "")).lower()] = formatted(row, "statecode")
        return []

    base = f"{api_url}/{entity_set}?$select={select}"
    filters = chunk_in_filters(key, guids, url_without_filter=base, budget=BATCH_URL_BUDGET)
    return [Read("checking gone records", entity_set, {"$select": select, "$filter": str(f)}, on_done=_done)
            for f in filters]


def _guid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
