"""The account import: read my world from MSX (``callnotes.msx``), write it into the store in one
transaction (mirror.py), so a cancelled or failed import leaves the store as it was.

No transaction is open while MSX is asked anything: one short read (which stored ids did MSX not
return?), the network, then one write. Other writers (the web app, the outbox worker, the run's own
progress rows) never wait on the network.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from callnotes.dataverse import DataverseClient
from callnotes.msx.importer import fetch_with, still_in_msx
from callnotes.msx.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from callnotes.msx.transport import BatchTransport
from callnotes.store import session_scope
from callnotes.store.repo.msx_refresh import save_watermarks
from callnotes.sync.connection import org_url
from callnotes.sync.mirror import apply_snapshot, records_by_kind, snapshot_watermarks, unseen_ids
from callnotes.sync.summary import ImportSummary


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
    cancel = cancel or CancelToken()
    started = time.monotonic()
    org = crm_url or org_url(client.api_url)
    with BatchTransport(client) as transport:
        snapshot, stats = fetch_with(transport, progress=progress, cancel=cancel, batched=True)
        with session_factory() as session:
            unseen = unseen_ids(session, records_by_kind(snapshot, crm_url=org))
        still = still_in_msx(transport, unseen, progress=progress, cancel=cancel)
        cancel.raise_if_cancelled()  # the last chance: the write below is one short transaction
        progress(ProgressEvent("saving", 0, 1))
        with session_scope(session_factory) as session:
            summary = apply_snapshot(session, snapshot, crm_url=org, still_in_msx=still)
            save_watermarks(session, snapshot_watermarks(snapshot))  # where the next refresh starts
        summary.http_requests = transport.http_requests
    progress(ProgressEvent("saving", 1, 1))
    summary.batch_parts = stats.parts
    summary.seconds = time.monotonic() - started
    return summary
