"""The mirror's incremental refresh from the web: ``POST /api/refresh`` → 202 (a refresh starts on
the job queue), ``GET /api/refresh`` → the last one (DESIGN.md §Connection contracts), and the home
page's "Refresh now" button with its "Last refreshed …" line (an htmx fragment that polls while a
refresh runs), and the settings page's interval (saved in the preferences; the environment wins).
CSRF: the app-wide dependency (web/csrf.py) checks the POSTs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from callnotes.config import Settings, env_overrides, save_preferences
from callnotes.store.errors import Conflict
from callnotes.sync.queue import JobQueue
from callnotes.sync.refresh_job import MAX_MINUTES, refresh_minutes, refresh_state, short_error, start_refresh
from callnotes.web.deps import SessionDep, SettingsDep, render
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


def refresh_view(session: Session) -> dict[str, Any]:
    """What ``partials/refresh_status.html`` shows (the home page includes it)."""
    state = refresh_state(session)
    return {"refresh": state, "refresh_problem": short_error(state["error"]) if state else None}


def _fragment(request: Request, session: SessionDep, **extra: Any) -> HTMLResponse:
    return render(request, "partials/refresh_status.html", **refresh_view(session), **extra)


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


# -- the settings page's interval ---------------------------------------------------------------------
def _interval(request: Request, settings: Settings, *, status_code: int = 200, **extra: Any) -> HTMLResponse:
    from_env = bool(env_overrides({"refresh_minutes"}))
    return render(request, "settings/_refresh.html", status_code=status_code,
                  refresh_minutes=refresh_minutes(settings), refresh_env=from_env,
                  **{"refresh_saved": False, "refresh_error": None, **extra})


@router.get("/settings/refresh", response_class=HTMLResponse, include_in_schema=False)
def interval_section(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _interval(request, settings)


@router.post("/settings/refresh", response_class=HTMLResponse, include_in_schema=False)
def save_interval(request: Request, settings: SettingsDep,
                  minutes: Annotated[str, Form(max_length=10)] = "") -> HTMLResponse:
    """Save the minutes between scheduled refreshes (the next minute's check follows it, no restart)."""
    if env_overrides({"refresh_minutes"}):
        return _interval(request, settings, status_code=409, refresh_error=(
            "CALLNOTES_REFRESH_MINUTES is set in the environment, which wins over this page: "
            "nothing was saved."))
    try:
        value = int(minutes.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_MINUTES:
        return _interval(request, settings, status_code=422, refresh_error=(
            f"{minutes.strip()!r} is not a number of minutes between 1 and {MAX_MINUTES}: "
            "nothing was saved."))
    save_preferences(settings, refresh_minutes=value)
    return _interval(request, settings, refresh_saved=True)
