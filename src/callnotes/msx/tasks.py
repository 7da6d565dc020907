"""Tasks against a milestone, with HoK / non-HoK categories (reference/000 §6, reference/001)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from callnotes.dataverse import BatchRequest, DataverseClient, ODataFilter
from callnotes.dataverse.query import chunk_in_filters
from callnotes.domain import TASK_DESCRIPTION_MAX_LENGTH, TASK_MAX_DURATION_MINUTES, TASK_SUBJECT_MAX_LENGTH
from callnotes.msx import _parse as p
from callnotes.msx.errors import InvalidInput
from callnotes.msx.records import MsxTask
from callnotes.msx.schema import TASK_SELECT, EntitySet, HokCategory, TaskPriority


@dataclass(frozen=True)
class NewTask:
    """A task to log against a milestone. ``task_id`` fixes the record id (idempotent retries)."""

    milestone_id: str
    owner_id: str
    subject: str
    category: HokCategory
    duration_minutes: int = 60
    priority: TaskPriority = TaskPriority.NORMAL
    description: str | None = None
    due: datetime | None = None
    task_id: str | None = None

    def to_body(self) -> dict[str, object]:
        subject = (self.subject or "").strip()
        if not subject or len(subject) > TASK_SUBJECT_MAX_LENGTH:
            raise InvalidInput(f"a task subject needs 1 to {TASK_SUBJECT_MAX_LENGTH} characters")
        if not 1 <= self.duration_minutes <= TASK_MAX_DURATION_MINUTES:
            raise InvalidInput("a task lasts between 1 minute and 24 hours")
        if self.description and len(self.description) > TASK_DESCRIPTION_MAX_LENGTH:
            raise InvalidInput(f"a task description holds at most {TASK_DESCRIPTION_MAX_LENGTH} characters")
        body: dict[str, object] = {
            "subject": subject,
            "msp_taskcategory": int(HokCategory(self.category)),
            "scheduleddurationminutes": self.duration_minutes,
            "prioritycode": int(self.priority),
            "regardingobjectid_msp_engagementmilestone@odata.bind":
                f"/{EntitySet.MILESTONES}({p.as_uuid(self.milestone_id)})",
            "ownerid@odata.bind": f"/{EntitySet.SYSTEM_USERS}({p.as_uuid(self.owner_id)})",
        }
        if self.description:
            body["description"] = self.description
        if self.due is not None:
            if self.due.tzinfo is None:
                raise InvalidInput("a due date must carry a time zone")
            body["scheduledend"] = self.due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.task_id is not None:
            body["activityid"] = str(p.as_uuid(self.task_id))
        return body


def create_request(task: NewTask) -> BatchRequest:
    """The create of ``task`` as one ``$batch`` part (its id fixed first, so a resend never makes a
    second task: the CRM answers "duplicate key" instead)."""
    if task.task_id is None:
        raise InvalidInput("a task created through a batch needs its id fixed (task_id)")
    return BatchRequest("POST", EntitySet.TASKS, body=task.to_body())


def existing_task_ids(client: DataverseClient, task_ids: Sequence[str]) -> set[str]:
    """Which of ``task_ids`` MSX has (the check after a send whose answer was lost)."""
    ids = sorted({p.as_uuid(t) for t in task_ids}, key=str)
    base = f"{client.api_url}/{EntitySet.TASKS}?$select=activityid"
    found: set[str] = set()
    for flt in chunk_in_filters("activityid", ids, url_without_filter=base) if ids else []:
        found.update(str(row["activityid"]).lower() for row in
                     client.iter_rows(EntitySet.TASKS, select=["activityid"], filter=flt))
    return found


def create_task(client: DataverseClient, task: NewTask) -> str:
    """Create the task in MSX; returns its id. Retries cannot duplicate it (the client sets the id)."""
    return client.create(EntitySet.TASKS, task.to_body())


def list_tasks(client: DataverseClient, milestone_id: str) -> list[MsxTask]:
    """Tasks regarding the milestone, newest first."""
    flt = ODataFilter.eq("_regardingobjectid_value", p.as_uuid(milestone_id))
    rows = client.iter_rows(EntitySet.TASKS, select=list(TASK_SELECT), filter=flt, orderby="createdon desc")
    return [MsxTask.from_row(row) for row in rows]
