"""The outbox, as the user sees it: queue CRM writes (in the caller's transaction, beside what caused
them), list them in words, approve / edit / discard / retry them.

Every rule of what may be queued lives here, whatever the way in (editor form, JSON API, CLI): the
milestone must be the note's customer's and known to MSX, the category one of MSX's task categories,
the subject within the CRM's length; with write-back ``off`` nothing is queued at all. The worker's
side (claiming rows with a lease, recording outcomes) is ``outbox_sending.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from callnotes.domain import (
    MILESTONE_STATUSES,
    TASK_DESCRIPTION_MAX_LENGTH,
    TASK_MAX_DURATION_MINUTES,
    TASK_SUBJECT_MAX_LENGTH,
    HokCategory,
    WritebackMode,
)
from callnotes.store.column_types import utcnow
from callnotes.store.errors import Conflict, NotFound, ValidationError
from callnotes.store.models import Milestone, Note, Opportunity, OutboxItem, OutboxKind, OutboxState

#: States in which a row has not left yet and may still be edited or discarded.
UNSENT = (OutboxState.AWAITING_APPROVAL, OutboxState.PENDING, OutboxState.FAILED)
#: States that still wait to leave (the header badge counts them).
WAITING = (OutboxState.AWAITING_APPROVAL, OutboxState.PENDING, OutboxState.SENDING)
_TEAM_KINDS = {
    (True, "milestone"): OutboxKind.JOIN_MILESTONE_TEAM,
    (False, "milestone"): OutboxKind.LEAVE_MILESTONE_TEAM,
    (True, "deal"): OutboxKind.JOIN_DEAL_TEAM,
    (False, "deal"): OutboxKind.LEAVE_DEAL_TEAM,
}
_OPPOSITE = {
    OutboxKind.JOIN_MILESTONE_TEAM: OutboxKind.LEAVE_MILESTONE_TEAM,
    OutboxKind.LEAVE_MILESTONE_TEAM: OutboxKind.JOIN_MILESTONE_TEAM,
    OutboxKind.JOIN_DEAL_TEAM: OutboxKind.LEAVE_DEAL_TEAM,
    OutboxKind.LEAVE_DEAL_TEAM: OutboxKind.JOIN_DEAL_TEAM,
}


class WritebackOff(Conflict):
    """Write-back is ``off``: nothing may be queued for MSX."""

    def __init__(self) -> None:
        super().__init__("Write-back to MSX is off (CALLNOTES_WRITEBACK=off or the settings page): "
                         "nothing was queued. Turn it on to log tasks or change milestones in MSX.")


@dataclass(frozen=True)
class TaskRequest:
    """A task to log in MSX against one of the note's milestones (None = the default)."""

    milestone_id: int
    category: int
    duration_minutes: int = 60
    subject: str | None = None
    due: date | None = None
    description: str | None = None


@dataclass(frozen=True)
class MilestoneEdit:
    """Changes to a milestone (None = leave as is); ``status`` is a label from the reference."""

    milestone_date: date | None = None
    monthly_use: float | None = None
    status: str | None = None
    comment: str | None = None


def _first_state(mode: WritebackMode) -> OutboxState:
    mode = WritebackMode(mode)
    if mode is WritebackMode.OFF:
        raise WritebackOff()
    return OutboxState.AWAITING_APPROVAL if mode is WritebackMode.ASK else OutboxState.PENDING


def _new_item(kind: OutboxKind, mode: WritebackMode, payload: dict[str, Any], record_id: str,
              **links: Any) -> OutboxItem:
    return OutboxItem(kind=kind, state=_first_state(mode), payload=payload, crm_record_id=record_id,
                      attempts=0, next_attempt_at=utcnow(), **links)


def _msx_milestone(session: Session, milestone_id: int, field: str) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise ValidationError(f"milestone {milestone_id} does not exist", field=field)
    if not milestone.msx_id:
        raise ValidationError(f"milestone {milestone_id} is not linked to MSX", field=field)
    return milestone


