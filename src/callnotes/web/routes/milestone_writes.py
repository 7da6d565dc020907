"""Changes to milestones in MSX, through the outbox: edit the date, monthly use and status, add a
forecast comment, join or leave the access team (one milestone, or every ticked one at once). Each is
queued in the request's transaction and a drain follows the commit; the pages show "joining…" or the
change on its way until it lands (the mirror then shows it)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from callnotes.store.errors import StoreError, ValidationError
from callnotes.store.limits import NOTE_MILESTONES_MAX
from callnotes.store.models import Milestone
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.milestones import get_milestone
from callnotes.store.repo.outbox import (
    MilestoneEdit,
    WritebackOff,
    queue_milestone_edit,
    queue_milestone_team_changes,
)
from callnotes.web.deps import SessionDep, checked_id, render
from callnotes.web.errors import store_error_status
from callnotes.web.routes.milestones import milestone_page
from callnotes.web.routes.outbox import CHANGED_EVENT, local_path
from callnotes.web.writeback import drain_after_response, mode

router = APIRouter(include_in_schema=False)
_Text = Annotated[str, Form(max_length=2100)]
_Action = Annotated[Literal["join", "leave"], Form()]
#: The most milestones one click joins or leaves.
BULK_MAX = NOTE_MILESTONES_MAX


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise ValidationError(f"milestone date {text!r} is not a date (YYYY-MM-DD)",
                              field="milestone_date") from None


def _amount(text: str) -> float | None:
    cleaned = text.strip().replace(",", "").replace(" ", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise ValidationError(f"monthly use {text!r} is not a number", field="monthly_use") from None
    if not math.isfinite(value):
        raise ValidationError(f"monthly use {text!r} is not a number", field="monthly_use")
    return value


def edit_of(milestone: Milestone, fields: dict[str, str]) -> MilestoneEdit:
    """What the form changes: only the fields that differ from the milestone now (the store checks
    the values); text that is no date or number is refused here."""
    when, amount = _date(fields["milestone_date"]), _amount(fields["monthly_use"])
    status = fields["status"].strip() or None
    return MilestoneEdit(
        milestone_date=when if when != milestone.milestone_date else None,
        monthly_use=amount if amount != milestone.monthly_use else None,
        status=status if status != milestone.status_label else None,
        comment=fields["comment"].strip() or None)


@router.post("/milestones/{milestone_id:int}/edit", response_class=HTMLResponse)
def milestone_edit(
    request: Request, session: SessionDep, background: BackgroundTasks, milestone_id: int,
    milestone_date: _Text = "", monthly_use: _Text = "", status: _Text = "", comment: _Text = "",
) -> Response:
    """Queue the changes (and the comment) for MSX; bad input shows the form again as typed."""
    milestone = get_milestone(session, checked_id(milestone_id, "milestone"))
    fields = {"milestone_date": milestone_date, "monthly_use": monthly_use, "status": status,
              "comment": comment}
    try:
        items = queue_milestone_edit(session, milestone.id, edit_of(milestone, fields), mode(request))
    except (ValidationError, WritebackOff) as exc:
        return _edit_refused(request, session, milestone.id, fields, exc)
    drain_after_response(request, background, items)
    return RedirectResponse(f"/milestones/{milestone.id}", status_code=303)


def _edit_refused(request: Request, session: Session, milestone_id: int, fields: dict[str, str],
                  exc: StoreError) -> HTMLResponse:
    session.rollback()
    milestone = get_milestone(session, milestone_id)
    return milestone_page(request, session, milestone, fields=fields, errors=[str(exc)],
                          status_code=store_error_status(exc))


def _team_button(request: Request, session: Session, milestone: Milestone) -> HTMLResponse:
    change = activity_of_milestones(session, [milestone.id])[milestone.id].team_change
    return render(request, "msx/_team_button.html", milestone=milestone, change=change)


@router.get("/milestones/{milestone_id:int}/team", response_class=HTMLResponse)
def team_button(request: Request, session: SessionDep, milestone_id: int) -> HTMLResponse:
    """The join / leave button as it is now (a pending change reloads it when the outbox changes)."""
    return _team_button(request, session, get_milestone(session, checked_id(milestone_id, "milestone")))


@router.post("/milestones/{milestone_id:int}/team", response_class=HTMLResponse)
def team_change(request: Request, session: SessionDep, background: BackgroundTasks, milestone_id: int,
                action: _Action) -> HTMLResponse:
    """Join or leave the milestone's access team through the outbox ("joining…" until it lands);
    the opposite of a change still on its way cancels it."""
    milestone = get_milestone(session, checked_id(milestone_id, "milestone"))
    items = queue_milestone_team_changes(session, [milestone.id], action == "join", mode(request))
    drain_after_response(request, background, items)
    response = _team_button(request, session, milestone)
    response.headers["HX-Trigger"] = CHANGED_EVENT
    return response


@router.post("/milestones/team")
def team_changes(
    request: Request, session: SessionDep, background: BackgroundTasks, action: _Action,
    milestone_ids: Annotated[list[int], Form(max_length=BULK_MAX)] = [],  # noqa: B006 - FastAPI copies it
    return_to: Annotated[str, Form(max_length=400)] = "/milestones",
) -> Response:
    """Join (or leave) the access teams of every ticked milestone with one click."""
    ids = [checked_id(i, "milestone") for i in milestone_ids]
    if not ids:
        raise ValidationError("tick at least one milestone to join or leave its team", field="milestone_ids")
    items = queue_milestone_team_changes(session, ids, action == "join", mode(request))
    drain_after_response(request, background, items)
    target = local_path(return_to)
    return RedirectResponse(target if target.startswith("/milestones") else "/milestones", status_code=303)
