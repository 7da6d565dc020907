"""Pydantic shapes of the JSON API (DESIGN.md §Contracts): request bodies are strict, unknown fields
are refused with a 422 that names them. Their limits are the store's (``callnotes.store.limits``):
declared here so an over-long request is refused up front, enforced again by the repositories."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callnotes.store.limits import (
    CUSTOMER_ACCOUNT_NOTES_MAX,
    CUSTOMER_NAME_MAX,
    CUSTOMER_TPID_MAX,
    CUSTOMER_WEBSITE_MAX,
    NOTE_ATTENDEES_MAX,
    NOTE_BODY_MAX,
    NOTE_MILESTONES_MAX,
    NOTE_TITLE_MAX,
    NOTE_TOPICS_MAX,
)
from callnotes.store.models import Customer, Milestone, Note
from callnotes.web.fields import IsoDate, RecordId
from callnotes.web.markdown import render_markdown
from callnotes.web.outbox_schemas import MAX_TASKS_PER_NOTE, NoteTaskOut, TaskIn

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _topic_names(value: list[str]) -> list[str]:
    names = [name.strip() for name in value]
    if any(not name for name in names):
        raise ValueError("topic names must not be empty")
    return names


class CustomerCreate(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=CUSTOMER_NAME_MAX)
    tpid: str | None = Field(default=None, max_length=CUSTOMER_TPID_MAX)
    website: str | None = Field(default=None, max_length=CUSTOMER_WEBSITE_MAX)
    account_notes: str | None = Field(default=None, max_length=CUSTOMER_ACCOUNT_NOTES_MAX)


class CustomerOut(BaseModel):
    id: int
    name: str
    tpid: str | None
    msx_id: str | None
    website: str | None
    account_notes: str
    territory: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id, name=customer.name, tpid=customer.tpid, msx_id=customer.msx_id,
            website=customer.website, account_notes=customer.account_notes or "",
            territory=customer.territory.name if customer.territory else None,
            created_at=customer.created_at, updated_at=customer.updated_at,
        )


class Created(BaseModel):
    id: int


class NoteCreate(BaseModel):
    model_config = _STRICT
    customer_id: RecordId | None = None
    body: str = Field(max_length=NOTE_BODY_MAX)
    call_date: IsoDate
    topics: list[str] = Field(default_factory=list, max_length=NOTE_TOPICS_MAX)
    title: str | None = Field(default=None, max_length=NOTE_TITLE_MAX)
    attendees: list[str] = Field(default_factory=list, max_length=NOTE_ATTENDEES_MAX)
    milestone_ids: list[RecordId] = Field(default_factory=list, max_length=NOTE_MILESTONES_MAX)
    tasks: list[TaskIn] = Field(default_factory=list, max_length=MAX_TASKS_PER_NOTE,
                                description="HoK / other tasks to log in MSX on the note's milestones")

    _check_topics = field_validator("topics")(_topic_names)


class NotePatch(BaseModel):
    """Only the fields present are changed; ``topics`` replaces the whole list."""

    model_config = _STRICT
    customer_id: RecordId | None = None
    body: str | None = Field(default=None, max_length=NOTE_BODY_MAX)
    call_date: IsoDate | None = None
    topics: list[str] | None = Field(default=None, max_length=NOTE_TOPICS_MAX)
    title: str | None = Field(default=None, max_length=NOTE_TITLE_MAX)
    attendees: list[str] | None = Field(default=None, max_length=NOTE_ATTENDEES_MAX)
    milestone_ids: list[RecordId] | None = Field(default=None, max_length=NOTE_MILESTONES_MAX)

    @field_validator("topics")
    @classmethod
    def _check_topics(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _topic_names(value)

    @field_validator("body", "call_date", "topics", "attendees", "milestone_ids")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value


class NoteOut(BaseModel):
    id: int
    uid: str
    customer_id: int | None
    customer_name: str | None
    title: str
    display_title: str
    body: str
    html: str | None = Field(
        default=None, description="The body rendered to sanitised HTML (single-note answers only)"
    )
    call_date: date
    topics: list[str]
    attendees: list[str]
    milestone_ids: list[int]
    created_at: datetime
    updated_at: datetime
    tasks: list[NoteTaskOut] = Field(default_factory=list, description="Tasks this note logs in MSX")

    @classmethod
    def of(cls, note: Note, *, with_html: bool = True) -> NoteOut:
        return cls(
            id=note.id, uid=note.uid, customer_id=note.customer_id,
            customer_name=note.customer.name if note.customer else None,
            title=note.title, display_title=note.display_title, body=note.body,
            html=str(render_markdown(note.body)) if with_html else None, call_date=note.call_date,
            # in the stored order (a note just changed holds its topics in the order they were sent)
            topics=[topic.name for topic in sorted(note.topics, key=lambda topic: topic.name_key)],
            attendees=list(note.attendees or []), milestone_ids=sorted(m.id for m in note.milestones),
            created_at=note.created_at, updated_at=note.updated_at,
        )


class SearchResult(BaseModel):
    kind: str
    id: int
    title: str
    snippet: str = Field(description="HTML-escaped text with <mark> around the matches")


class SearchResults(BaseModel):
    results: list[SearchResult]


class MilestoneOut(BaseModel):
    id: int
    msx_id: str | None
    name: str
    number: str | None
    status: int | None
    status_label: str | None
    milestone_date: date | None
    monthly_use: float | None
    workload: str | None
    on_my_team: bool
    customer_id: int | None
    opportunity_id: int | None

    @classmethod
    def of(cls, milestone: Milestone) -> MilestoneOut:
        return cls.model_validate(milestone, from_attributes=True)


class CsrfOut(BaseModel):
    csrf_token: str
    header: str = "X-CSRF-Token"


class Health(BaseModel):
    status: str
    version: str
    database: str