# -- tasks from a note ----------------------------------------------------------------------------

def _category(code: int, field: str) -> HokCategory:
    if isinstance(code, bool) or code not in HokCategory._value2member_map_:
        raise ValidationError(f"{code!r} is not an MSX task category", field=field)
    return HokCategory(code)


def _task_text(request: TaskRequest, note: Note, field: str) -> tuple[str, str | None]:
    subject = (request.subject or "").strip() or note.display_title
    if len(subject) > TASK_SUBJECT_MAX_LENGTH:
        raise ValidationError(f"a task subject holds at most {TASK_SUBJECT_MAX_LENGTH} characters "
                              f"(MSX's limit); this one has {len(subject)}", field=f"{field}.subject")
    description = request.description if request.description is not None else _first_lines(note.body)
    if description and len(description) > TASK_DESCRIPTION_MAX_LENGTH:
        raise ValidationError(f"a task description holds at most {TASK_DESCRIPTION_MAX_LENGTH} characters",
                              field=f"{field}.description")
    return subject, (description or None)


def _first_lines(body: str, lines: int = 5) -> str:
    kept = [line.rstrip() for line in (body or "").splitlines() if line.strip()][:lines]
    return "\n".join(kept)[:TASK_DESCRIPTION_MAX_LENGTH]


def _task_payload(session: Session, note: Note, request: TaskRequest, field: str) -> tuple[Milestone, dict]:
    milestone = _msx_milestone(session, request.milestone_id, f"{field}.milestone_id")
    if note.customer_id is None or milestone.customer_id != note.customer_id:
        raise ValidationError(f"milestone {milestone.id} is not a milestone of this note's customer",
                              field=f"{field}.milestone_id")
    category = _category(request.category, f"{field}.category")
    duration = request.duration_minutes
    if isinstance(duration, bool) or not isinstance(duration, int) \
            or not 1 <= duration <= TASK_MAX_DURATION_MINUTES:
        raise ValidationError("a task lasts between 1 and 1440 minutes", field=f"{field}.duration_minutes")
    subject, description = _task_text(request, note, field)
    due = request.due or note.call_date
    return milestone, {
        "subject": subject, "category": int(category), "duration_minutes": request.duration_minutes,
        "due": due.isoformat(), "description": description, "milestone_msx_id": milestone.msx_id,
    }


def queue_note_tasks(
    session: Session, note: Note, requests: Sequence[TaskRequest], mode: WritebackMode
) -> list[OutboxItem]:
    """One ``create_task`` row per request, in the note's transaction; every request is checked
    before any row is added (a bad one refuses them all). Each row fixes the new task's GUID."""
    if not requests:
        return []
    _first_state(mode)
    checked = [_task_payload(session, note, r, f"tasks[{i}]") for i, r in enumerate(requests)]
    items = [_new_item(OutboxKind.CREATE_TASK, mode, payload, str(uuid.uuid4()), note_id=note.id,
                       milestone_id=milestone.id) for milestone, payload in checked]
    session.add_all(items)
    session.flush()
    return items


# -- milestone, team and opportunity changes -------------------------------------------------------

def _edit_payload(milestone: Milestone, edit: MilestoneEdit) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if edit.milestone_date is not None:
        changes["milestone_date"] = edit.milestone_date.isoformat()
    if edit.monthly_use is not None:
        if edit.monthly_use < 0 or edit.monthly_use != edit.monthly_use:
            raise ValidationError("monthly use cannot be negative", field="monthly_use")
        changes["monthly_use"] = float(edit.monthly_use)
    if edit.status is not None:
        if edit.status not in MILESTONE_STATUSES:
            known = ", ".join(MILESTONE_STATUSES)
            raise ValidationError(f"{edit.status!r} is not a milestone status ({known})", field="status")
        changes["status"] = edit.status
    return changes


