"""MSX pages and fragments: connection status, import with progress (polled fragment and a
Server-Sent Events stream), TPID lookup for the customer form. (Joining or leaving a milestone's
access team goes through the outbox: ``milestone_writes``.)

State changes are POSTs; the app-wide CSRF dependency (web/csrf.py) checks them (htmx sends the token
header from base.html, plain forms carry the hidden ``csrf_token`` field). Every MSX or store error
becomes a message in the fragment (`_failure`, worded by `msx_message`), never a stack trace.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from callnotes.config import Settings
from callnotes.dataverse import AuthError, DataverseError, NetworkBlocked, TransportError
from callnotes.msx import accounts
from callnotes.msx.errors import InvalidInput, MsxError, MsxNotFound, VpnDown
from callnotes.msx.links import account_url
from callnotes.msx.records import Account
from callnotes.store.errors import Conflict
from callnotes.store.repo.customers import get_customer, link_customer_to_msx, list_customers_to_link
from callnotes.sync import jobs
from callnotes.sync.connection import NotConfigured, connection_status, link_org, open_client
from callnotes.sync.queue import JobQueue
from callnotes.web.deps import SessionDep, SettingsDep, checked_id, render
from callnotes.web.errors import error_json
from callnotes.web.import_stream import import_events

router = APIRouter(include_in_schema=False)
_MSX_ERRORS = (MsxError, DataverseError)
_STATUS: dict[type[Exception], int] = {InvalidInput: 422, MsxNotFound: 404}


def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.runtime.queue
    return queue


def _fragment(request: Request, name: str, **context: Any) -> HTMLResponse:
    return render(request, f"msx/{name}", **context)


def _status_of(exc: Exception) -> int:
    """The one place an MSX error gets its HTTP status: bad input 422, unknown record 404, else 502."""
    return next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 502)


def msx_message(exc: Exception) -> str:
    """The one place an MSX or CRM error becomes a sentence a person can act on."""
    if isinstance(exc, (NetworkBlocked, VpnDown)):  # their details repeat the same advice
        return str(VpnDown())
    if isinstance(exc, (AuthError, NotConfigured)):
        return f"Not signed in to MSX: {exc} Sign in on the MSX connection page (/msx)."
    if isinstance(exc, TransportError):
        return f"MSX cannot be reached (is the VPN or the network down?): {exc}"
    return str(exc)


def _failure(request: Request, exc: Exception, status_code: int | None = None) -> HTMLResponse:
    return render(request, "msx/_error.html", status_code=status_code or _status_of(exc),
                  message=msx_message(exc))


@router.get("/msx", response_class=HTMLResponse)
def msx_page(request: Request) -> HTMLResponse:
    return render(request, "msx/page.html", active="settings")


@router.get("/msx/unlinked", response_class=HTMLResponse)
def unlinked_customers(request: Request, session: SessionDep) -> HTMLResponse:
    """Customers with a TPID but no MSX account yet (fragment), each with a "find in MSX" button."""
    return _fragment(request, "_unlinked.html", customers=list_customers_to_link(session, limit=200))


@router.get("/msx/status", response_class=HTMLResponse)
def msx_status(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _fragment(request, "_status.html", status=connection_status(settings))


@router.post("/msx/import", response_class=HTMLResponse)
def start_import(request: Request, session: SessionDep) -> HTMLResponse:
    """Queue an import (the job queue runs it); a second one while one runs is refused politely."""
    refused = None
    try:
        jobs.start_import(_queue(request))
    except Conflict as exc:
        refused = str(exc)
    return _fragment(request, "_import.html", run=jobs.latest_import(session), refused=refused)


@router.get("/msx/import", response_class=HTMLResponse)
def import_progress(request: Request, session: SessionDep) -> HTMLResponse:
    return _fragment(request, "_import.html", run=jobs.latest_import(session))


@router.get("/msx/import/events")
async def import_event_stream(request: Request) -> StreamingResponse:
    """The running import as Server-Sent Events: ``phase`` events (phase, done, total), then one
    ``summary`` event (state, lines, error); the stream ends after the summary."""
    events = import_events(request.app.state.read_session_factory, request)  # reads: no write lock
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/msx/import/cancel", response_class=HTMLResponse)
def cancel_import(request: Request, session: SessionDep) -> HTMLResponse:
    run = jobs.cancel_import(session)
    return _fragment(request, "_import.html", run=run)


def _accounts_with_links(settings: Settings, tpid: str) -> list[tuple[Account, str]]:
    """The accounts of ``tpid``, each with its MSX page; MSX errors propagate to the caller."""
    with open_client(settings) as client:
        found = accounts.accounts_by_tpids(client, [tpid])
    crm = link_org(settings)
    return [(a, account_url(a.id, crm_url=crm)) for a in found]


@router.get("/msx/tpid", response_class=HTMLResponse)
def tpid_lookup(
    request: Request, settings: SettingsDep, tpid: Annotated[str, Query(max_length=40)] = "",
    customer_id: Annotated[int | None, Query()] = None, mode: Literal["", "form"] = "",
) -> HTMLResponse:
    """Accounts of a TPID with their MSX links. ``mode=form``: the customer form's picker, whose
    choice (``msx_account_id``) is saved with the customer; else "link this account" buttons."""
    try:
        links = _accounts_with_links(settings, tpid)
    except _MSX_ERRORS as exc:
        return _failure(request, exc)
    name = "_tpid_pick.html" if mode == "form" else "_tpid.html"
    return _fragment(request, name, tpid=tpid.strip(), accounts=links, customer_id=customer_id)


@router.get("/api/msx/accounts")
def tpid_lookup_json(
    settings: SettingsDep, tpid: Annotated[str, Query(max_length=40)] = ""
) -> JSONResponse:
    """``{"accounts": [{"id", "name", "tpid", "msx_url"}]}`` for a TPID (the customer form's lookup)."""
    try:
        links = _accounts_with_links(settings, tpid)
    except _MSX_ERRORS as exc:
        return error_json(_status_of(exc), msx_message(exc), "msx")
    rows = [{"id": a.id, "name": a.name, "tpid": a.tpid, "msx_url": url} for a, url in links]
    return JSONResponse({"accounts": rows})


@router.post("/msx/customers/{customer_id:int}/link", response_class=HTMLResponse)
def link_customer(
    request: Request, customer_id: int, session: SessionDep, settings: SettingsDep,
    account_id: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Tie a customer to its MSX account (by its TPID): sets the MSX id and link, so an import
    updates this customer instead of adding a second one."""
    customer = get_customer(session, checked_id(customer_id, "customer"))
    try:
        links = _accounts_with_links(settings, customer.tpid or "")
    except _MSX_ERRORS as exc:
        return _failure(request, exc)
    if not links:
        return _failure(request, MsxNotFound(f"MSX has no account with TPID {customer.tpid}"))
    wanted = account_id.strip().lower()
    chosen = [(a, url) for a, url in links if a.id == wanted] if wanted else links
    if len(chosen) != 1:
        return _fragment(request, "_tpid.html", tpid=customer.tpid, accounts=links, customer_id=customer.id)
    (account, url), = chosen
    try:
        link_customer_to_msx(session, customer.id, account.id, url)
    except Conflict as exc:
        return _failure(request, exc, 409)
    return _fragment(request, "_linked.html", customer=customer)
