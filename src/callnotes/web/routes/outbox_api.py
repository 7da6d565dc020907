"""Write-back in the JSON API (DESIGN.md §Contracts, write-back): the outbox, approving / discarding /
retrying a row, milestone edits, opportunity close dates and team changes (milestone access teams, deal
teams) through the outbox, and ``POST /api/sync``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request

from callnotes.store.models import OutboxState
from callnotes.store.repo import outbox
from callnotes.sync.outbox_view import row_dict
from callnotes.web.deps import SessionDep
from callnotes.web.fields import PathId
from callnotes.web.outbox_schemas import (
    MilestonePatch,
    OpportunityPatch,
    OutboxIds,
    OutboxRowOut,
    SyncQueued,
    TeamChangeIn,
)
from callnotes.web.writeback import drain_after_response, mode, queue_of

router = APIRouter(prefix="/api", tags=["write-back"])
_Id = PathId
_DECISIONS = {"approve": outbox.approve, "discard": outbox.discard, "retry": outbox.retry}


@router.get("/outbox", response_model=list[OutboxRowOut])
def outbox_list(
    session: SessionDep, state: Annotated[OutboxState | None, Query()] = None
) -> list[OutboxRowOut]:
    """CRM writes, newest first; ``state`` filters."""
    items = outbox.list_items(session, states=[state] if state is not None else None)
    return [OutboxRowOut.model_validate(row_dict(item)) for item in items]


def _decision(verb: str) -> Callable[..., OutboxRowOut]:
    """The route for ``verb`` (FastAPI reads its signature)."""
    def decide(
        item_id: _Id, session: SessionDep, request: Request, background: BackgroundTasks
    ) -> OutboxRowOut:
        (item,) = _DECISIONS[verb](session, [item_id])
        drain_after_response(request, background, [item])
        return OutboxRowOut.model_validate(row_dict(item))

    decide.__name__ = f"outbox_{verb}"
    decide.__doc__ = f"{verb.capitalize()} one outbox row (409 when its state does not allow it)."
    return decide


for _verb in _DECISIONS:
    router.post(f"/outbox/{{item_id}}/{_verb}", response_model=OutboxRowOut)(_decision(_verb))


@router.patch("/milestones/{milestone_id}", response_model=OutboxIds, status_code=202)
def milestone_edit(milestone_id: _Id, body: MilestonePatch, session: SessionDep, request: Request,
                   background: BackgroundTasks) -> OutboxIds:
    """Queue the changes (and a forecast comment) for MSX; the mirror shows them once they land."""
    edit = outbox.MilestoneEdit(milestone_date=body.milestone_date, monthly_use=body.monthly_use,
                                status=body.status, comment=body.comment)
    items = outbox.queue_milestone_edit(session, milestone_id, edit, mode(request))
    drain_after_response(request, background, items)
    return OutboxIds(outbox_ids=[item.id for item in items])


@router.post("/milestones/{milestone_id}/team", response_model=OutboxIds, status_code=202)
def milestone_team(milestone_id: _Id, body: TeamChangeIn, session: SessionDep, request: Request,
                   background: BackgroundTasks) -> OutboxIds:
    """Join or leave the milestone's access team in MSX (nothing queued when already so)."""
    items = outbox.queue_milestone_team_changes(session, [milestone_id], body.join, mode(request))
    drain_after_response(request, background, items)
    return OutboxIds(outbox_ids=[item.id for item in items])


@router.patch("/opportunities/{opportunity_id}", response_model=OutboxIds, status_code=202)
def opportunity_edit(opportunity_id: _Id, body: OpportunityPatch, session: SessionDep, request: Request,
                     background: BackgroundTasks) -> OutboxIds:
    """Queue a new estimated close date for MSX (a date not sent yet is replaced)."""
    items = outbox.queue_opportunity_close_date(session, opportunity_id, body.estimated_close_date,
                                                mode(request))
    drain_after_response(request, background, items)
    return OutboxIds(outbox_ids=[item.id for item in items])


@router.post("/opportunities/{opportunity_id}/team", response_model=OutboxIds, status_code=202)
def deal_team(opportunity_id: _Id, body: TeamChangeIn, session: SessionDep, request: Request,
              background: BackgroundTasks) -> OutboxIds:
    """Join or leave the opportunity's deal team in MSX."""
    items = outbox.queue_deal_team_change(session, opportunity_id, body.join, mode(request))
    drain_after_response(request, background, items)
    return OutboxIds(outbox_ids=[item.id for item in items])


@router.post("/sync", response_model=SyncQueued, status_code=202)
def sync_now(request: Request) -> SyncQueued:
    """Refresh from MSX, then send what may leave (on the job queue)."""
    queue_of(request).enqueue_sync()
    return SyncQueued()
