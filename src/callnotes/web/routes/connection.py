"""The MSX connection in the app (issue 10): the JSON API of DESIGN.md §Connection contracts
(``GET/DELETE /api/connection``, ``POST /api/connection/device-code``), the settings page's connection
section (save, sign in with a device code, cancel, disconnect, the live checks) and the first-run
screen (``/welcome``: try the demo, or connect to MSX).

Every state change is a POST or DELETE under the app-wide CSRF check (web/csrf.py). The sign-in in
progress lives on ``app.state.connection`` (`sync.signin.Connection`), never at module level.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from callnotes.config import Settings, live_settings, read_client_secret, save_preferences
from callnotes.dataverse import DataverseError, SignInUnreachable
from callnotes.msx.errors import MsxError
from callnotes.store.errors import Conflict
from callnotes.sync import jobs
from callnotes.sync.connection import api_url, auth_mode
from callnotes.sync.connection_setup import (
    METHODS,
    ConnectionInputError,
    connection_checks,
    expected_tenant,
    parse_connection,
    planned_mode,
    save_connection,
)
from callnotes.sync.demo import DemoHandle, ensure_starter_templates, start_demo_emulator
from callnotes.sync.signin import Connection, ConnectionReport, ConnectionState, SignInOutcome
from callnotes.web.deps import SettingsDep, is_htmx, render
from callnotes.web.errors import error_json
from callnotes.web.writeback import queue_of

api = APIRouter(prefix="/api", tags=["connection"])
router = APIRouter(include_in_schema=False)
_FIELD = Annotated[str, Form(max_length=400)]


class ConnectionOut(BaseModel):
    """The MSX connection now (DESIGN.md §Connection contracts)."""

    state: str = Field(description="signed_in | signed_out | signing_in | unreachable | demo")
    auth: str
    user: str | None
    upn: str | None
    expires_on: str | None = Field(description="When the access token expires (UTC, ISO 8601)")
    crm_url: str | None
    last_ok: str | None = Field(description="When MSX last answered (UTC, ISO 8601)")


class DeviceCodeOut(BaseModel):
    """Go to ``verification_uri`` and enter ``user_code``; the app polls in the background."""

    user_code: str
    verification_uri: str
    expires_in: int
    message: str


def connection_of(request: Request) -> Connection:
    connection: Connection = request.app.state.connection
    return connection


# -- JSON API -------------------------------------------------------------------------------------------
@api.get("/connection", response_model=ConnectionOut)
def get_connection(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The connection's state: signed in (as whom, until when), signing in, signed out, unreachable, demo."""
    return connection_of(request).report(settings).as_json()


def _refusal_status(exc: Exception) -> int:
    """502 when the sign-in service could not be reached, else 409 (this sign-in method cannot)."""
    return 502 if isinstance(exc, SignInUnreachable) else 409


@api.post("/connection/device-code", response_model=DeviceCodeOut)
def start_device_code(request: Request, settings: SettingsDep) -> Response | DeviceCodeOut:
    """Start a device-code sign-in (sign-in method "device-code"); poll ``GET /api/connection``."""
    try:
        prompt = connection_of(request).start_device_code(settings)
    except (MsxError, DataverseError) as exc:
        return error_json(_refusal_status(exc), str(exc), "sign_in")
    expires_in = max(0, int((prompt.expires_at - datetime.now(UTC)).total_seconds()))
    return DeviceCodeOut(user_code=prompt.user_code, verification_uri=prompt.verification_uri,
                         expires_in=expires_in, message=prompt.message)


