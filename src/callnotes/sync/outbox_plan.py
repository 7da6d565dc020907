"""One round of the outbox drain: the reads its writes need, the ``$batch`` of writes, and what each
answer means for its row. The MSX wire shapes come from ``callnotes.msx``; this module decides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from callnotes.dataverse import (
    BatchItem,
    BatchRequest,
    BatchResult,
    ChangeSet,
    DataverseClient,
    DataverseError,
    DuplicateKey,
    NotExecuted,
    NotFound,
    PreconditionFailed,
    RolledBack,
    ServerError,
    Throttled,
)
from callnotes.msx import milestones, opportunities, tasks, teams
from callnotes.msx.accounts import who_am_i
from callnotes.msx.errors import InvalidInput
from callnotes.msx.records import ForecastComment, Milestone
from callnotes.msx.schema import HokCategory
from callnotes.store.models import OutboxItem, OutboxKind
from callnotes.store.repo.outbox_sending import Claimed

#: Task creates per change set: they land together or not at all, and a change set that fails
#: names its culprit (the others are sent again next round).
CHANGESET_SIZE = 100
#: A due date is sent as noon UTC that day, so it shows on that day in every time zone MSX users use.
_DUE_HOUR = 12
_TEAM_KIND = {
    OutboxKind.JOIN_MILESTONE_TEAM: (teams.TeamKind.MILESTONE, True),
    OutboxKind.LEAVE_MILESTONE_TEAM: (teams.TeamKind.MILESTONE, False),
    OutboxKind.JOIN_DEAL_TEAM: (teams.TeamKind.OPPORTUNITY, True),
    OutboxKind.LEAVE_DEAL_TEAM: (teams.TeamKind.OPPORTUNITY, False),
}
_NEEDS_ME = (OutboxKind.CREATE_TASK, *_TEAM_KIND)


@dataclass
class Outcome:
    """How one row's try ended: landed, refused by MSX (the row fails), or to try again."""

    item: OutboxItem
    sent: bool = False
    refused: bool = False
    again_now: bool = False
    error: str | None = None
    crm_id: str | None = None
    status_code: int | None = None


@dataclass
class _Reads:
    me: str | None = None
    existing_tasks: set[str] = field(default_factory=set)
    commented: dict[str, Milestone] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


def _read(client: DataverseClient, claimed: Sequence[Claimed]) -> _Reads:
    """Only what this round's writes need, each at most one request."""
    kinds = {c.item.kind for c in claimed}
    reads = _Reads()
    if kinds & set(_NEEDS_ME):
        reads.me = who_am_i(client).user_id
    resent = [c.item.crm_record_id for c in claimed if c.resent and c.item.kind is OutboxKind.CREATE_TASK]
    if resent:
        reads.existing_tasks = tasks.existing_task_ids(client, resent)
    to_comment = [c.item.payload["milestone_msx_id"] for c in claimed
                  if c.item.kind is OutboxKind.FORECAST_COMMENT]
    if to_comment:
        reads.commented = milestones.milestones_by_id(client, to_comment)
    if any("status" in c.item.payload.get("changes", {}) for c in claimed):
        reads.statuses = milestones.status_options(client)
    return reads


