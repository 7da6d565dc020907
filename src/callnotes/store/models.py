"""SQLAlchemy 2 ORM models: the local picture of MSX plus the user's own notes.

Every record that comes from MSX carries its MSX id in ``msx_id`` (unique) and a
``gone_from_msx_at`` marker: a record that disappears from MSX is marked, never deleted, so no note
loses its customer or milestone. Local records (notes, topics, templates, drafts) have only local keys.
Every exported record has a ``uid`` (UUID text) that survives export / import.
All datetimes are UTC and tz-aware (:class:`~callnotes.store.column_types.UTCDateTime`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from callnotes.domain import SellerType, SeSpecialty
from callnotes.store import limits
from callnotes.store.column_types import UTCDateTime, new_uid, utcnow

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


def _fk(table: str) -> Any:
    """An indexed, nullable foreign key to ``table.id`` that becomes NULL when the target goes."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="SET NULL"), index=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class _MsxRecord(_Timestamps):
    """Columns shared by every record imported from MSX."""

    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    msx_id: Mapped[str | None] = mapped_column(String(limits.MSX_ID_MAX), unique=True)
    gone_from_msx_at: Mapped[datetime | None] = mapped_column(default=None)
    msx_synced_at: Mapped[datetime | None] = mapped_column(default=None)


def _link_table(name: str, owner: str, member: str) -> Table:
    """A many-to-many link ``owner`` ↔ ``member`` (both ``<table>.id``, rows go with either side);
    the primary key serves lookups by owner, an index on the member column lookups by member."""
    owner_table, owner_column = owner.split(".")
    member_table, member_column = member.split(".")
    return Table(
        name,
        Base.metadata,
        Column(owner_column, ForeignKey(f"{owner_table}.id", ondelete="CASCADE"), primary_key=True),
        Column(member_column, ForeignKey(f"{member_table}.id", ondelete="CASCADE"), primary_key=True,
               index=True),
    )


customer_sellers = _link_table("customer_sellers", "customers.customer_id", "sellers.seller_id")
customer_solution_engineers = _link_table(
    "customer_solution_engineers", "customers.customer_id", "solution_engineers.solution_engineer_id")
note_topics = _link_table("note_topics", "notes.note_id", "topics.topic_id")
note_milestones = _link_table("note_milestones", "notes.note_id", "milestones.milestone_id")
note_opportunities = _link_table("note_opportunities", "notes.note_id", "opportunities.opportunity_id")


class Pod(Base, _Timestamps):
    """A POD ("East POD 06"), derived from territory names; keyed by name."""

    __tablename__ = "pods"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    territories: Mapped[list[Territory]] = relationship(back_populates="pod")


class Territory(Base, _MsxRecord):
    """An MSX territory (``territories``), e.g. ``East.SMECC.MAA.0601``."""

    __tablename__ = "territories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.TERRITORY_NAME_MAX), index=True)
    account_team_unit_name: Mapped[str | None] = mapped_column(String(limits.TERRITORY_NAME_MAX))
    pod_id: Mapped[int | None] = _fk("pods")
    pod: Mapped[Pod | None] = relationship(back_populates="territories")
    customers: Mapped[list[Customer]] = relationship(back_populates="territory")


class _Person(_MsxRecord):
    """Columns of someone on account teams; ``msx_id`` is the MSX ``systemuserid`` when known."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.PERSON_NAME_MAX), index=True)
    email: Mapped[str | None] = mapped_column(String(limits.EMAIL_MAX))


class Seller(Base, _Person):
    """A seller on account teams (Growth / Acquisition)."""

    __tablename__ = "sellers"
    seller_type: Mapped[SellerType] = mapped_column(_enum(SellerType, "seller_type"))
    customers: Mapped[list[Customer]] = relationship(secondary=customer_sellers, back_populates="sellers")


class SolutionEngineer(Base, _Person):
    """A solution engineer on account teams (Data / Infra / Apps)."""

    __tablename__ = "solution_engineers"
    specialty: Mapped[SeSpecialty] = mapped_column(_enum(SeSpecialty, "se_specialty"))
    customers: Mapped[list[Customer]] = relationship(
        secondary=customer_solution_engineers, back_populates="solution_engineers"
    )


class Customer(Base, _MsxRecord):
    """A customer account; ``msx_id`` is the MSX ``accountid``, ``tpid`` its ``msp_mstopparentid``."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.CUSTOMER_NAME_MAX), index=True)
    tpid: Mapped[str | None] = mapped_column(String(limits.CUSTOMER_TPID_MAX), index=True)
    territory_id: Mapped[int | None] = _fk("territories")
    account_notes: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(limits.CUSTOMER_WEBSITE_MAX))
    msx_url: Mapped[str | None] = mapped_column(String(limits.CUSTOMER_MSX_URL_MAX))
    territory: Mapped[Territory | None] = relationship(back_populates="customers")
    sellers: Mapped[list[Seller]] = relationship(secondary=customer_sellers, back_populates="customers")
    solution_engineers: Mapped[list[SolutionEngineer]] = relationship(
        secondary=customer_solution_engineers, back_populates="customers"
    )
    notes: Mapped[list[Note]] = relationship(back_populates="customer")
    opportunities: Mapped[list[Opportunity]] = relationship(back_populates="customer")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="customer")


