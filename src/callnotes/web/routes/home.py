"""Home page: recent notes, drafts, milestones due soon, pending CRM writes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from callnotes.store.repo.drafts import list_drafts
from callnotes.store.repo.notes import list_notes
from callnotes.web.deps import SessionDep, render
from callnotes.web.routes.milestones import DUE_SOON_DAYS, milestones_due

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "home.html",
        active="home",
        notes=list_notes(session, limit=10),
        drafts=list_drafts(session, limit=20),
        milestones=milestones_due(session),
        pending=[],  # the outbox lands with write-back (issue 9)
        due_days=DUE_SOON_DAYS,
    )
