"""The ``RemoteExecutionContext`` a Dataverse service endpoint (webhook) posts, parsed into typed values.

Shape as powerapps-docs/developer/data-platform/use-webhooks.md ("Request Body") shows it: the
data-contract JSON of ``Microsoft.Xrm.Sdk.RemoteExecutionContext`` — ``MessageName``,
``PrimaryEntityName``, ``PrimaryEntityId``, ``InputParameters`` (``Target``: an ``Entity`` for Create and
Update, an ``EntityReference`` for Delete), ``PreEntityImages`` / ``PostEntityImages`` (lists of
``{"key": alias, "value": Entity}``), ``OperationId``, ``CorrelationId``, ``RequestId``,
``OperationCreatedOn`` (``/Date(1506409448000-0700)/``: milliseconds since 1970 UTC, then the sender's
offset), ``UserId``, ``Stage``, ``Mode``, ``Depth``. Attribute values are plain JSON for strings,
numbers, booleans and GUIDs, ``/Date(…)/`` strings for dates, and typed objects (``"__type":
"EntityReference:…"``, ``"OptionSetValue:…"``, ``"Money:…"``) for lookups, choices and money.

Anything that is not that shape raises `MalformedContext` (a ``ValueError``) naming what is wrong.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"


class MalformedContext(ValueError):
    """The body is not a RemoteExecutionContext; the message says which part is wrong."""


@dataclass(frozen=True)
class EntityReference:
    logical_name: str
    id: str
    name: str | None = None


@dataclass(frozen=True)
class OptionSetValue:
    value: int


@dataclass(frozen=True)
class Money:
    value: float


@dataclass(frozen=True)
class OtherValue:
    """A value of a type this parser does not interpret (an ``EntityCollection`` party list, a
    multi-select choice …): kept as its type name, so one such column never spoils the whole context."""

    type_name: str


#: A typed attribute value.
AttributeValue = (str | int | float | bool | datetime | EntityReference | OptionSetValue | Money | OtherValue
                  | None)


@dataclass(frozen=True)
class EntityImage:
    """An ``Entity`` of the context: its attributes (typed) and their formatted values."""

    logical_name: str
    id: str | None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    formatted: Mapping[str, str] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """The attributes as the Web API returns a record with ``odata.include-annotations="*"``:
        lookups as ``_<name>_value`` with their logical name and display name, choices and money as
        numbers with their formatted value, dates as ISO 8601 UTC."""
        row: dict[str, Any] = {}
        for name, value in self.attributes.items():
            wire = f"_{name}_value" if isinstance(value, EntityReference) else name
            row[wire] = _plain(value)
            if isinstance(value, EntityReference):
                row[wire + LOOKUP_LOGICAL_NAME] = value.logical_name
                if value.name is not None:
                    row[wire + FORMATTED] = value.name
            if name in self.formatted:
                row[wire + FORMATTED] = self.formatted[name]
        return row


@dataclass(frozen=True)
class RemoteExecutionContext:
    message: str
    entity: str
    record_id: str
    created_on: datetime
    operation_id: str | None = None
    correlation_id: str | None = None
    request_id: str | None = None
    user_id: str | None = None
    stage: int | None = None
    mode: int | None = None
    depth: int | None = None
    target: EntityImage | None = None
    pre_images: Mapping[str, EntityImage] = field(default_factory=dict)
    post_images: Mapping[str, EntityImage] = field(default_factory=dict)

    def after(self) -> dict[str, AttributeValue]:
        """What the record holds after the operation, as far as the context tells: the post images'
        attributes, overlaid with the Target's (Update sends only the changed ones)."""
        merged: dict[str, AttributeValue] = {}
        for image in self.post_images.values():
            merged.update(image.attributes)
        if self.target is not None:
            merged.update(self.target.attributes)
        return merged

    def before(self) -> dict[str, AttributeValue]:
        """The pre images' attributes (registered on the step; Delete carries no Target entity)."""
        merged: dict[str, AttributeValue] = {}
        for image in self.pre_images.values():
            merged.update(image.attributes)
        return merged

    def formatted_after(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for image in (*self.post_images.values(), *([self.target] if self.target else [])):
            merged.update(image.formatted)
        return merged


def parse_remote_context(document: object) -> RemoteExecutionContext:
    """The context in ``document`` (decoded JSON); `MalformedContext` when it is not one."""
    if not isinstance(document, Mapping):
        raise MalformedContext("the body is not a JSON object")
    return RemoteExecutionContext(
        message=_required_text(document, "MessageName"),
        entity=_required_text(document, "PrimaryEntityName"),
        record_id=_guid(document.get("PrimaryEntityId"), "PrimaryEntityId"),
        created_on=parse_date(_required_text(document, "OperationCreatedOn"), "OperationCreatedOn"),
        operation_id=_optional_guid(document, "OperationId"),
        correlation_id=_optional_guid(document, "CorrelationId"),
        request_id=_optional_guid(document, "RequestId"),
        user_id=_optional_guid(document, "UserId"),
        stage=_optional_int(document, "Stage"),
        mode=_optional_int(document, "Mode"),
        depth=_optional_int(document, "Depth"),
        target=_target(document),
        pre_images=_images(document, "PreEntityImages"),
        post_images=_images(document, "PostEntityImages"),
    )


def parse_date(text: str, where: str) -> datetime:
    """``/Date(1506409448000-0700)/`` → the UTC instant (the offset only says where it was sent from)."""
    match = _DATE.match(text)
    if match is None:
        raise MalformedContext(f"{where} is not a /Date(…)/ value: {text[:60]!r}")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def _required_text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedContext(f"{key} is missing or not text")
    return value


def _guid(value: object, where: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise MalformedContext(f"{where} is not a GUID: {str(value)[:60]!r}") from exc


def _optional_guid(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return None if value in (None, "") else _guid(value, key)


def _optional_int(document: Mapping[str, Any], key: str) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedContext(f"{key} is not an integer")
    return value


def _pairs(value: object, where: str) -> list[tuple[str, Any]]:
    """A data-contract dictionary: ``[{"key": k, "value": v}, …]``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedContext(f"{where} is not a list of key/value pairs")
    pairs = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise MalformedContext(f"{where} holds an item that is not a key/value pair")
        pairs.append((item["key"], item.get("value")))
    return pairs


def _target(document: Mapping[str, Any]) -> EntityImage | None:
    for key, value in _pairs(document.get("InputParameters"), "InputParameters"):
        if key != "Target" or not isinstance(value, Mapping):
            continue
        if _type_name(value) == "EntityReference":
            return None  # Delete: the record is named by PrimaryEntityId
        return _entity(value, "InputParameters Target")
    return None


def _images(document: Mapping[str, Any], key: str) -> dict[str, EntityImage]:
    return {alias: _entity(value, f"{key} {alias!r}") for alias, value in _pairs(document.get(key), key)}


def _entity(value: object, where: str) -> EntityImage:
    if not isinstance(value, Mapping) or not isinstance(value.get("LogicalName"), str):
        raise MalformedContext(f"{where} is not an Entity (no LogicalName)")
    attributes = {name: _attribute(item, f"{where} attribute {name!r}")
                  for name, item in _pairs(value.get("Attributes"), f"{where} Attributes")}
    shown = _pairs(value.get("FormattedValues"), f"{where} FormattedValues")
    formatted = {name: str(text) for name, text in shown if text is not None}
    record_id = value.get("Id")
    return EntityImage(value["LogicalName"], None if record_id in (None, "") else _guid(record_id, where),
                       attributes, formatted)


def _type_name(value: Mapping[str, Any]) -> str:
    """``"EntityReference:http://schemas…"`` → ``"EntityReference"``; ``""`` when untyped."""
    return str(value.get("__type") or "").split(":", 1)[0]


def _attribute(value: object, where: str) -> AttributeValue:
    if isinstance(value, str):
        return parse_date(value, where) if value.startswith("/Date(") else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, Mapping):
        return OtherValue(type(value).__name__)
    kind = _type_name(value)
    if kind == "EntityReference" or ("LogicalName" in value and "Id" in value and not kind):
        name = value.get("Name")
        return EntityReference(str(value.get("LogicalName")), _guid(value.get("Id"), where),
                               name if isinstance(name, str) else None)
    number = value.get("Value")
    if kind == "OptionSetValue" and isinstance(number, int) and not isinstance(number, bool):
        return OptionSetValue(number)
    if kind == "Money" and isinstance(number, int | float) and not isinstance(number, bool):
        return Money(float(number))
    if kind in ("EntityReference", "OptionSetValue", "Money"):
        raise MalformedContext(f"{where} is a {kind} without a valid value")
    return OtherValue(kind or "object")


def _plain(value: AttributeValue) -> Any:
    if isinstance(value, EntityReference):
        return value.id
    if isinstance(value, OptionSetValue | Money):
        return value.value
    if isinstance(value, OtherValue):
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
