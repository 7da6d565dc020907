"""Typed MSX records parsed from Dataverse rows; malformed answers raise `MalformedCrmAnswer`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from callnotes.msx import _parse as p
from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.schema import (
    MILESTONE_CLOSED_LABELS,
    SALES_STAGE_LABELS,
    SE_SPECIALTY_BY_ROLE,
    SELLER_TITLE,
    SELLER_TYPE_BY_ROLE,
    TASK_STATE_LABELS,
    HokCategory,
    Role,
    SellerType,
    SeSpecialty,
)

_POD_CODE = re.compile(r"^(\d{2})\d*$")


def pod_name(territory_name: str | None) -> str | None:
    """``"East.SMECC.MAA.0601"`` → ``"East POD 06"`` (reference/001); ``None`` when not in that shape."""
    parts = [part.strip() for part in (territory_name or "").split(".")]
    if len(parts) < 2 or not parts[0]:
        return None
    match = _POD_CODE.match(parts[-1])
    return f"{parts[0]} POD {match.group(1)}" if match else None


@dataclass(frozen=True)
class WhoAmI(p.FromRow):
    ENTITY: ClassVar[str] = "WhoAmI answer"
    user_id: str = p.column("UserId", p.guid)
    business_unit_id: str | None = p.column("BusinessUnitId", p.optional_guid)
    organization_id: str | None = p.column("OrganizationId", p.optional_guid)


@dataclass(frozen=True)
class MsxUser(p.FromRow):
    ENTITY: ClassVar[str] = "systemuser"
    id: str = p.column("systemuserid", p.guid)
    full_name: str | None = p.column("fullname")
    email: str | None = p.column("internalemailaddress")


@dataclass(frozen=True)
class Account(p.FromRow):
    ENTITY: ClassVar[str] = "account"
    id: str = p.column("accountid", p.guid)
    name: str = p.column("name", p.required_text)
    tpid: str | None = p.column("msp_mstopparentid")
    territory_id: str | None = p.column("_territoryid_value", p.optional_guid)
    territory_name: str | None = p.column("_territoryid_value", p.formatted_value, default=None)
    modified_on: datetime | None = p.column("modifiedon", p.moment, default=None)  # noqa: RUF009 (column() is a dataclasses.field)


@dataclass(frozen=True)
class Territory(p.FromRow):
    ENTITY: ClassVar[str] = "territory"
    id: str = p.column("territoryid", p.guid)
    name: str = p.column("name", p.required_text)
    unit_name: str | None = p.column("msp_accountteamunitname")

    @property
    def pod(self) -> str | None:
        return pod_name(self.name)


@dataclass(frozen=True)
class AccountTeamMember(p.FromRow):
    """One msp_accountteams row: a user in a role on an account."""

    ENTITY: ClassVar[str] = "msp_accountteam"
    account_id: str = p.column("_msp_accountid_value", p.guid)
    user_id: str = p.column("_msp_systemuserid_value", p.guid)
    full_name: str | None = p.column("msp_fullname")
    qualifier1: str | None = p.column("msp_qualifier1")
    role: str | None = p.column("msp_qualifier2")
    title: str | None = p.column("msp_standardtitle")
    modified_on: datetime | None = p.column("modifiedon", p.moment, default=None)  # noqa: RUF009 (column() is a dataclasses.field)

    @property
    def seller_type(self) -> SellerType | None:
        """Growth / Acquisition when the row is a seller: role AND title "Specialists IC" (reference/001)."""
        role = _role(self.role)
        if role not in SELLER_TYPE_BY_ROLE or SELLER_TITLE not in (self.title or ""):
            return None
        return SELLER_TYPE_BY_ROLE[role]

    @property
    def se_specialty(self) -> SeSpecialty | None:
        """Data / Infra / Apps SE, decided by the role alone (reference/001)."""
        role = _role(self.role)
        return SE_SPECIALTY_BY_ROLE.get(role) if role is not None else None


def _role(value: str | None) -> Role | None:
    try:
        return Role(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Opportunity(p.FromRow):
    ENTITY: ClassVar[str] = "opportunity"
    id: str = p.column("opportunityid", p.guid)
    name: str = p.column("name", p.required_text)
    number: str | None = p.column("msp_opportunitynumber")
    account_id: str | None = p.column("_parentaccountid_value", p.optional_guid)
    owner_id: str | None = p.column("_ownerid_value", p.optional_guid)
    owner_name: str | None = p.column("_ownerid_value", p.formatted_value)
    estimated_close_date: date | None = p.column("estimatedclosedate", p.day)  # noqa: RUF009 (column() is a dataclasses.field)
    estimated_completion_date: date | None = p.column("msp_estcompletiondate", p.day)  # noqa: RUF009 (column() is a dataclasses.field)
    consumed_recurring: float | None = p.column("msp_consumptionconsumedrecurring", p.number)
    state: int | None = p.column("statecode", p.integer)
    #: "Open", "Won", "Lost"… (the answer's formatted value).
    state_label: str | None = p.column("statecode", p.formatted_value, default=None)
    modified_on: datetime | None = p.column("modifiedon", p.moment, default=None)  # noqa: RUF009 (column() is a dataclasses.field)
    #: ``estimatedvalue`` (Money) and ``salesstage``'s label (Qualify, Develop, Propose, Close:
    #: powerapps-docs/developer/data-platform/reference/entities/opportunity.md).
    estimated_value: float | None = p.column("estimatedvalue", p.number, default=None)
    stage: str | None = p.column("salesstage", p.labelled(SALES_STAGE_LABELS), default=None)


@dataclass(frozen=True)
class ForecastComment:
    text: str
    author: str | None = None
    date: str | None = None

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("text", self.text), ("author", self.author), ("date", self.date)) if v}


def parse_forecast_comments(raw: str | None) -> tuple[ForecastComment, ...]:
    """``msp_forecastcommentsjsonfield``: a JSON list of {text, author, date} (reference/000, section 4)."""
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedCrmAnswer("milestone", "msp_forecastcommentsjsonfield", "is not JSON") from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) and "text" in i for i in items):
        raise MalformedCrmAnswer("milestone", "msp_forecastcommentsjsonfield", "is not a list of comments")
    return tuple(ForecastComment(str(i["text"]), i.get("author"), i.get("date")) for i in items)


def _forecast_comments(entity: str, row: p.Row, field: str) -> tuple[ForecastComment, ...]:
    return parse_forecast_comments(p.text(entity, row, field))


@dataclass(frozen=True)
class Milestone(p.FromRow):
    ENTITY: ClassVar[str] = "milestone"
    id: str = p.column("msp_engagementmilestoneid", p.guid)
    number: str | None = p.column("msp_milestonenumber")
    name: str = p.column("msp_name", p.required_text)
    milestone_date: date | None = p.column("msp_milestonedate", p.day)  # noqa: RUF009 (column() is a dataclasses.field)
    #: The option value and its label (the CRM's FormattedValue: the reference names no codes).
    status: int | None = p.column("msp_milestonestatus", p.integer)
    status_label: str | None = p.column("msp_milestonestatus", p.formatted_value)
    monthly_use: float | None = p.column("msp_monthlyuse", p.number)
    opportunity_id: str | None = p.column("_msp_opportunityid_value", p.optional_guid)
    opportunity_name: str | None = p.column("_msp_opportunityid_value", p.formatted_value)
    account_id: str | None = p.column("_msp_parentaccount_value", p.optional_guid)
    owner_id: str | None = p.column("_ownerid_value", p.optional_guid)
    owner_name: str | None = p.column("_ownerid_value", p.formatted_value)
    workload: str | None = p.column("_msp_workloadlkid_value", p.formatted_value)
    commitment: str | None = p.column("msp_commitmentrecommendation", p.formatted_value)
    category: str | None = p.column("msp_milestonecategory", p.formatted_value)
    forecast_comments: tuple[ForecastComment, ...] = p.column(
        "msp_forecastcommentsjsonfield", _forecast_comments, default=())
    forecast_summary: str | None = p.column("msp_forecastcomments", default=None)
    etag: str | None = p.column("@odata.etag", p.row_etag, default=None)
    modified_on: datetime | None = p.column("modifiedon", p.moment, default=None)  # noqa: RUF009 (column() is a dataclasses.field)

    @property
    def is_closed(self) -> bool:
        return (self.status_label or "") in MILESTONE_CLOSED_LABELS


def _task_category(entity: str, row: p.Row, field: str) -> HokCategory | None:
    code = p.integer(entity, row, field)
    return HokCategory(code) if code is not None and code in HokCategory._value2member_map_ else None


@dataclass(frozen=True)
class MsxTask(p.FromRow):
    ENTITY: ClassVar[str] = "task"
    id: str = p.column("activityid", p.guid)
    subject: str = p.column("subject", p.text_or_empty)
    category: HokCategory | None = p.column("msp_taskcategory", _task_category)  # noqa: RUF009 (column() is a dataclasses.field)
    category_code: int | None = p.column("msp_taskcategory", p.integer)
    duration_minutes: int | None = p.column("scheduleddurationminutes", p.integer)
    state: int | None = p.column("statecode", p.integer)
    status: int | None = p.column("statuscode", p.integer)
    owner_id: str | None = p.column("_ownerid_value", p.optional_guid)
    regarding_id: str | None = p.column("_regardingobjectid_value", p.optional_guid)
    created_on: datetime | None = p.column("createdon", p.moment)  # noqa: RUF009 (column() is a dataclasses.field)
    scheduled_end: datetime | None = p.column("scheduledend", p.moment)  # noqa: RUF009 (column() is a dataclasses.field)
    #: Open / Completed / Canceled (task.md StateCode), from the answer or our labels.
    state_label: str | None = p.column("statecode", p.labelled(TASK_STATE_LABELS), default=None)
    modified_on: datetime | None = p.column("modifiedon", p.moment, default=None)  # noqa: RUF009 (column() is a dataclasses.field)

    @property
    def is_hok(self) -> bool:
        return bool(self.category and self.category.is_hok)