class Topic(Base, _Timestamps):
    """A tag on notes; names are unique ignoring case (the repo normalises)."""

    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    name: Mapped[str] = mapped_column(String(limits.TOPIC_NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(limits.TOPIC_NAME_MAX), unique=True)
    notes: Mapped[list[Note]] = relationship(secondary=note_topics, back_populates="topics")


class Opportunity(Base, _MsxRecord):
    """An MSX opportunity."""

    __tablename__ = "opportunities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.MSX_RECORD_NAME_MAX))
    number: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[str | None] = mapped_column(String(100))
    estimated_close_date: Mapped[date | None] = mapped_column(Date)
    #: ``estimatedvalue`` (the revenue MSX estimates), ``salesstage``'s label, the owner's name.
    estimated_value: Mapped[float | None] = mapped_column(Float, default=None)
    stage: Mapped[str | None] = mapped_column(String(100), default=None)
    owner_name: Mapped[str | None] = mapped_column(String(limits.PERSON_NAME_MAX), default=None)
    #: I am on its deal (access) team in MSX.
    on_my_team: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    customer_id: Mapped[int | None] = _fk("customers")
    customer: Mapped[Customer | None] = relationship(back_populates="opportunities")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="opportunity")


class Milestone(Base, _MsxRecord):
    """An MSX engagement milestone (``msp_engagementmilestone``)."""

    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.MSX_RECORD_NAME_MAX))
    number: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    status_label: Mapped[str | None] = mapped_column(String(100))
    milestone_date: Mapped[date | None] = mapped_column(Date, index=True)
    monthly_use: Mapped[float | None] = mapped_column(Float)
    workload: Mapped[str | None] = mapped_column(String(300))
    #: ``msp_commitmentrecommendation``'s label: Uncommitted, Committed, Committed at Risk.
    commitment: Mapped[str | None] = mapped_column(String(100), default=None)
    on_my_team: Mapped[bool] = mapped_column(Boolean, default=False)
    opportunity_id: Mapped[int | None] = _fk("opportunities")
    customer_id: Mapped[int | None] = _fk("customers")
    opportunity: Mapped[Opportunity | None] = relationship(back_populates="milestones")
    customer: Mapped[Customer | None] = relationship(back_populates="milestones")
    tasks: Mapped[list[Task]] = relationship(back_populates="milestone")


class Task(Base, _MsxRecord):
    """An MSX task against a milestone; ``msx_id`` stays empty until the task exists in MSX."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(limits.MSX_RECORD_NAME_MAX))
    category_code: Mapped[int | None] = mapped_column(Integer)
    is_hok: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(50))
    #: The day of the task in MSX (``scheduledend``, else ``createdon``; a task from a note: its due).
    task_date: Mapped[date | None] = mapped_column(Date, default=None)
    milestone_id: Mapped[int | None] = _fk("milestones")
    note_id: Mapped[int | None] = _fk("notes")
    milestone: Mapped[Milestone | None] = relationship(back_populates="tasks")


def note_title(title: str | None, body: str | None, call_date: date | None) -> str:
    """The title shown for a note: ``title``, else the body's first line, else "Note of <date>"."""
    if title:
        return title
    for line in (body or "").splitlines():
        text = line.strip().lstrip("#>*- ").strip()
        if text:
            return text[:120]
    return f"Note of {call_date.isoformat()}" if call_date else "Note"