def queue_milestone_edit(
    session: Session, milestone_id: int, edit: MilestoneEdit, mode: WritebackMode, *,
    author: str | None = None,
) -> list[OutboxItem]:
    """An ``update_milestone`` row for the field changes and a ``forecast_comment`` row for the
    comment (each optional; at least one). The comment's stamp is fixed now, so a resend finds it."""
    milestone = _msx_milestone(session, milestone_id, "milestone_id")
    changes = _edit_payload(milestone, edit)
    comment = (edit.comment or "").strip()
    if not changes and not comment:
        raise ValidationError("nothing to change: give a date, monthly use, status or comment", field="body")
    items: list[OutboxItem] = []
    if changes:
        items.append(_new_item(OutboxKind.UPDATE_MILESTONE, mode, {"milestone_msx_id": milestone.msx_id,
                                                                   "changes": changes},
                               milestone.msx_id or "", milestone_id=milestone.id))
    if comment:
        payload = {"milestone_msx_id": milestone.msx_id, "text": comment[:2000], "author": author,
                   "stamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}
        items.append(_new_item(OutboxKind.FORECAST_COMMENT, mode, payload, milestone.msx_id or "",
                               milestone_id=milestone.id))
    session.add_all(items)
    session.flush()
    return items


def _team_change(session: Session, kind: OutboxKind, record_id: str, links: dict[str, int],
                 already: bool, mode: WritebackMode) -> OutboxItem | None:
    """Queue a join/leave unless it cancels an unsent opposite one (then that one is discarded) or
    the mirror already says so."""
    target = next(iter(links.items()))
    opposite = session.scalars(select(OutboxItem).where(
        OutboxItem.kind == _OPPOSITE[kind], OutboxItem.state.in_(UNSENT),
        getattr(OutboxItem, target[0]) == target[1])).all()
    for item in opposite:
        item.state = OutboxState.DISCARDED
    same = session.scalars(select(OutboxItem).where(
        OutboxItem.kind == kind, OutboxItem.state.in_(WAITING), getattr(OutboxItem, target[0]) == target[1]))
    if opposite or already or same.first() is not None:
        return None
    item = _new_item(kind, mode, {"record_msx_id": record_id}, record_id, **links)
    session.add(item)
    return item


def queue_milestone_team_changes(
    session: Session, milestone_ids: Sequence[int], join: bool, mode: WritebackMode
) -> list[OutboxItem]:
    """Join (or leave) the access teams of many milestones at once; one row each that changes anything."""
    _first_state(mode)
    milestones = [_msx_milestone(session, i, "milestone_id") for i in milestone_ids]
    kind = _TEAM_KINDS[(join, "milestone")]
    items = [_team_change(session, kind, m.msx_id or "", {"milestone_id": m.id}, m.on_my_team == join, mode)
             for m in milestones]
    session.flush()
    return [i for i in items if i is not None]


def _msx_opportunity(session: Session, opportunity_id: int) -> Opportunity:
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound("opportunity", opportunity_id)
    if not opportunity.msx_id:
        raise ValidationError(f"opportunity {opportunity_id} is not linked to MSX", field="opportunity_id")
    return opportunity


def queue_deal_team_change(
    session: Session, opportunity_id: int, join: bool, mode: WritebackMode
) -> list[OutboxItem]:
    """Join (or leave) the opportunity's deal team; nothing when the opposite change is still on its
    way (it is discarded instead), the same one already waits or the mirror already says so."""
    _first_state(mode)
    opportunity = _msx_opportunity(session, opportunity_id)
    item = _team_change(session, _TEAM_KINDS[(join, "deal")], opportunity.msx_id or "",
                        {"opportunity_id": opportunity.id}, opportunity.on_my_team == join, mode)
    session.flush()
    return [item] if item is not None else []


def queue_opportunity_close_date(
    session: Session, opportunity_id: int, close_date: date, mode: WritebackMode
) -> list[OutboxItem]:
    """Move the opportunity's estimated close date; a new date replaces one not sent yet. Nothing is
    queued when the mirror already has that date and no other date is on its way."""
    _first_state(mode)
    opportunity = _msx_opportunity(session, opportunity_id)
    earlier = session.scalars(select(OutboxItem).where(
        OutboxItem.kind == OutboxKind.UPDATE_OPPORTUNITY, OutboxItem.state.in_(UNSENT),
        OutboxItem.opportunity_id == opportunity.id)).all()
    for item in earlier:
        item.state = OutboxState.DISCARDED
    if close_date == opportunity.estimated_close_date and not earlier:
        return []
    item = _new_item(OutboxKind.UPDATE_OPPORTUNITY, mode,
                     {"record_msx_id": opportunity.msx_id, "estimated_close_date": close_date.isoformat()},
                     opportunity.msx_id or "", opportunity_id=opportunity.id)
    session.add(item)
    session.flush()
    return [item]


# -- reading and the user's decisions --------------------------------------------------------------

def _loaded() -> Any:
    return (selectinload(OutboxItem.milestone), selectinload(OutboxItem.note),
            selectinload(OutboxItem.opportunity))


def get_item(session: Session, item_id: int) -> OutboxItem:
    item = session.scalar(select(OutboxItem).where(OutboxItem.id == item_id).options(*_loaded()))
    if item is None:
        raise NotFound("outbox item", item_id)
    return item


def list_items(
    session: Session, *, states: Sequence[OutboxState] | None = None, note_id: int | None = None,
    milestone_id: int | None = None, limit: int = 500,
) -> list[OutboxItem]:
    """Outbox rows, newest first (``states`` None = every state)."""
    query = select(OutboxItem).options(*_loaded()).order_by(OutboxItem.id.desc()).limit(limit)
    if states is not None:
        query = query.where(OutboxItem.state.in_(list(states)))
    if note_id is not None:
        query = query.where(OutboxItem.note_id == note_id)
    if milestone_id is not None:
        query = query.where(OutboxItem.milestone_id == milestone_id)
    return list(session.scalars(query))


def count_by_state(session: Session) -> dict[OutboxState, int]:
    rows = session.execute(select(OutboxItem.state, func.count()).group_by(OutboxItem.state))
    return {state: count for state, count in rows}


def _decide(session: Session, item_ids: Sequence[int] | None, allowed: Sequence[OutboxState],
            verb: str) -> list[OutboxItem]:
    """The rows to act on: the given ids (each must exist and be in ``allowed``) or, with None,
    every row in ``allowed``."""
    if item_ids is None:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.state.in_(list(allowed)))))
    items = [get_item(session, i) for i in item_ids]
    for item in items:
        if item.state not in allowed:
            raise Conflict(f"outbox item {item.id} is {item.state.value}: it cannot be {verb}")
    return items


