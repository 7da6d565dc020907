"""The outbox in the browser: the Outbox page and the home panel (every write in words, approve /
edit / discard / retry, approve all, sync now), and the header's badge with the one banner saying
why writes wait ("VPN seems down — 3 writes waiting").

Each state change is a POST (CSRF-checked app-wide). htmx callers get an empty answer with the event
``outbox-changed``: every outbox fragment on the page listens and reloads itself. A plain form
post is sent back to the page it came from (``return_to``, a local path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from callnotes.domain import WritebackMode
from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.models import OutboxItem, OutboxKind, OutboxState
from callnotes.store.repo import outbox
from callnotes.store.repo.outbox_status import OutboxStatus, outbox_status
from callnotes.sync.outbox_view import OPEN_STATES
from callnotes.sync.signin import ConnectionReport, ConnectionState
from callnotes.sync.writeback import Waiting, waiting
from callnotes.web.deps import SessionDep, checked_id, get_settings, is_htmx, render
from callnotes.web.routes.connection import connection_badge, connection_of
from callnotes.web.task_form import TaskForm, TaskFormsDep, category_groups, task_request
from callnotes.web.writeback import drain_after_response, mode, queue_of

router = APIRouter(include_in_schema=False)
CHANGED_EVENT = "outbox-changed"
_UNREACHABLE = ("unreachable", "signed_out", "throttled")
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9_\-./?=&%#]{0,300}$")
_HOME_ROWS = 10
#: Pending rows due within this long count as leaving now (the header looks again every 2 s).
_DUE_NOW = timedelta(seconds=5)
_ReturnTo = Annotated[str, Form(max_length=400)]
MODE_WORDS = {
    WritebackMode.AUTO: "auto: writes go to MSX as soon as it answers",
    WritebackMode.ASK: "ask: each write waits for your approval here",
    WritebackMode.OFF: "off: nothing is queued for MSX",
}


class Show(StrEnum):
    OPEN = "open"
    SENT = "sent"
    DISCARDED = "discarded"
    ALL = "all"


_SHOWN: dict[Show, tuple[OutboxState, ...] | None] = {
    Show.OPEN: OPEN_STATES, Show.SENT: (OutboxState.SENT,), Show.DISCARDED: (OutboxState.DISCARDED,),
    Show.ALL: None,
}
_SHOW_LABELS = (("open", "Pending"), ("sent", "Sent"), ("discarded", "Discarded"), ("all", "Everything"))


class Decision(StrEnum):
    APPROVE = "approve"
    DISCARD = "discard"
    RETRY = "retry"


_DECIDE = {Decision.APPROVE: outbox.approve, Decision.DISCARD: outbox.discard, Decision.RETRY: outbox.retry}


@dataclass(frozen=True)
class Banner:
    """Why writes wait, once for the whole app: "VPN seems down — 3 writes waiting"."""

    headline: str
    detail: str
    count: int


def banner_of(wait: Waiting | None) -> Banner | None:
    """A banner when rows wait because MSX cannot be reached (VPN, sign-in, throttling)."""
    if wait is None or not wait.count or wait.kind not in _UNREACHABLE or not wait.reason:
        return None
    headline, _, rest = wait.reason.partition(": ")
    return Banner(headline.strip(), rest.strip() or wait.reason, wait.count)


def connection_banner(report: ConnectionReport) -> Banner | None:
    """The same one banner when MSX cannot be reached and no write waits (VPN down, say)."""
    if report.state is not ConnectionState.UNREACHABLE:
        return None
    headline, _, rest = (report.error or "MSX cannot be reached").partition(": ")
    return Banner(headline.strip(), rest.strip(), 0)


def local_path(text: str) -> str:
    """``text`` when it is a path of this app (never another site), else the Outbox page."""
    return text if _LOCAL_PATH.match(text or "") else "/outbox"


def changed(request: Request, return_to: str) -> Response:
    """The answer to a change: ``outbox-changed`` for htmx, else back to the page it came from."""
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Trigger": CHANGED_EVENT})
    return RedirectResponse(local_path(return_to), status_code=303)


def _list_context(session: Session, place: Literal["outbox", "home"], show: Show) -> dict[str, Any]:
    limit = _HOME_ROWS if place == "home" else 500
    items = outbox.list_items(session, states=_SHOWN[show], limit=limit + 1)
    more = len(items) if place == "home" and len(items) > limit else 0
    return {"items": items[:limit], "more": more, "place": place, "show": show.value,
            "return_to": "/" if place == "home" else f"/outbox?show={show.value}"}


def home_panel(session: Session) -> dict[str, Any]:
    """The home page's "Pending CRM writes" panel (the same fragment as the Outbox page's list)."""
    return _list_context(session, "home", Show.OPEN)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, session: SessionDep, show: Show = Show.OPEN) -> HTMLResponse:
    status = outbox_status(session)
    return render(request, "outbox/page.html", active="outbox", shows=_SHOW_LABELS,
                  awaiting=status.count(OutboxState.AWAITING_APPROVAL), mode_words=MODE_WORDS[mode(request)],
                  **_list_context(session, "outbox", show))


@router.get("/outbox/list", response_class=HTMLResponse)
def outbox_list(
    request: Request, session: SessionDep, place: Literal["outbox", "home"] = "outbox", show: Show = Show.OPEN
) -> HTMLResponse:
    return render(request, "outbox/_list.html", **_list_context(session, place, show))


def _poll_seconds(status: OutboxStatus, due_now: int, banner: Banner | None) -> int:
    """Look again soon while writes are leaving; slowly while they wait (MSX cannot be reached, a
    backoff) or all is quiet."""
    if status.count(OutboxState.SENDING) or due_now:
        return 2
    if banner is not None:
        return 15
    return 5 if status.count(OutboxState.PENDING) else 15


@router.get("/outbox/status", response_class=HTMLResponse)
def outbox_badge(request: Request, seen: Annotated[str, Query(max_length=200)] = "",
                 since: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    """The header badge (a count of waiting writes) and the banner. The answer raises
    ``outbox-changed`` when the outbox changed after what the page shows: ``seen`` is the fingerprint
    the badge last had, ``since`` when the page itself began (its first load). (Sessions of its own,
    one after the other: on SQLite every transaction takes the write lock.)"""
    context = queue_of(request).context
    with context.session_factory() as session:
        status = outbox_status(session)
        due_now = outbox.due_soon(session, _DUE_NOW) if status.count(OutboxState.PENDING) else 0
    moving = status.count(OutboxState.PENDING) + status.count(OutboxState.SENDING)
    connection = connection_badge(request, get_settings(request))
    banner = banner_of(waiting(context) if moving else None) or connection_banner(connection)
    response = render(request, "outbox/_status.html", status=status, banner=banner, conn=connection,
                      states=ConnectionState,
                      awaiting=status.count(OutboxState.AWAITING_APPROVAL),
                      failed=status.count(OutboxState.FAILED), poll=_poll_seconds(status, due_now, banner))
    if (seen and seen != status.fingerprint) or _changed_after(status, since):
        response.headers["HX-Trigger"] = CHANGED_EVENT
    return response


def _changed_after(status: OutboxStatus, since: str) -> bool:
    """Whether a row changed after ``since`` (an ISO time with its offset; anything else: no)."""
    try:
        began = datetime.fromisoformat(since) if since else None
    except ValueError:
        return False
    if began is None or began.tzinfo is None or status.changed_at is None:
        return False
    return status.changed_at > began


@router.post("/outbox/approve-all")
def approve_all(request: Request, session: SessionDep, background: BackgroundTasks,
                return_to: _ReturnTo = "/outbox") -> Response:
    drain_after_response(request, background, outbox.approve(session, None))
    return changed(request, return_to)


@router.post("/outbox/send-now")
def send_now(request: Request, session: SessionDep, background: BackgroundTasks,
             return_to: _ReturnTo = "/outbox") -> Response:
    """Every queued write is due now (the user is back on the VPN); a drain follows the commit."""
    connection_of(request).forget()  # and the header checks the connection again
    if outbox.send_pending_now(session):
        background.add_task(queue_of(request).enqueue_drain)
    return changed(request, return_to)


@router.post("/outbox/sync")
def sync_now(request: Request, return_to: _ReturnTo = "/outbox") -> Response:
    """Refresh from MSX, then send what may leave (``callnotes sync`` on the job queue)."""
    queue_of(request).enqueue_sync()
    return changed(request, return_to)


def _task_form(item: OutboxItem) -> TaskForm:
    payload = item.payload
    return TaskForm(log=True, subject=str(payload.get("subject") or ""),
                    category=str(payload.get("category", "")),
                    duration=str(payload.get("duration_minutes", 60)), due=str(payload.get("due") or ""),
                    description=str(payload.get("description") or ""))


def _edit_page(request: Request, item: OutboxItem, task: TaskForm, errors: list[str],
               status_code: int = 200) -> HTMLResponse:
    return render(request, "outbox/edit.html", status_code=status_code, active="outbox", item=item, task=task,
                  categories=category_groups(), errors=errors)


def _editable(session: Session, item_id: int) -> OutboxItem:
    """The task row ``item_id`` if it can still be changed (`Conflict` once it left or was dropped)."""
    item = outbox.get_item(session, checked_id(item_id, "outbox item"))
    if item.kind is not OutboxKind.CREATE_TASK or item.milestone_id is None or item.note_id is None:
        raise ValidationError(f"outbox item {item.id} is not a task from a note: only those can be edited")
    if item.state not in outbox.UNSENT:
        raise Conflict(f"outbox item {item.id} is {item.state.value.replace('_', ' ')}: it cannot be changed")
    return item


@router.get("/outbox/{item_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, session: SessionDep, item_id: int) -> HTMLResponse:
    item = _editable(session, item_id)
    return _edit_page(request, item, _task_form(item), [])


@router.post("/outbox/{item_id}/edit", response_class=HTMLResponse)
def edit_save(
    request: Request, tasks: TaskFormsDep, session: SessionDep, background: BackgroundTasks, item_id: int
) -> Response:
    """Change a task that has not left (its milestone stays); bad fields show the form again as typed."""
    item = _editable(session, item_id)
    milestone_id = item.milestone_id or 0
    task = tasks.get(str(milestone_id), TaskForm())
    try:
        edited = outbox.edit_task(session, item.id, task_request(milestone_id, task))
    except ValidationError as exc:
        session.rollback()
        item = outbox.get_item(session, item.id)
        return _edit_page(request, item, task, [str(exc)], status_code=422)
    drain_after_response(request, background, [edited])
    return RedirectResponse("/outbox", status_code=303)


@router.post("/outbox/{item_id}/{decision}")
def decide(request: Request, session: SessionDep, background: BackgroundTasks, item_id: int,
           decision: Decision, return_to: _ReturnTo = "/outbox") -> Response:
    """Approve, discard or retry one row (409 when its state does not allow it)."""
    items = _DECIDE[decision](session, [checked_id(item_id, "outbox item")])
    drain_after_response(request, background, items)
    return changed(request, return_to)
