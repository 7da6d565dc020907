"""The mirror's incremental refresh from the web: ``POST /api/refresh`` → 202 (a refresh starts on
the job queue), ``GET /api/refresh`` → the last one (DESIGN.md §Connection contracts), and the home
page's "Refresh now" button with its "Last refreshed …" line (an htmx fragment that polls while a
refresh runs). CSRF: the app-wide dependency (web/csrf.py) checks the POSTs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from callnotes.store.errors import Conflict
from callnotes.sync.queue import JobQueue
from callnotes.sync.refresh_job import refresh_state, start_refresh
from callnotes.web.deps import SessionDep, render
from callnotes.web.errors import error_json

router = APIRouter()


def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.runtime.queue
    return queue


@router.post("/api/refresh", status_code=202, tags=["msx"])
def refresh_now(request: Request, session: SessionDep) -> JSONResponse:
    """Start an incremental refresh of the MSX mirror; 409 while an import or a refresh runs."""
    try:
        start_refresh(_queue(request))
    except Conflict as exc:
        return error_json(409, str(exc), "conflict")
    session.expire_all()
    return JSONResponse(refresh_state(session), status_code=202)


@router.get("/api/refresh", tags=["msx"])
def last_refresh(session: SessionDep) -> JSONResponse:
    """The last refresh: ``{"state", "started_at", "finished_at", "http_requests", "changed", "error"}``."""
    state = refresh_state(session)
    if state is None:
        return error_json(404, "No refresh has run yet.", "not_found")
    return JSONResponse(state)


def _fragment(request: Request, session: SessionDep, **extra: Any) -> HTMLResponse:
    return render(request, "partials/refresh_status.html", refresh=refresh_state(session), **extra)


@router.post("/refresh", response_class=HTMLResponse, include_in_schema=False)
def refresh_button(request: Request, session: SessionDep) -> HTMLResponse:
    refused = None
    try:
        start_refresh(_queue(request))
    except Conflict as exc:
        refused = str(exc)
    session.expire_all()
    return _fragment(request, session, refused=refused)


@router.get("/refresh", response_class=HTMLResponse, include_in_schema=False)
def refresh_fragment(request: Request, session: SessionDep) -> HTMLResponse:
    return _fragment(request, session)
