"""The incremental refresh: what changed in MSX since the last watermark (msx/refresh_plan.py,
where the choice of ``modifiedon`` watermarks over change tracking is explained), written into the
store through the import's own mirror code, in one transaction.

As with the import, no transaction is open while MSX is asked anything: one short read of the
mirror's scope and watermarks, the network, then one write. A refresh that fails on the way (VPN,
throttling, a dropped connection) writes nothing, so the store and the watermarks stay as they were.
A refresh that finds nothing writes nothing either (its transaction is rolled back, no row touched).
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from callnotes.dataverse import DataverseClient
from callnotes.msx.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from callnotes.msx.refresh_plan import fetch_changes
from callnotes.msx.refresh_request import WATERMARKED, RefreshRequest, RefreshResult
from callnotes.msx.schema import EntitySet
from callnotes.msx.transport import BatchTransport
from callnotes.store import MsxKind
from callnotes.store.repo.msx_refresh import (
    ME,
    Mark,
    MirrorScope,
    mirror_scope,
    read_watermarks,
    save_watermarks,
)
from callnotes.sync.connection import org_url
from callnotes.sync.errors import SyncError
from callnotes.sync.mirror import Known, apply_changes
from callnotes.sync.summary import ImportSummary

_KINDS = {EntitySet.OPPORTUNITIES: MsxKind.OPPORTUNITIES, EntitySet.MILESTONES: MsxKind.MILESTONES,
          EntitySet.TASKS: MsxKind.TASKS}


class NothingImported(SyncError):
    """The mirror holds no import to refresh (the caller runs a full import instead)."""

    def __init__(self) -> None:
        super().__init__("Nothing has been imported from MSX yet: import your accounts first.")


def _request(scope: MirrorScope, marks: dict[str, Mark]) -> RefreshRequest:
    me = marks.get(ME)
    if me is None or not me.value or not scope.accounts:
        raise NothingImported()
    team = marks.get(EntitySet.ACCOUNT_TEAMS)
    return RefreshRequest(
        user_id=me.value, accounts=frozenset(scope.accounts), territories=frozenset(scope.territories),
        open_opportunities=frozenset(scope.open_opportunities), opportunities=frozenset(scope.opportunities),
        milestones=frozenset(scope.milestones), tasks=frozenset(scope.tasks),
        since={name: marks[name].modified_on if name in marks else None for name in WATERMARKED},
        team_rows=team.row_count if team is not None else None, team_links=frozenset(scope.team_links))


def _known(request: RefreshRequest, result: RefreshResult) -> Known:
    snap = result.snapshot
    gone_milestones = result.gone.get(EntitySet.MILESTONES, set())
    return Known(
        territories=request.territories | set(snap.territories),
        accounts=request.accounts | set(snap.accounts),
        # what the import links milestones to: open opportunities only
        opportunities=(request.open_opportunities - set(result.closed_opportunities))
        | set(snap.opportunities),
        milestones=(request.milestones - gone_milestones) | set(snap.milestones),
        team_accounts=result.team_accounts,
    )


def _marks(result: RefreshResult) -> dict[str, Mark]:
    marks = {str(name): Mark(moment) for name, moment in result.newest.items()}
    if result.team_rows is not None:
        newest = result.newest.get(EntitySet.ACCOUNT_TEAMS)
        marks[EntitySet.ACCOUNT_TEAMS] = Mark(newest, row_count=result.team_rows)
    return marks


def run_refresh(
    client: DataverseClient,
    session_factory: sessionmaker[Session],
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    crm_url: str | None = None,
) -> ImportSummary:
    """Bring the mirror up to date with what changed in MSX; `NothingImported` when there is no
    import to refresh. Returns what changed in the store and what it cost."""
    started = time.monotonic()
    with session_factory() as session:
        request = _request(mirror_scope(session), read_watermarks(session))
    with BatchTransport(client) as transport:
        result, stats = fetch_changes(transport, request, progress=progress, cancel=cancel)
        (cancel or CancelToken()).raise_if_cancelled()
        progress(ProgressEvent("saving", 0, 1))
        summary = _write(session_factory, request, result, crm_url or org_url(client.api_url))
        summary.http_requests = transport.http_requests
    summary.new_accounts = len(result.new_accounts)
    progress(ProgressEvent("saving", 1, 1))
    summary.batch_parts = stats.parts
    summary.seconds = time.monotonic() - started
    return summary


def _write(session_factory: sessionmaker[Session], request: RefreshRequest, result: RefreshResult,
           crm_url: str) -> ImportSummary:
    """One transaction: the changes and the new watermarks; rolled back when nothing differed."""
    with session_factory() as session:
        try:
            summary = apply_changes(
                session, result.snapshot, known=_known(request, result), crm_url=crm_url,
                closed=result.closed_opportunities,
                gone={_KINDS[EntitySet(name)]: ids for name, ids in result.gone.items()},
                my_milestone_teams=result.snapshot.my_milestone_teams,
                my_opportunity_teams=result.snapshot.my_opportunity_teams)
            moved = save_watermarks(session, _marks(result))
            if summary.changed or moved:
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
    return summary
