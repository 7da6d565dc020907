"""What one local record sends under a mapping: the request bodies, the key, the fingerprint.

Values are converted by the field's type: String / Memo as text (cut to ``max_length`` with "…"),
Decimal and Integer as JSON numbers, DateTime as ISO 8601 UTC (a date alone as 12:00 UTC that day, so
it shows on that day from UTC-11 to UTC+11), OptionSet by label (the org's own labels, read once per
push) or by value, Lookup as ``<navigation>@odata.bind`` to ``/<table>(<key>='<value>')`` (or
``/<table>(<guid>)`` when the key is the table's primary key). A blank value (None, empty text) is left
out — it never overwrites what the record holds in Dataverse. The fingerprint is a hash of what an
update would send, so an unchanged record is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from callnotes.dataverse import UnsafeKeyValue, key_reference
from callnotes.dataverse.client import primary_key_for
from callnotes.store.repo.push_sources import PushSource
from callnotes.sync.mapping_sources import SOURCE_FIELDS
from callnotes.sync.mappings import Direction, FieldSpec, FieldType, MappingSpec

#: Namespace of the ids callnotes gives the records it creates (one id per mapping, table and record).
_ID_NAMESPACE = uuid.UUID("0c6a51f4-2f0b-4e59-8e7e-4cb1f1d5a1b3")
_NOON = time(12, 0, tzinfo=UTC)
_TITLES = {PushSource.NOTES: "title", PushSource.CUSTOMERS: "name", PushSource.TASKS: "subject",
           PushSource.MILESTONES: "name"}


class ValueProblem(ValueError):
    """A local value that cannot be sent as its field's type (the record is not sent; the reason is kept)."""


@dataclass(frozen=True)
class RecordPayload:
    uid: str
    label: str
    key_value: str | int | None
    create_body: dict[str, Any] = field(default_factory=dict)
    update_body: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    problem: str | None = None


def new_record_id(mapping: MappingSpec, uid: str) -> str:
    """The id callnotes gives the record it creates for ``uid``: the same on every try and machine."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{mapping.name}\n{mapping.table}\n{uid}"))


def record_label(mapping: MappingSpec, record: Any) -> str:
    """``note 12 'Call with Contoso'``: how a record is named in reports."""
    shown = SOURCE_FIELDS[mapping.source][_TITLES[mapping.source]].read(record)
    singular = mapping.source.value.removesuffix("s")
    return f"{singular} {record.id}" + (f" {str(shown)[:60]!r}" if shown else "")


def build_payload(mapping: MappingSpec, record: Any,
                  options: Mapping[str, Mapping[str, int]]) -> RecordPayload:
    """The bodies ``record`` sends under ``mapping`` (``options``: label → value per OptionSet column)."""
    fields = SOURCE_FIELDS[mapping.source]
    uid, label = str(record.uid), record_label(mapping, record)
    key_value = _key_value(fields[mapping.key.source].read(record))
    if key_value is None:
        return RecordPayload(uid, label, None)
    create: dict[str, Any] = {mapping.key.column: key_value}
    update: dict[str, Any] = {mapping.key.column: key_value}
    try:
        for spec in mapping.sent:
            raw = spec.value if spec.source is None else fields[spec.source].read(record)
            name, value = _converted(spec, raw, options)
            if value is None:
                continue  # blank: never overwrites the remote value
            create[name] = value
            if spec.direction is Direction.PUSH:
                update[name] = value
    except ValueProblem as exc:
        return RecordPayload(uid, label, key_value, problem=str(exc))
    return RecordPayload(uid, label, key_value, create, update, fingerprint(mapping, update))


def fingerprint(mapping: MappingSpec, body: Mapping[str, Any]) -> str:
    canonical = json.dumps({"table": mapping.table, "key": mapping.key.column, "body": body},
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _key_value(value: object) -> str | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return text or None


def _converted(spec: FieldSpec, raw: object, options: Mapping[str, Mapping[str, int]]) -> tuple[str, Any]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return spec.target, None
    if spec.type in (FieldType.STRING, FieldType.MEMO):
        return spec.target, _text(raw, spec.max_length)
    if spec.type is FieldType.DECIMAL:
        return spec.target, _number(raw, spec)
    if spec.type is FieldType.INTEGER:
        return spec.target, _integer(raw, spec)
    if spec.type is FieldType.DATETIME:
        return spec.target, _moment(raw, spec)
    if spec.type is FieldType.OPTIONSET:
        return spec.target, _option(raw, spec, options.get(spec.target, {}))
    return f"{spec.target}@odata.bind", _bind(raw, spec)


def _text(raw: object, limit: int | None) -> str | None:
    text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def _number(raw: object, spec: FieldSpec) -> float:
    try:
        number = Decimal(str(raw)) if not isinstance(raw, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValueProblem(f"{spec.target}: {raw!r} is not a number")
    return float(number)


def _integer(raw: object, spec: FieldSpec) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if not text.lstrip("-").isdigit():
        raise ValueProblem(f"{spec.target}: {raw!r} is not a whole number")
    return int(text)


def _moment(raw: object, spec: FieldSpec) -> str:
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueProblem(f"{spec.target}: a time without a time zone cannot be sent")
        moment = raw
    elif isinstance(raw, date):
        moment = datetime.combine(raw, _NOON)
    else:
        raise ValueProblem(f"{spec.target}: {raw!r} is not a date")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _option(raw: object, spec: FieldSpec, labels: Mapping[str, int]) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    wanted = str(raw).strip().casefold()
    for label, value in labels.items():
        if label.casefold() == wanted:
            return value
    known = ", ".join(sorted(labels)) or "none"
    raise ValueProblem(f"{spec.target}: no option labelled {str(raw)!r} (options: {known})")


def _bind(raw: object, spec: FieldSpec) -> str:
    table, key = spec.lookup_table or "", spec.lookup_key or ""
    value = _key_value(raw)
    if key == primary_key_for(table):
        try:
            return f"/{table}({uuid.UUID(str(value))})"
        except ValueError:
            raise ValueProblem(f"{spec.target}: {value!r} is not the id of a {table} record") from None
    try:
        return key_reference(table, {key: value})
    except UnsafeKeyValue as exc:
        raise ValueProblem(f"{spec.target}: {exc}") from None