class Note(Base, _Timestamps):
    """A call note: Markdown body, call date, optional customer, topics, attendees, MSX links.

    ``search_context`` (customer name + topic names) is maintained by database triggers for
    full-text search; never write it from Python.
    """

    __tablename__ = "notes"
    # Newest first (call date, creation, id) overall and per customer: both pages walk an index
    # backwards instead of sorting; the leading columns also serve the foreign key and date ranges.
    __table_args__ = (
        Index("ix_notes_customer_id_call_date", "customer_id", "call_date", "created_at", "id"),
        Index("ix_notes_call_date_created_at", "call_date", "created_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    title: Mapped[str] = mapped_column(String(limits.NOTE_TITLE_MAX), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    call_date: Mapped[date] = mapped_column(Date)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    search_context: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    customer: Mapped[Customer | None] = relationship(back_populates="notes")
    topics: Mapped[list[Topic]] = relationship(secondary=note_topics, back_populates="notes",
                                               order_by="Topic.name_key")
    milestones: Mapped[list[Milestone]] = relationship(secondary=note_milestones)
    opportunities: Mapped[list[Opportunity]] = relationship(secondary=note_opportunities)

    @property
    def display_title(self) -> str:
        """``title``, else the first non-empty line of the body (Markdown markers stripped)."""
        return note_title(self.title, self.body, self.call_date)


class NoteTemplate(Base, _Timestamps):
    """A reusable Markdown skeleton for new notes."""

    __tablename__ = "note_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    name: Mapped[str] = mapped_column(String(limits.TEMPLATE_NAME_MAX), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")


class Draft(Base, _Timestamps):
    """Server-side autosave of an editor; ``key`` is chosen by the client (e.g. ``note:12``, ``new:<uuid>``)
    so a reopened tab finds its draft again."""

    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(limits.DRAFT_KEY_MAX), unique=True)
    note_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(limits.NOTE_TITLE_MAX), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    call_date: Mapped[date | None] = mapped_column(Date)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    customer: Mapped[Customer | None] = relationship()


class RunKind(StrEnum):
    """What a background run of the sync layer does."""

    IMPORT = "import"
    REFRESH = "refresh"
    PUSH = "push"


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (RunState.QUEUED, RunState.RUNNING)


class SyncRun(Base):
    """One background run (an import…): its state, progress per phase, result and cost. Rows are
    written by whichever process runs the job (web, ``callnotes worker``) and read by the pages, so
    progress and cancellation work across processes; ``heartbeat_at`` tells a live run from one
    whose worker died."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_kind_id", "kind", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind, "run_kind"))
    state: Mapped[RunState] = mapped_column(_enum(RunState, "run_state"), default=RunState.QUEUED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``{phase: [done, total]}`` — the latest count of each phase.
    progress: Mapped[dict[str, list[int]]] = mapped_column(JSON, default=dict)
    summary: Mapped[list[str]] = mapped_column(JSON, default=list)
    http_requests: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxKind(StrEnum):
    """What a queued CRM write does."""

    CREATE_TASK = "create_task"
    UPDATE_MILESTONE = "update_milestone"
    FORECAST_COMMENT = "forecast_comment"
    JOIN_MILESTONE_TEAM = "join_milestone_team"
    LEAVE_MILESTONE_TEAM = "leave_milestone_team"
    JOIN_DEAL_TEAM = "join_deal_team"
    LEAVE_DEAL_TEAM = "leave_deal_team"
    UPDATE_OPPORTUNITY = "update_opportunity"


class OutboxState(StrEnum):
    """An outbox row's life (DESIGN.md §Contracts, write-back)."""

    AWAITING_APPROVAL = "awaiting_approval"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DISCARDED = "discarded"