def approve(session: Session, item_ids: Sequence[int] | None = None) -> list[OutboxItem]:
    """Let rows waiting for approval leave (``None``: all of them)."""
    items = _decide(session, item_ids, [OutboxState.AWAITING_APPROVAL], "approved")
    for item in items:
        item.state, item.next_attempt_at = OutboxState.PENDING, utcnow()
    return items


def discard(session: Session, item_ids: Sequence[int] | None = None) -> list[OutboxItem]:
    """Drop rows that have not left; a row being sent or sent cannot be called back."""
    items = _decide(session, item_ids, UNSENT, "discarded")
    for item in items:
        item.state, item.lease_owner, item.lease_expires_at = OutboxState.DISCARDED, None, None
    return items


def retry(session: Session, item_ids: Sequence[int] | None = None) -> list[OutboxItem]:
    """Failed rows go back to pending (and pending ones are due at once)."""
    items = _decide(session, item_ids, [OutboxState.FAILED, OutboxState.PENDING], "retried")
    for item in items:
        item.state, item.next_attempt_at = OutboxState.PENDING, utcnow()
        if item.error_kind == "refused":
            item.attempts = 0
    return items


def edit_task(session: Session, item_id: int, request: TaskRequest) -> OutboxItem:
    """Change a queued task before it leaves (subject, category, duration, due date, description)."""
    item = get_item(session, item_id)
    if item.kind is not OutboxKind.CREATE_TASK or item.state not in UNSENT or item.note is None:
        raise Conflict(f"outbox item {item_id} is not a task that can still be changed")
    milestone, payload = _task_payload(session, item.note, request, "task")
    item.payload, item.milestone_id = payload, milestone.id
    return item


