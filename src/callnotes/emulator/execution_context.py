"""The ``RemoteExecutionContext`` JSON a webhook step posts for one committed change.

Shape of powerapps-docs/developer/data-platform/use-webhooks.md ("Request Body", the serialized
``Microsoft.Xrm.Sdk.RemoteExecutionContext``): ``InputParameters`` holds ``Target`` — the ``Entity`` the
request wrote (Create: every column it set; Update: the changed ones; both with the primary key) or,
for Delete, an ``EntityReference``; ``PreEntityImages`` / ``PostEntityImages`` hold the step's registered
images (``sdkmessageprocessingstepimage``: alias, attributes) and, for an asynchronous step, the
``AsynchronousStepPrimaryName`` post image the sample shows (primary name and id); ``OwningExtension``
is the step. Values are typed as the data-contract serializer writes them: ``OptionSetValue``,
``Money`` and ``EntityReference`` objects with their ``__type``, dates as ``/Date(<ms>)/``, the labels of
choices in ``FormattedValues``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from callnotes.emulator.change_feed import Change
from callnotes.emulator.formatting import RecordWriter, format_value, lookup_target
from callnotes.emulator.table_definitions import BUSINESS_UNIT_ID, ORGANIZATION_ID, Column, EntityType, Kind
from callnotes.emulator.tables import Row

_CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
ASYNC_PRIMARY_IMAGE = "AsynchronousStepPrimaryName"


@dataclass(frozen=True)
class StepImage:
    """An image registered on a step: its alias, pre/post, and the columns it carries (None = all)."""

    alias: str
    pre: bool
    post: bool
    columns: frozenset[str] | None = None


@dataclass(frozen=True)
class Step:
    """What the context needs of the step that fires: its id, name, mode, stage and images."""

    id: str
    name: str
    mode: int
    stage: int
    images: tuple[StepImage, ...] = ()


def execution_context(change: Change, step: Step, records: RecordWriter, *, request_id: str,
                      correlation_id: str, organization_name: str) -> dict[str, Any]:
    """The context of ``change`` as ``step`` delivers it (a new OperationId: one system job)."""
    entity, caller = change.entity, change.caller_id
    return {
        "BusinessUnitId": BUSINESS_UNIT_ID,
        "CorrelationId": correlation_id,
        "Depth": 1,
        "InitiatingUserId": caller,
        "InputParameters": [{"key": "Target", "value": _target(change, records)}],
        "IsExecutingOffline": False,
        "IsInTransaction": False,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": change.message,
        "Mode": step.mode,
        "OperationCreatedOn": _date_text(change.at),
        "OperationId": str(uuid.uuid4()),
        "OrganizationId": ORGANIZATION_ID,
        "OrganizationName": organization_name,
        "OutputParameters": [{"key": "id", "value": change.record_id}] if change.message == "Create" else [],
        "OwningExtension": _reference("sdkmessageprocessingstep", step.id, step.name),
        "ParentContext": None,
        "PostEntityImages": _images(change, step, records, post=True),
        "PreEntityImages": _images(change, step, records, post=False),
        "PrimaryEntityId": change.record_id,
        "PrimaryEntityName": entity.logical_name,
        "RequestId": request_id,
        "SecondaryEntityName": "none",
        "SharedVariables": [],
        "Stage": step.stage,
        "UserId": caller,
    }


def _target(change: Change, records: RecordWriter) -> dict[str, Any]:
    entity = change.entity
    if change.message == "Delete":
        reference = _reference(entity.logical_name, change.record_id)
        return {"__type": f"EntityReference:{_CONTRACTS}", **reference}
    row = change.after or {}
    columns = {*change.target, entity.primary_key, "modifiedon"}
    if change.message == "Create":
        columns |= {"createdon", "ownerid"} & set(entity.columns)
    return {"__type": f"Entity:{_CONTRACTS}", **_entity(entity, row, columns, records)}


def _images(change: Change, step: Step, records: RecordWriter, *, post: bool) -> list[dict[str, Any]]:
    row = change.after if post else change.before
    if row is None:
        return []
    entity, images = change.entity, []
    for image in step.images:
        if image.post if post else image.pre:
            columns = image.columns if image.columns is not None else set(entity.columns)
            value = _entity(entity, row, {*columns, entity.primary_key}, records)
            images.append({"key": image.alias, "value": value})
    if post and step.mode == 1:
        columns = {entity.primary_name, entity.primary_key}
        images.append({"key": ASYNC_PRIMARY_IMAGE, "value": _entity(entity, row, columns, records)})
    return images


def _entity(entity: EntityType, row: Row, names: Iterable[str], records: RecordWriter) -> dict[str, Any]:
    attributes, formatted = [], []
    for name in sorted(names):
        column = entity.columns.get(name)
        if column is None or not column.readable:
            continue
        value = row.get(name)
        attributes.append({"key": name, "value": _value(column, row, value, records)})
        label = format_value(column, value) if value is not None and column.kind is Kind.CHOICE else None
        if label is not None:
            formatted.append({"key": name, "value": label})
    return {
        "Attributes": attributes,
        "EntityState": None,
        "FormattedValues": formatted,
        "Id": str(row.get(entity.primary_key)),
        "KeyAttributes": [],
        "LogicalName": entity.logical_name,
        "RelatedEntities": [],
        "RowVersion": str(row.get("versionnumber")) if row.get("versionnumber") is not None else None,
    }


def _value(column: Column, row: Row, value: object, records: RecordWriter) -> object:
    if value is None:
        return None
    if column.kind is Kind.LOOKUP:
        target = lookup_target(row, column)
        reference = _reference(target, str(value), records.display_name(target, str(value)))
        return {"__type": f"EntityReference:{_CONTRACTS}", **reference}
    if column.kind is Kind.CHOICE:
        return {"__type": f"OptionSetValue:{_CONTRACTS}", "Value": value}
    if column.kind is Kind.MONEY:
        return {"__type": f"Money:{_CONTRACTS}", "Value": value}
    if column.kind in (Kind.DATE, Kind.DATETIME):
        return _date_text(_moment(str(value)))
    return value


def _reference(logical_name: str, record_id: str, name: str | None = None) -> Mapping[str, Any]:
    return {"Id": record_id, "KeyAttributes": [], "LogicalName": logical_name, "Name": name,
            "RowVersion": None}


def _moment(text: str) -> datetime:
    if len(text) <= 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _date_text(moment: datetime) -> str:
    """``/Date(<milliseconds since 1970 UTC>)/`` (the data-contract JSON date)."""
    return f"/Date({int(moment.timestamp() * 1000)})/"
