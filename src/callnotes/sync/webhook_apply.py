"""What a Dataverse change means for the MSX mirror: the store fields of milestones, opportunities,
tasks and accounts it sets, and the account-team rows it adds or removes.

Attribute names are the MSX columns the import reads (msx/schema.py ``*_SELECT``); values arrive typed
(dataverse/remote_context.py). Only the attributes a change carries are applied: an Update's Target
holds the changed columns, overlaid on the post image when the step registers one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from callnotes.dataverse import EntityReference, Money, OptionSetValue, RemoteExecutionContext
from callnotes.domain import HokCategory
from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.records import AccountTeamMember
from callnotes.msx.schema import SALES_STAGE_LABELS, TASK_STATE_LABELS
from callnotes.store.repo.msx_types import MsxKind, SellerRecord, SolutionEngineerRecord
from callnotes.store.repo.remote_changes import (
    ChangeOutcome,
    add_account_team_member,
    apply_msx_change,
    mark_msx_deleted,
    remove_account_team_member,
)

_OPPORTUNITY_STATES = {0: "Open", 1: "Won", 2: "Lost"}  # opportunity.md StateCode
Convert = Callable[[Any, str | None], Any]


def _text(value: Any, _label: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _day(value: Any, _label: str | None) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def _number(value: Any, _label: str | None) -> float | None:
    if isinstance(value, Money):
        return value.value
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _option(value: Any, _label: str | None) -> int | None:
    return value.value if isinstance(value, OptionSetValue) else None


def _label(labels: Mapping[int, str] | None = None) -> Convert:
    def read(value: Any, label: str | None) -> str | None:
        code = _option(value, label)
        return label or ((labels or {}).get(code) if code is not None else None)

    return read


def _reference(logical: str) -> Convert:
    def read(value: Any, _label: str | None) -> str | None:
        return value.id if isinstance(value, EntityReference) and value.logical_name == logical else None

    return read


def _reference_name(value: Any, _label: str | None) -> str | None:
    return value.name if isinstance(value, EntityReference) else None


def _integer(value: Any, _label: str | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: Per table: the store kind and, per attribute, (store field, conversion); some attributes set two.
_FIELDS: dict[str, tuple[MsxKind, dict[str, list[tuple[str, Convert]]]]] = {
    "msp_engagementmilestone": (MsxKind.MILESTONES, {
        "msp_name": [("name", _text)], "msp_milestonenumber": [("number", _text)],
        "msp_milestonestatus": [("status", _option), ("status_label", _label())],
        "msp_milestonedate": [("milestone_date", _day)], "msp_monthlyuse": [("monthly_use", _number)],
        "msp_workloadlkid": [("workload", _reference_name)],
        "msp_commitmentrecommendation": [("commitment", _label())],
        "msp_opportunityid": [("opportunity_msx_id", _reference("opportunity"))],
        "msp_parentaccount": [("customer_msx_id", _reference("account"))],
    }),
    "opportunity": (MsxKind.OPPORTUNITIES, {
        "name": [("name", _text)], "msp_opportunitynumber": [("number", _text)],
        "statecode": [("state", _label(_OPPORTUNITY_STATES))],
        "estimatedclosedate": [("estimated_close_date", _day)],
        "estimatedvalue": [("estimated_value", _number)],
        "salesstage": [("stage", _label(SALES_STAGE_LABELS))],
        "ownerid": [("owner_name", _reference_name)],
        "parentaccountid": [("customer_msx_id", _reference("account"))],
    }),
    "task": (MsxKind.TASKS, {
        "subject": [("subject", _text)], "msp_taskcategory": [("category_code", _option)],
        "scheduleddurationminutes": [("duration_minutes", _integer)],
        "scheduledend": [("task_date", _day)],
        "statecode": [("state", _label(TASK_STATE_LABELS))],
        "regardingobjectid": [("milestone_msx_id", _reference("msp_engagementmilestone"))],
    }),
    "account": (MsxKind.CUSTOMERS, {"name": [("name", _text)], "msp_mstopparentid": [("tpid", _text)]}),
}
ACCOUNT_TEAM = "msp_accountteam"
MIRRORED = frozenset({*_FIELDS, ACCOUNT_TEAM})


def store_changes(entity: str, attributes: Mapping[str, Any], formatted: Mapping[str, str]) -> dict[str, Any]:
    """The store fields a change sets (only those whose attributes it carries)."""
    _, columns = _FIELDS[entity]
    changes: dict[str, Any] = {}
    for attribute, targets in columns.items():
        if attribute not in attributes:
            continue
        for field, convert in targets:
            changes[field] = convert(attributes[attribute], formatted.get(attribute))
    if "category_code" in changes:
        code = changes["category_code"]
        changes["is_hok"] = code in HokCategory._value2member_map_ and HokCategory(code).is_hok
    for required in ("name", "subject"):
        if required in changes and changes[required] is None:
            del changes[required]  # a record keeps its name when a change blanks it
    return changes


def apply_context(session: Session, context: RemoteExecutionContext) -> ChangeOutcome:
    """Apply one change to the mirror (the caller has checked it is new and not stale)."""
    if context.entity == ACCOUNT_TEAM:
        return _account_team(session, context)
    kind, _ = _FIELDS[context.entity]
    if context.message == "Delete":
        return mark_msx_deleted(session, kind, context.record_id)
    changes = store_changes(context.entity, context.after(), context.formatted_after())
    return apply_msx_change(session, kind, context.record_id, changes, create=context.message == "Create")


def _account_team(session: Session, context: RemoteExecutionContext) -> ChangeOutcome:
    """An account-team row: on the team as a seller or SE, or (deleted, another role) off it."""
    if context.message == "Delete":
        before: dict[str, Any] = {}
        for image in context.pre_images.values():
            before.update(image.as_row())
        account, user = before.get("_msp_accountid_value"), before.get("_msp_systemuserid_value")
        if not account or not user:
            return ChangeOutcome.NOT_MIRRORED  # no pre image: the next refresh catches it
        return remove_account_team_member(session, str(account), str(user))
    row: dict[str, Any] = {}
    for image in (*context.post_images.values(), *([context.target] if context.target else [])):
        row.update(image.as_row())
    try:
        member = AccountTeamMember.from_row(row)
    except MalformedCrmAnswer:
        return ChangeOutcome.NOT_MIRRORED
    name = (member.full_name or "").strip() or "(no name in MSX)"
    if member.seller_type is not None:
        return add_account_team_member(session, member.account_id, SellerRecord(member.user_id, name,
                                                                                member.seller_type))
    if member.se_specialty is not None:
        return add_account_team_member(session, member.account_id,
                                       SolutionEngineerRecord(member.user_id, name, member.se_specialty))
    return remove_account_team_member(session, member.account_id, member.user_id)
