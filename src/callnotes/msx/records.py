"""Typed MSX records parsed from Dataverse rows; malformed answers raise `MalformedCrmAnswer`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from callnotes.msx import _parse as p
from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.schema import (
    MILESTONE_CLOSED_LABELS,
    MILESTONE_STATUS_LABELS,
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
class WhoAmI:
    user_id: str
    business_unit_id: str | None
    organization_id: str | None

    @classmethod
    def from_row(cls, row: object) -> WhoAmI:
        r = p.require_row("WhoAmI answer", row)
        return cls(
            user_id=p.guid("WhoAmI answer", r, "UserId"),  # type: ignore[arg-type]
            business_unit_id=p.guid("WhoAmI answer", r, "BusinessUnitId", required=False),
            organization_id=p.guid("WhoAmI answer", r, "OrganizationId", required=False),
        )


@dataclass(frozen=True)
class MsxUser:
    id: str
    full_name: str | None
    email: str | None

    @classmethod
    def from_row(cls, row: object) -> MsxUser:
        r = p.require_row("systemuser", row)
        return cls(
            id=p.guid("systemuser", r, "systemuserid"),  # type: ignore[arg-type]
            full_name=p.text("systemuser", r, "fullname"),
            email=p.text("systemuser", r, "internalemailaddress"),
        )


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    tpid: str | None
    territory_id: str | None
    territory_name: str | None = None

    @classmethod
    def from_row(cls, row: object) -> Account:
        r = p.require_row("account", row)
        return cls(
            id=p.guid("account", r, "accountid"),  # type: ignore[arg-type]
            name=p.text("account", r, "name", required=True),  # type: ignore[arg-type]
            tpid=p.text("account", r, "msp_mstopparentid"),
            territory_id=p.guid("account", r, "_territoryid_value", required=False),
            territory_name=p.formatted(r, "_territoryid_value"),
        )


@dataclass(frozen=True)
class Territory:
    id: str
    name: str
    unit_name: str | None

    @property
    def pod(self) -> str | None:
        return pod_name(self.name)

    @classmethod
    def from_row(cls, row: object) -> Territory:
        r = p.require_row("territory", row)
        return cls(
            id=p.guid("territory", r, "territoryid"),  # type: ignore[arg-type]
            name=p.text("territory", r, "name", required=True),  # type: ignore[arg-type]
            unit_name=p.text("territory", r, "msp_accountteamunitname"),
        )


@dataclass(frozen=True)
class AccountTeamMember:
    """One msp_accountteams row: a user in a role on an account."""

    account_id: str
    user_id: str
    full_name: str | None
    qualifier1: str | None
    role: str | None
    title: str | None

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
        return SE_SPECIALTY_BY_ROLE.get(_role(self.role))  # type: ignore[arg-type]

    @classmethod
    def from_row(cls, row: object) -> AccountTeamMember:
        r = p.require_row("msp_accountteam", row)
        return cls(
            account_id=p.guid("msp_accountteam", r, "_msp_accountid_value"),  # type: ignore[arg-type]
            user_id=p.guid("msp_accountteam", r, "_msp_systemuserid_value"),  # type: ignore[arg-type]
            full_name=p.text("msp_accountteam", r, "msp_fullname"),
            qualifier1=p.text("msp_accountteam", r, "msp_qualifier1"),
            role=p.text("msp_accountteam", r, "msp_qualifier2"),
            title=p.text("msp_accountteam", r, "msp_standardtitle"),
        )


def _role(value: str | None) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Opportunity:
    id: str
    name: str
    number: str | None
    account_id: str | None
    owner_id: str | None
    owner_name: str | None
    estimated_close_date: date | None
    estimated_completion_date: date | None
    consumed_recurring: float | None
    state: int | None

    @classmethod
    def from_row(cls, row: object) -> Opportunity:
        e, r = "opportunity", p.require_row("opportunity", row)
        return cls(
            id=p.guid(e, r, "opportunityid"),  # type: ignore[arg-type]
            name=p.text(e, r, "name", required=True),  # type: ignore[arg-type]
            number=p.text(e, r, "msp_opportunitynumber"),
            account_id=p.guid(e, r, "_parentaccountid_value", required=False),
            owner_id=p.guid(e, r, "_ownerid_value", required=False),
            owner_name=p.formatted(r, "_ownerid_value"),
            estimated_close_date=p.day(e, r, "estimatedclosedate"),
            estimated_completion_date=p.day(e, r, "msp_estcompletiondate"),
            consumed_recurring=p.number(e, r, "msp_consumptionconsumedrecurring"),
            state=p.integer(e, r, "statecode"),
        )


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


@dataclass(frozen=True)
class Milestone:
    id: str
    number: str | None
    name: str
    date: date | None
    status_code: int | None
    status: str | None
    monthly_use: float | None
    opportunity_id: str | None
    opportunity_name: str | None
    account_id: str | None
    owner_id: str | None
    owner_name: str | None
    workload: str | None
    commitment: str | None
    category: str | None
    forecast_comments: tuple[ForecastComment, ...] = field(default=())
    forecast_summary: str | None = None
    etag: str | None = None

    @property
    def is_closed(self) -> bool:
        return (self.status or "") in MILESTONE_CLOSED_LABELS

    @classmethod
    def from_row(cls, row: object) -> Milestone:
        e, r = "milestone", p.require_row("milestone", row)
        status_code = p.integer(e, r, "msp_milestonestatus")
        return cls(
            id=p.guid(e, r, "msp_engagementmilestoneid"),  # type: ignore[arg-type]
            number=p.text(e, r, "msp_milestonenumber"),
            name=p.text(e, r, "msp_name", required=True),  # type: ignore[arg-type]
            date=p.day(e, r, "msp_milestonedate"),
            status_code=status_code,
            status=p.formatted(r, "msp_milestonestatus") or MILESTONE_STATUS_LABELS.get(status_code or -1),
            monthly_use=p.number(e, r, "msp_monthlyuse"),
            opportunity_id=p.guid(e, r, "_msp_opportunityid_value", required=False),
            opportunity_name=p.formatted(r, "_msp_opportunityid_value"),
            account_id=p.guid(e, r, "_msp_parentaccount_value", required=False),
            owner_id=p.guid(e, r, "_ownerid_value", required=False),
            owner_name=p.formatted(r, "_ownerid_value"),
            workload=p.formatted(r, "_msp_workloadlkid_value"),
            commitment=p.formatted(r, "msp_commitmentrecommendation"),
            category=p.formatted(r, "msp_milestonecategory"),
            forecast_comments=parse_forecast_comments(p.text(e, r, "msp_forecastcommentsjsonfield")),
            forecast_summary=p.text(e, r, "msp_forecastcomments"),
            etag=p.etag(r),
        )


@dataclass(frozen=True)
class MsxTask:
    id: str
    subject: str
    category: HokCategory | None
    category_code: int | None
    duration_minutes: int | None
    state: int | None
    status: int | None
    owner_id: str | None
    regarding_id: str | None
    created_on: datetime | None
    scheduled_end: datetime | None
    state_label: str | None = None

    @property
    def is_hok(self) -> bool:
        return bool(self.category and self.category.is_hok)

    @classmethod
    def from_row(cls, row: object) -> MsxTask:
        e, r = "task", p.require_row("task", row)
        code, state = p.integer(e, r, "msp_taskcategory"), p.integer(e, r, "statecode")
        return cls(
            id=p.guid(e, r, "activityid"),  # type: ignore[arg-type]
            subject=p.text(e, r, "subject") or "",
            category=HokCategory(code) if code in HokCategory._value2member_map_ else None,
            category_code=code,
            duration_minutes=p.integer(e, r, "scheduleddurationminutes"),
            state=state,
            status=p.integer(e, r, "statuscode"),
            owner_id=p.guid(e, r, "_ownerid_value", required=False),
            regarding_id=p.guid(e, r, "_regardingobjectid_value", required=False),
            created_on=p.moment(e, r, "createdon"),
            scheduled_end=p.moment(e, r, "scheduledend"),
            state_label=p.formatted(r, "statecode") or TASK_STATE_LABELS.get(-1 if state is None else state),
        )