class RoundPlan:
    """The writes of one round: ``send`` returns an `Outcome` per claimed row."""

    def __init__(self, claimed: Sequence[Claimed], reads: _Reads) -> None:
        self.decided: list[Outcome] = []
        self.creates: list[tuple[OutboxItem, BatchRequest]] = []
        self.singles: list[tuple[OutboxItem, BatchRequest, int | None]] = []
        for entry in claimed:
            try:
                self._plan(entry, reads)
            except (InvalidInput, KeyError, TypeError, ValueError) as exc:
                self.decided.append(Outcome(entry.item, refused=True, error=f"cannot be sent: {exc}"))

    def _plan(self, entry: Claimed, reads: _Reads) -> None:
        item = entry.item
        if item.kind is OutboxKind.CREATE_TASK:
            if item.crm_record_id in reads.existing_tasks:
                self.decided.append(Outcome(item, sent=True))  # an earlier try landed
            else:
                self.creates.append((item, tasks.create_request(_new_task(item, reads.me))))
        elif item.kind is OutboxKind.FORECAST_COMMENT:
            self._plan_comment(item, reads)
        elif item.kind is OutboxKind.UPDATE_MILESTONE:
            request, code = _milestone_update(item, reads.statuses)
            self.singles.append((item, request, code))
        elif item.kind is OutboxKind.UPDATE_OPPORTUNITY:
            close = date.fromisoformat(item.payload["estimated_close_date"])
            self.singles.append((item, opportunities.close_date_request(item.crm_record_id, close), None))
        else:
            kind, join = _TEAM_KIND[item.kind]
            change = teams.TeamChange(kind, item.crm_record_id, join)
            self.singles.append((item, teams.change_request(str(reads.me), change), None))

    def _plan_comment(self, item: OutboxItem, reads: _Reads) -> None:
        milestone = reads.commented.get(str(item.payload["milestone_msx_id"]).lower())
        if milestone is None:
            self.decided.append(Outcome(item, refused=True, error="MSX has no such milestone any more"))
            return
        comment = ForecastComment(item.payload["text"], item.payload.get("author"), item.payload["stamp"])
        merged = milestones.with_comment(milestone, comment)
        if merged is None:
            self.decided.append(Outcome(item, sent=True))  # already there: an earlier try landed
        else:
            self.singles.append((item, milestones.comment_request(milestone, merged), None))

    def items(self) -> list[BatchItem]:
        changesets: list[BatchItem] = [
            ChangeSet([request for _, request in self.creates[start:start + CHANGESET_SIZE]])
            for start in range(0, len(self.creates), CHANGESET_SIZE)]
        return [*changesets, *(request for _, request, _ in self.singles)]

    def send(self, client: DataverseClient) -> list[Outcome]:
        """One ``$batch`` (one plain request when there is only one write); failures that stop every
        write (no network, no token, throttling) propagate."""
        batch = self.items()
        requests = [r for item in batch for r in (item.requests if isinstance(item, ChangeSet) else [item])]
        if len(requests) == 1:
            results = [client.execute(requests[0], resend_safe=True)]  # every outbox write may be resent
        else:
            results = client.send_batch(batch, continue_on_error=True) if batch else []
        rows = [(item, None) for item, _ in self.creates] + [(item, code) for item, _, code in self.singles]
        return self.decided + [_outcome(item, result, code)
                               for (item, code), result in zip(rows, results, strict=True)]


def plan_round(client: DataverseClient, claimed: Sequence[Claimed]) -> RoundPlan:
    return RoundPlan(claimed, _read(client, claimed))


def _new_task(item: OutboxItem, owner_id: str | None) -> tasks.NewTask:
    payload: dict[str, Any] = item.payload
    due = date.fromisoformat(payload["due"]) if payload.get("due") else None
    return tasks.NewTask(
        milestone_id=payload["milestone_msx_id"], owner_id=str(owner_id), subject=payload["subject"],
        category=HokCategory(payload["category"]), duration_minutes=int(payload["duration_minutes"]),
        description=payload.get("description") or None, task_id=item.crm_record_id,
        due=datetime(due.year, due.month, due.day, _DUE_HOUR, tzinfo=UTC) if due else None,
    )


def _milestone_update(item: OutboxItem, statuses: dict[str, int]) -> tuple[BatchRequest, int | None]:
    changes = item.payload["changes"]
    code = None
    if "status" in changes:
        if changes["status"] not in statuses:
            raise InvalidInput(f"MSX has no milestone status {changes['status']!r}")
        code = statuses[changes["status"]]
    edit = milestones.MilestoneChanges(
        milestone_date=date.fromisoformat(changes["milestone_date"]) if "milestone_date" in changes else None,
        monthly_use=changes.get("monthly_use"), status=code)
    return milestones.update_request(item.crm_record_id, edit), code


def _outcome(item: OutboxItem, result: BatchResult, status_code: int | None) -> Outcome:
    """What one answer means for its row (see the module docstring of sync/outbox.py)."""
    error = result.error
    if error is None:
        return Outcome(item, sent=True, crm_id=item.crm_record_id, status_code=status_code)
    if isinstance(error, DuplicateKey) and item.kind is OutboxKind.CREATE_TASK:
        return Outcome(item, sent=True, crm_id=item.crm_record_id)  # it exists: an earlier try landed
    if isinstance(error, RolledBack | NotExecuted):
        return Outcome(item, again_now=True, error=str(error))
    if isinstance(error, PreconditionFailed) and item.kind is OutboxKind.FORECAST_COMMENT:
        return Outcome(item, again_now=True, error="someone else changed the milestone; merging again")
    return _refused_or_transient(item, error)


def _refused_or_transient(item: OutboxItem, error: DataverseError) -> Outcome:
    if isinstance(error, NotFound | PreconditionFailed):
        return Outcome(item, refused=True, error=f"MSX has no such record any more ({error.message})")
    if isinstance(error, ServerError | Throttled) or (error.status or 0) >= 500 or error.status is None:
        return Outcome(item, error=str(error))
    return Outcome(item, refused=True, error=f"MSX refused it: {error.message}")
