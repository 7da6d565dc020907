"""Field readers for Dataverse rows: each checks the type and raises `MalformedCrmAnswer`; `column`
and `FromRow` declare a record by the columns its fields are read from."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import field as dataclass_field
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, ClassVar, Self

from callnotes.msx.errors import InvalidInput, MalformedCrmAnswer

Row = Mapping[str, Any]
Literal = str | int | float | uuid.UUID | None
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def require_row(entity: str, row: object) -> Row:
    if not isinstance(row, Mapping):
        raise MalformedCrmAnswer(entity, "<row>", f"is a {type(row).__name__}, not a JSON object")
    return row


def guid(entity: str, row: Row, field: str, *, required: bool = True) -> str | None:
    value = row.get(field)
    if value is None:
        if required:
            raise MalformedCrmAnswer(entity, field, "is missing")
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise MalformedCrmAnswer(entity, field, f"is not a GUID (got {value!r})") from exc


def _scalar(entity: str, row: Row, field: str, kinds: tuple[type, ...], what: str, *,
            required: bool = False) -> Any:
    """The value of ``field`` when it is one of ``kinds`` (a bool never counts), None when absent."""
    value = row.get(field)
    if value is None:
        if required:
            raise MalformedCrmAnswer(entity, field, "is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise MalformedCrmAnswer(entity, field, f"is not {what} (got {value!r})")
    return value


def text(entity: str, row: Row, field: str, *, required: bool = False) -> str | None:
    value = _scalar(entity, row, field, (str, int), "text", required=required)
    return None if value is None else str(value)


def integer(entity: str, row: Row, field: str) -> int | None:
    value: int | None = _scalar(entity, row, field, (int,), "an integer")
    return value


def number(entity: str, row: Row, field: str) -> float | None:
    value = _scalar(entity, row, field, (int, float), "a number")
    return None if value is None else float(value)


def day(entity: str, row: Row, field: str) -> date | None:
    """A Date Only or Date and Time column read as a calendar date."""
    value = row.get(field)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise MalformedCrmAnswer(entity, field, f"is not an ISO date (got {value!r})") from exc


def moment(entity: str, row: Row, field: str) -> datetime | None:
    """A Date and Time column as a tz-aware UTC datetime (Dataverse sends ...Z)."""
    value = row.get(field)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedCrmAnswer(entity, field, f"is not an ISO timestamp (got {value!r})") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def formatted(row: Row, field: str) -> str | None:
    value = row.get(field + FORMATTED)
    return value if isinstance(value, str) else None


def etag(row: Row) -> str | None:
    value = row.get("@odata.etag")
    return value if isinstance(value, str) else None


def as_uuid(value: str) -> uuid.UUID:
    """A GUID for an OData filter (formatted bare by the filter builder); `InvalidInput` if not one."""
    try:
        return uuid.UUID(str(value).strip().strip("{}"))
    except ValueError as exc:
        raise InvalidInput(f"not a GUID: {value!r}") from exc


# -- records declared column by column -----------------------------------------------------------
#: How one column is read: ``(entity, row, column) -> value``, raising `MalformedCrmAnswer`.
Reader = Callable[[str, Row, str], Any]
_COLUMN = "msx_column"

optional_guid: Reader = partial(guid, required=False)
required_text: Reader = partial(text, required=True)


def text_or_empty(entity: str, row: Row, field: str) -> str:
    return text(entity, row, field) or ""


def formatted_value(_entity: str, row: Row, field: str) -> str | None:
    """The display text Dataverse sends beside a lookup or choice column (annotations)."""
    return formatted(row, field)


def row_etag(_entity: str, row: Row, _field: str) -> str | None:
    return etag(row)


def labelled(labels: Mapping[int, str]) -> Reader:
    """A choice column's display text: the formatted value, else our label for its code."""

    def read(entity: str, row: Row, field: str) -> str | None:
        code = integer(entity, row, field)
        return formatted(row, field) or (labels.get(code) if code is not None else None)

    return read


def column(name: str, read: Reader = text, **default: Any) -> Any:
    """A record field read from column ``name`` of a Dataverse row by ``read`` (``default=`` optional)."""
    return dataclass_field(metadata={_COLUMN: (name, read)}, **default)


class FromRow:
    """Mixin for frozen dataclasses whose fields are `column`s: ``from_row`` reads them all, in order."""

    ENTITY: ClassVar[str]

    @classmethod
    def from_row(cls, row: object) -> Self:
        checked = require_row(cls.ENTITY, row)
        values = {}
        for spec in dataclass_fields(cls):  # type: ignore[arg-type]
            name, read = spec.metadata[_COLUMN]
            values[spec.name] = read(cls.ENTITY, checked, name)
        return cls(**values)