class OutboxItem(Base, _Timestamps):
    """One CRM write the user asked for, committed with what caused it and sent by a worker.

    ``crm_record_id`` is the GUID callnotes gives the record it creates (or the record it changes),
    fixed when the row is made, so a resend can never create a second record. A worker claims a
    row by setting ``sending`` with a lease; a lease that runs out (the worker died) frees the row.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind, "outbox_kind"))
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState, "outbox_state"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    crm_record_id: Mapped[str] = mapped_column(String(36))
    crm_id: Mapped[str | None] = mapped_column(String(36), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: Why the last try did not land: ``unreachable``, ``throttled``, ``signed_out``, ``transient``,
    #: ``refused`` (the CRM said no: the row failed).
    error_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    note_id: Mapped[int | None] = _fk("notes")
    milestone_id: Mapped[int | None] = _fk("milestones")
    opportunity_id: Mapped[int | None] = _fk("opportunities")
    note: Mapped[Note | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()


# --- generic sync (issue 11): per-record push state and webhook deliveries --------------------------


class PushRecord(Base, _Timestamps):
    """What callnotes last pushed of one local record under one mapping (``callnotes push``).

    ``fingerprint`` is the hash of what was last sent and accepted (an unchanged record is not sent
    again); ``target_id`` the Dataverse record it became; ``last_error`` / ``error_kind`` why the last try
    failed (``transient``: retried with backoff from ``next_attempt_at``; ``refused``: the CRM said no,
    tried again when the record changes or on ``callnotes push``).
    """

    __tablename__ = "push_records"
    __table_args__ = (UniqueConstraint("mapping", "source_uid", name="uq_push_records_mapping_source_uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mapping: Mapped[str] = mapped_column(String(limits.PUSH_MAPPING_NAME_MAX))
    source_kind: Mapped[str] = mapped_column(String(20))
    source_uid: Mapped[str] = mapped_column(String(36))
    target_table: Mapped[str] = mapped_column(String(100))
    target_id: Mapped[str | None] = mapped_column(String(36), default=None)
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    pushed_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    error_kind: Mapped[str | None] = mapped_column(String(20), default=None)


class WebhookDelivery(Base):
    """One RemoteExecutionContext the webhook receiver took in: ``delivery_key`` (the OperationId, or a
    hash of the body) makes a repeated delivery a no-op; ``operation_created_on`` per record lets an
    older delivery that arrives late be ignored instead of undoing a newer one."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_entity_record", "entity", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(64), unique=True)
    message: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(36))
    operation_created_on: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: ``applied``, ``ignored`` (a table or record callnotes does not mirror) or ``stale``.
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text, default=None)


# --- a seller's week (issue 13): attendees one a row, action items ------------------------------

note_attendees = Table(
    "note_attendees",
    Base.metadata,
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(limits.NOTE_ATTENDEE_MAX), nullable=False),
    Column("name_key", String(limits.NOTE_ATTENDEE_MAX), nullable=False),
    # (name_key, note_id): an attendee's notes come from the index alone, without reading rows.
    Index("ix_note_attendees_name_key", "name_key", "note_id"),
)
"""Each note's attendees one a row (``name_key`` = ``lower(name)``), for filters and suggestions.
Kept by database triggers from ``notes.attendees`` (migration 0007): never write it from Python."""


class ActionItem(Base, _Timestamps):
    """A ``- [ ] …`` line of a note: a follow-up. The note's Markdown is the truth; the store re-reads
    it whenever the body changes (``repo.action_items``), keeping ``done_at`` of items it recognises."""

    __tablename__ = "action_items"
    __table_args__ = (Index("ix_action_items_done_due", "done", "due"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    #: Which checkbox line of the note it is (0 = the first) and the body line it is on (0-based).
    position: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(limits.ACTION_ITEM_TEXT_MAX))
    due: Mapped[date | None] = mapped_column(Date, default=None)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When it was ticked off here (None: it arrived ticked, e.g. from a file import).
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[Note] = relationship()


class MsxWatermark(Base):
    """How far the incremental refresh has read one MSX table (``name`` = its entity set): the
    greatest ``modifiedon`` seen, in the server's clock; ``row_count`` = how many rows the table
    held in scope at that point (the refresh compares it with MSX's count to see deletions);
    ``value`` = a text the refresh keeps (the signed-in user's ``systemuserid`` under ``me``)."""

    __tablename__ = "msx_watermarks"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    modified_on: Mapped[datetime | None] = mapped_column(default=None)
    row_count: Mapped[int | None] = mapped_column(Integer, default=None)
    value: Mapped[str | None] = mapped_column(String(100), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MilestoneFavourite(Base):
    """A milestone I starred on the tracker (local only: MSX knows nothing of it)."""

    __tablename__ = "milestone_favourites"
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"),
                                              primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _refuse_naive(_target: object, value: object, _old: object, _initiator: object) -> object:
    if value is not None:
        UTCDateTime.check(value)
    return value


def _install_datetime_guards() -> None:
    """Refuse naive datetimes when assigned to a model attribute, not only when flushed."""
    for mapper in Base.registry.mappers:
        for column_attr in mapper.column_attrs:
            if any(isinstance(c.type, UTCDateTime) for c in column_attr.columns):
                event.listen(getattr(mapper.class_, column_attr.key), "set", _refuse_naive, retval=True)


_install_datetime_guards()