def send_pending_now(session: Session) -> int:
    """Every pending row due now, whatever its backoff (the user asked to sync); how many."""
    rows = list(session.scalars(select(OutboxItem).where(OutboxItem.state == OutboxState.PENDING)))
    for item in rows:
        item.next_attempt_at = utcnow()
    return len(rows)


def due_soon(session: Session, within: timedelta) -> int:
    """Pending rows due within ``within`` (the scheduler's question: is a drain worth it?)."""
    return int(session.scalar(select(func.count()).select_from(OutboxItem).where(
        OutboxItem.state == OutboxState.PENDING, OutboxItem.next_attempt_at <= utcnow() + within)) or 0)


# -- in words ----------------------------------------------------------------------------------------

def _record_words(what: str, record: Milestone | Opportunity | None) -> str:
    """``milestone 7-123 'AKS landing zone'`` (or "a milestone" when the row lost its record)."""
    if record is None:
        return f"an {what}" if what[0] in "aeiou" else f"a {what}"
    number = f"{record.number} " if record.number else ""
    return f"{what} {number}'{record.name}'"


def _milestone_words(item: OutboxItem) -> str:
    return _record_words("milestone", item.milestone)


def _opportunity_words(item: OutboxItem) -> str:
    return _record_words("opportunity", item.opportunity)


def _task_words(item: OutboxItem) -> str:
    payload = item.payload
    category = HokCategory(payload["category"]) if payload.get("category") in HokCategory._value2member_map_ \
        else None
    kind = "HoK task" if category is not None and category.is_hok else "task"
    extra = f"{category.label}, " if category is not None and category.label != payload.get("subject") else ""
    minutes = payload.get("duration_minutes", "?")
    return f"Create {kind} '{payload.get('subject', '')}' ({extra}{minutes} min) on {_milestone_words(item)}"


def _edit_words(item: OutboxItem) -> str:
    changes = item.payload.get("changes", {})
    words = [f"date {changes['milestone_date']}" if "milestone_date" in changes else "",
             f"monthly use {changes['monthly_use']:,.0f}" if "monthly_use" in changes else "",
             f"status {changes['status']}" if "status" in changes else ""]
    return f"Set {_milestone_words(item)}: " + ", ".join(w for w in words if w)


def describe(item: OutboxItem) -> str:
    """The write in a sentence: "Create HoK task 'Architecture Design Session' (60 min) on milestone
    7-123 'AKS landing zone'"."""
    payload = item.payload
    if item.kind is OutboxKind.CREATE_TASK:
        return _task_words(item)
    if item.kind is OutboxKind.UPDATE_MILESTONE:
        return _edit_words(item)
    if item.kind is OutboxKind.FORECAST_COMMENT:
        text = str(payload.get("text", ""))
        shown = text if len(text) <= 80 else text[:80] + "…"
        return f"Add forecast comment to {_milestone_words(item)}: \"{shown}\""
    if item.kind is OutboxKind.UPDATE_OPPORTUNITY:
        return f"Set the close date of {_opportunity_words(item)} to {payload.get('estimated_close_date')}"
    verb = "Join" if item.kind in (OutboxKind.JOIN_MILESTONE_TEAM, OutboxKind.JOIN_DEAL_TEAM) else "Leave"
    if item.kind in (OutboxKind.JOIN_DEAL_TEAM, OutboxKind.LEAVE_DEAL_TEAM):
        return f"{verb} the deal team of {_opportunity_words(item)}"
    return f"{verb} the access team of {_milestone_words(item)}"