@api.delete("/connection", response_model=ConnectionOut)
def delete_connection(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Sign out: the sign-in in progress stops and the token cache is removed from disk."""
    connection = connection_of(request)
    connection.disconnect(settings)
    return connection.report(settings, reach=False, fresh=True).as_json()


# -- the settings page's section ------------------------------------------------------------------------
def _form_values(settings: Settings) -> dict[str, str]:
    live = live_settings(settings)
    return {"crm_url": live.crm_url or "", "auth": live.auth.value if live.auth else "",
            "tenant_id": live.tenant_id or "", "client_id": live.client_id or ""}


def connection_context(settings: Settings, **extra: Any) -> dict[str, Any]:
    """What ``connection/_settings.html`` shows (the form; the status loads itself)."""
    return {"conn_values": _form_values(settings), "conn_fixed": sorted(settings.fixed_fields()),
            "conn_methods": METHODS, "conn_errors": {}, "conn_saved": False,
            "conn_secret_saved": bool(read_client_secret(settings)),
            "conn_mode": planned_mode(settings).value, "conn_tenant": expected_tenant(settings), **extra}


def _panel(request: Request, settings: Settings, *, fresh: bool = False, message: str | None = None,
           status_code: int = 200) -> HTMLResponse:
    connection = connection_of(request)
    report = connection.report(settings, fresh=fresh)
    sign_in = connection.sign_in()
    outcome = sign_in.outcome if sign_in is not None else None
    return render(request, "connection/_panel.html", status_code=status_code, conn=report,
                  sign_in=sign_in if outcome is SignInOutcome.PENDING else None,
                  sign_in_message=message or (sign_in.message if sign_in is not None else None),
                  device_code=auth_mode(settings).value == "device-code", states=ConnectionState)


@router.get("/connection/panel", response_class=HTMLResponse)
def connection_panel(request: Request, settings: SettingsDep, fresh: bool = False) -> HTMLResponse:
    """The connection's state (polls itself every 2 s while a sign-in waits for its code)."""
    return _panel(request, settings, fresh=fresh)


@router.post("/connection/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Start a device-code sign-in from the page: the panel shows the code and the link."""
    try:
        connection_of(request).start_device_code(settings)
    except (MsxError, DataverseError) as exc:
        return _panel(request, settings, message=str(exc), status_code=_refusal_status(exc))
    return _panel(request, settings)


@router.post("/connection/cancel", response_class=HTMLResponse)
def cancel_sign_in(request: Request, settings: SettingsDep) -> HTMLResponse:
    connection_of(request).cancel()
    return _panel(request, settings)


@router.post("/connection/disconnect", response_class=HTMLResponse)
def disconnect(request: Request, settings: SettingsDep) -> HTMLResponse:
    connection_of(request).disconnect(settings)
    message = "Signed out: the token cache is removed."
    if auth_mode(settings).value == "azcli":
        message += " The Azure CLI keeps its own sign-in: run `az logout` to end it too."
    return _panel(request, settings, fresh=True, message=message)


@router.get("/connection/checks", response_class=HTMLResponse)
async def checks(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The steps to reach MSX, each checked now (CRM reachable, az installed, az signed in)."""
    found = await run_in_threadpool(connection_checks, settings)
    return render(request, "connection/_checks.html", checks=found, tenant=expected_tenant(settings))


@router.post("/settings/connection", response_class=HTMLResponse)
def save_connection_settings(
    request: Request, settings: SettingsDep, crm_url: _FIELD = "", auth: _FIELD = "", tenant_id: _FIELD = "",
    client_id: _FIELD = "", client_secret: Annotated[str | None, Form(max_length=2000)] = None,
    remove_secret: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Save the connection settings (the environment's fields are left alone); takes effect now."""
    secret = "" if remove_secret else (client_secret or None)
    fixed = {name: value for name, value in _form_values(settings).items() if name in settings.fixed_fields()}
    typed = {"crm_url": crm_url, "auth": auth, "tenant_id": tenant_id, "client_id": client_id, **fixed}
    try:
        entered = parse_connection(typed["crm_url"], typed["auth"], typed["tenant_id"], typed["client_id"],
                                   secret)
    except ConnectionInputError as exc:
        return render(request, "connection/_settings.html", status_code=422,
                      **connection_context(settings, conn_values=typed, conn_errors=exc.errors))
    kept = save_connection(settings, entered)
    connection_of(request).forget()
    if not is_htmx(request):
        return RedirectResponse("/settings#connection", status_code=303)
    return render(request, "connection/_settings.html", **connection_context(settings, conn_saved=True,
                                                                               conn_kept=kept))


# -- first run ------------------------------------------------------------------------------------------
def first_run(settings: Settings, empty_store: bool) -> bool:
    """Nothing configured, nothing chosen yet, an empty store: offer the demo or connecting."""
    live = live_settings(settings)
    return empty_store and not live.crm_url and live.connection_choice is None and not api_url(live)


@router.get("/welcome", response_class=HTMLResponse)
def welcome(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(request, "connection/welcome.html", active="home", tenant=expected_tenant(settings),
                  **connection_context(settings))


@router.post("/welcome/demo")
def try_the_demo(request: Request, settings: SettingsDep) -> Response:
    """Record the choice; start the embedded emulator (when none runs) and import its demo data."""
    if live_settings(settings).crm_url:  # a CRM is configured: the demo would import from it
        return RedirectResponse("/settings#connection", status_code=303)
    save_preferences(settings, connection_choice="demo")
    if not api_url(settings):
        request.app.state.demo_servers.append(DemoHandle(start_demo_emulator(), None))
        ensure_starter_templates(settings)
    try:
        jobs.start_import(queue_of(request))
    except Conflict:
        pass  # an import already runs: its progress shows on the settings page
    connection_of(request).forget()
    return RedirectResponse("/settings#msx-connection", status_code=303)


@router.post("/welcome/msx")
def connect_to_msx(request: Request, settings: SettingsDep) -> Response:
    save_preferences(settings, connection_choice="msx")
    return RedirectResponse("/settings#connection", status_code=303)


def connection_badge(request: Request, settings: Settings) -> ConnectionReport:
    """The header badge's report (a check at most every minute, see `sync.signin.CHECK_TTL`)."""
    return connection_of(request).report(settings)
