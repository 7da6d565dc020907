"""JSON shapes of write-back (DESIGN.md §Contracts, write-back): tasks on notes, outbox rows,
milestone edits and team changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from callnotes.domain import (
    TASK_DESCRIPTION_MAX_LENGTH,
    TASK_MAX_DURATION_MINUTES,
    TASK_SUBJECT_MAX_LENGTH,
)
from callnotes.store.limits import MAX_ID
from callnotes.web.fields import IsoDate

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
_LocalId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
#: Tasks one note may log at once.
MAX_TASKS_PER_NOTE = 20


class TaskIn(BaseModel):
    """A task to log in MSX against one of the note's milestones."""

    model_config = _STRICT
    milestone_id: _LocalId = Field(description="A milestone of the note's customer (GET /api/milestones)")
    category: StrictInt = Field(description="An MSX task category code (msp_taskcategory)")
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=TASK_MAX_DURATION_MINUTES)] = 60
    subject: str | None = Field(default=None, max_length=TASK_SUBJECT_MAX_LENGTH,
                                description="Default: the note's title")
    due: IsoDate | None = Field(default=None, description="Default: the call date")
    description: str | None = Field(default=None, max_length=TASK_DESCRIPTION_MAX_LENGTH,
                                    description="Default: the note's first lines")


class NoteCreated(BaseModel):
    id: int
    outbox_ids: list[int] = Field(default_factory=list)


class NoteTaskOut(BaseModel):
    outbox_id: int
    state: str
    crm_id: str | None
    milestone_id: int | None
    category: int | None
    subject: str | None


class OutboxRowOut(BaseModel):
    id: int
    kind: str
    state: str
    summary: str
    attempts: int
    last_error: str | None
    crm_id: str | None
    note_id: int | None
    milestone_id: int | None
    created_at: datetime
    sent_at: datetime | None


class MilestonePatch(BaseModel):
    """Changes to write to the milestone in MSX (through the outbox)."""

    model_config = _STRICT
    milestone_date: IsoDate | None = None
    monthly_use: Annotated[StrictFloat | StrictInt, Field(ge=0, le=1e12)] | None = None
    status: str | None = Field(default=None, max_length=50, description="A status label, e.g. 'At Risk'")
    comment: str | None = Field(default=None, max_length=2000, description="A forecast comment to add")


class OpportunityPatch(BaseModel):
    """A change to write to the opportunity in MSX (through the outbox)."""

    model_config = _STRICT
    estimated_close_date: IsoDate


class TeamChangeIn(BaseModel):
    model_config = _STRICT
    join: StrictBool


class OutboxIds(BaseModel):
    outbox_ids: list[int]


class SyncQueued(BaseModel):
    queued: bool = True
