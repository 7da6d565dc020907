"""Turning stored rows into Web API JSON records, with the annotations Dataverse adds.

- ``@odata.etag`` on every record (weak ETag from ``versionnumber``):
  powerapps-docs/developer/data-platform/webapi/perform-conditional-operations-using-web-api.md.
- ``@OData.Community.Display.V1.FormattedValue`` for choices, lookups, money, dates, numbers and
  booleans, ``@Microsoft.Dynamics.CRM.lookuplogicalname`` and ``associatednavigationproperty`` for
  lookups, only when requested through ``Prefer: odata.include-annotations``:
  powerapps-docs/developer/data-platform/webapi/query/select-columns.md ("Formatted values",
  "Lookup property data").
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable

from callnotes.emulator.table_definitions import Column, EntityType, Kind
from callnotes.emulator.tables import Database, Row, type_key

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAV = "Microsoft.Dynamics.CRM.associatednavigationproperty"
Wants = Callable[[str], bool]


def etag(row: Row) -> str:
    return f'W/"{row["versionnumber"]}"'


def annotation_filter(patterns: Iterable[str]) -> Wants:
    """A test for annotation names from ``odata.include-annotations`` patterns (``*``, ``ns.*``, exact,
    ``-`` prefix to exclude)."""
    include = [p for p in patterns if p and not p.startswith("-")]
    exclude = [p[1:] for p in patterns if p.startswith("-")]

    answers: dict[str, bool] = {}  # a handful of annotation names, asked once per value

    def wants(name: str) -> bool:
        known = answers.get(name)
        if known is None:
            excluded = any(fnmatch.fnmatchcase(name, p) for p in exclude)
            known = answers[name] = not excluded and any(fnmatch.fnmatchcase(name, p) for p in include)
        return known

    return wants


def no_annotations(name: str) -> bool:
    return False


def lookup_target(row: Row, column: Column) -> str:
    """Logical name of the table a lookup value points to."""
    stored = row.get(type_key(column.name))
    return str(stored) if stored else column.targets[0]


class RecordWriter:
    """Serialises rows of one database, resolving lookup display names."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self, entity: EntityType, row: Row, columns: Iterable[Column], wants: Wants
    ) -> dict[str, object]:
        out: dict[str, object] = {"@odata.etag": etag(row)}
        for column in columns:
            value = row.get(column.name) if column.readable else None
            out[column.wire] = value
            if value is None:
                continue
            if column.kind is Kind.LOOKUP:
                self._lookup_annotations(out, row, column, str(value), wants)
            elif wants(FORMATTED):
                text = format_value(column, value)
                if text is not None:
                    out[f"{column.wire}@{FORMATTED}"] = text
        if entity.primary_key not in out:
            out[entity.primary_key] = row[entity.primary_key]
        return out

    def _lookup_annotations(
        self, out: dict[str, object], row: Row, column: Column, value: str, wants: Wants
    ) -> None:
        target = lookup_target(row, column)
        if wants(FORMATTED):
            name = self.display_name(target, value)
            if name is not None:
                out[f"{column.wire}@{FORMATTED}"] = name
        if wants(ASSOCIATED_NAV):
            out[f"{column.wire}@{ASSOCIATED_NAV}"] = column.name
        if wants(LOOKUP_NAME):
            out[f"{column.wire}@{LOOKUP_NAME}"] = target

    def display_name(self, logical_name: str, record_id: str) -> str | None:
        table = self.database.tables.get(logical_name)
        target = table.get(record_id) if table is not None else None
        if target is None:
            return None
        name = target.get(table.entity.primary_name)  # type: ignore[union-attr]
        return None if name is None else str(name)


def format_value(column: Column, value: object) -> str | None:
    """The user-facing text Dataverse puts in the FormattedValue annotation (en-US formats)."""
    kind = column.kind
    if kind is Kind.CHOICE:
        return (column.options or {}).get(int(_number(value)))
    if kind is Kind.MONEY:
        amount = float(_number(value))
        return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"
    if kind in (Kind.INT, Kind.BIGINT):
        return f"{int(_number(value)):,}"
    if kind is Kind.DECIMAL:
        return f"{float(_number(value)):,.2f}"
    if kind is Kind.BOOL:
        return "Yes" if value else "No"
    if kind is Kind.DATE:
        text = str(value)
        return f"{int(text[5:7])}/{int(text[8:10])}/{text[:4]}"
    if kind is Kind.DATETIME:
        text = str(value)
        hour, minute = int(text[11:13]), text[14:16]
        suffix = "AM" if hour < 12 else "PM"
        return f"{int(text[5:7])}/{int(text[8:10])}/{text[:4]} {hour % 12 or 12}:{minute} {suffix}"
    return None


def _number(value: object) -> int | float | str:
    """A stored number column's value (numbers, or their text as a client may have sent it)."""
    if isinstance(value, int | float | str):
        return value
    raise TypeError(f"not a number: {value!r}")
