"""Home page: recent notes, drafts, milestones due soon, pending CRM writes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from callnotes.store.repo.customers import store_is_empty
from callnotes.store.repo.drafts import list_drafts
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.notes import list_notes
from callnotes.web.deps import SessionDep, SettingsDep, render
from callnotes.web.routes.connection import first_run
from callnotes.web.routes.milestones import DUE_SOON_DAYS, milestones_due
from callnotes.web.routes.outbox import home_panel
from callnotes.web.routes.refresh import refresh_view
from callnotes.web.writeback import mode

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    milestones = milestones_due(session)
    return render(
        request,
        "home.html",
        active="home",
        notes=list_notes(session, limit=10),
        drafts=list_drafts(session, limit=20),
        milestones=milestones,
        activity=activity_of_milestones(session, [m.id for m in milestones]),
        writeback_mode=mode(request).value,
        due_days=DUE_SOON_DAYS,
        **refresh_view(session),
        first_run=first_run(settings, store_is_empty(session)),
        **home_panel(session),
    )
