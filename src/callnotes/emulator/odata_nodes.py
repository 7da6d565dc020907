"""Compiled ``$filter`` pieces: typed literals, their coercion to a column's type, and the row
predicates (with index hints) that the parser in :mod:`odata_filter` assembles.

Literal forms and type rules: powerapps-docs/developer/data-platform/webapi/query/filter-rows.md;
string comparisons are case-insensitive as in Dataverse.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from callnotes.emulator import errors
from callnotes.emulator.table_definitions import (
    GUID_KINDS,
    NUMBER_KINDS,
    STRING_KINDS,
    Column,
    EntityType,
    Kind,
)
from callnotes.emulator.tables import Row, Table

Predicate = Callable[[Row], bool]
Candidates = Callable[[Table], "set[str] | None"]
GUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@dataclass(frozen=True)
class Literal:
    kind: str  # "string" | "guid" | "number" | "datetime" | "bool" | "null" | "enum"
    value: object
    text: str
    enum_type: str | None = None  # the EnumType of an "enum" literal


@dataclass(frozen=True)
class CompiledFilter:
    predicate: Predicate
    candidates: Candidates
    equals: tuple[Column, object] | None = None  # set for "<column> eq <value>", so or-chains can merge


# -- literal coercion ------------------------------------------------------------------------


def parse_guid(text: str, shown: str) -> str:
    try:
        return str(uuid.UUID(text)) if re.fullmatch(GUID_RE, text) else _raise_guid(shown)
    except ValueError:
        return _raise_guid(shown)


def _raise_guid(shown: str) -> str:
    raise errors.query_error(f"Unrecognized 'Edm.Guid' literal '{shown}'.")


def _incompatible(column: Column, literal: Literal, op: str) -> errors.DataverseFault:
    found = {
        "string": "Edm.String",
        "guid": "Edm.Guid",
        "number": "Edm.Int32",
        "datetime": "Edm.DateTimeOffset",
        "bool": "Edm.Boolean",
        "enum": literal.enum_type,
    }.get(literal.kind) or "Edm.String"
    kind = {
        "eq": "Equal",
        "ne": "NotEqual",
        "gt": "GreaterThan",
        "ge": "GreaterThanOrEqual",
        "lt": "LessThan",
        "le": "LessThanOrEqual",
    }.get(op, op)
    shown = column.enum_type or column.kind.edm
    return errors.query_error(
        "A binary operator with incompatible types was detected. "
        f"Found operand types '{shown}' and '{found}' for operator kind '{kind}'."
    )


def coerce(column: Column, literal: Literal, op: str, entity: EntityType) -> object:
    if literal.kind == "null":
        if op not in ("eq", "ne"):
            raise _incompatible(column, literal, op)
        return None
    kind = column.kind
    if kind in GUID_KINDS:
        if literal.kind == "guid":
            return literal.value
        if literal.kind == "string":
            return parse_guid(str(literal.value), literal.text)
    elif kind in STRING_KINDS:
        if literal.kind == "string":
            return literal.value
    elif kind in NUMBER_KINDS:
        if literal.kind == "number":
            return literal.value
    elif kind is Kind.BOOL:
        if literal.kind == "bool":
            return literal.value
    elif kind in (Kind.DATE, Kind.DATETIME) and literal.kind == "datetime":
        return _normalise_date(str(literal.value), kind)
    elif kind is Kind.ENUM and literal.kind == "enum" and literal.enum_type == column.enum_type:
        return literal.value
    raise _incompatible(column, literal, op)


def coerce_text(column: Column, text: str, entity: EntityType) -> object:
    """Coerce one ``In`` value (always sent as a string) to the column's type."""
    kind = column.kind
    try:
        if kind in GUID_KINDS:
            return parse_guid(text, text)
        if kind in (Kind.INT, Kind.BIGINT, Kind.CHOICE):
            return int(text)
        if kind in (Kind.DECIMAL, Kind.MONEY):
            return float(text)
        if kind is Kind.BOOL:
            return text.lower() == "true"
        if kind in (Kind.DATE, Kind.DATETIME):
            return _normalise_date(text, kind)
    except ValueError as exc:
        raise errors.query_error(f"The value '{text}' is not valid for property '{column.name}'.") from exc
    return text


def _normalise_date(text: str, kind: Kind) -> str:
    if kind is Kind.DATE:
        return text[:10]
    if len(text) == 10:
        return f"{text}T00:00:00Z"
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_logical(name: str, entity: EntityType) -> Column:
    column = entity.columns.get(name) or entity.by_wire(name)
    if column is None:
        raise errors.property_not_found(name, entity.logical_name)
    return column


# -- compiled nodes --------------------------------------------------------------------------


def _fold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def compare(column: Column, op: str, value: object) -> CompiledFilter:
    name = column.name
    if value is None:
        pred: Predicate = (
            (lambda row: row.get(name) is None) if op == "eq" else (lambda row: row.get(name) is not None)
        )
        return CompiledFilter(pred, lambda table: None)
    if op == "eq" and column.kind in GUID_KINDS:
        # GUIDs are stored lower-case and coerced lower-case: no folding needed (the hot path).
        return CompiledFilter(lambda row: row.get(name) == value, _index_hint(name, [value]), (column, value))
    folded = _fold(value)
    tests: dict[str, Callable[[object], bool]] = {
        "eq": lambda v: v == folded,
        "ne": lambda v: v != folded,
        "gt": lambda v: v > folded,  # type: ignore[operator]
        "ge": lambda v: v >= folded,  # type: ignore[operator]
        "lt": lambda v: v < folded,  # type: ignore[operator]
        "le": lambda v: v <= folded,  # type: ignore[operator]
    }
    test = tests[op]

    def predicate(row: Row) -> bool:
        current = row.get(name)
        return current is not None and test(_fold(current))

    if op != "eq":
        return CompiledFilter(predicate, lambda table: None)
    return CompiledFilter(predicate, _index_hint(name, [value]), (column, value))


def _index_hint(name: str, values: list[object]) -> Candidates:
    def candidates(table: Table) -> set[str] | None:
        if not table.is_indexed(name):
            return None
        found: set[str] = set()
        for value in values:
            found |= table.lookup(name, value)
        return found

    return candidates


def membership(column: Column, values: list[object]) -> CompiledFilter:
    name = column.name
    folded = {_fold(v) for v in values}

    def predicate(row: Row) -> bool:
        current = row.get(name)
        return current is not None and _fold(current) in folded

    return CompiledFilter(predicate, _index_hint(name, values))


def string_function(name: str, column: Column, literal: Literal, entity: EntityType) -> CompiledFilter:
    if column.kind not in STRING_KINDS or literal.kind != "string":
        raise errors.query_error(
            f"No function signature for the function with name '{name}' matches the specified arguments."
        )
    needle = str(literal.value).casefold()
    col = column.name
    check: Callable[[str], bool] = {
        "startswith": lambda v: v.startswith(needle),
        "endswith": lambda v: v.endswith(needle),
        "contains": lambda v: needle in v,
    }[name]

    def predicate(row: Row) -> bool:
        current = row.get(col)
        return isinstance(current, str) and check(current.casefold())

    return CompiledFilter(predicate, lambda table: None)


def all_of(parts: list[CompiledFilter]) -> CompiledFilter:
    predicates = [p.predicate for p in parts]

    def candidates(table: Table) -> set[str] | None:
        best: set[str] | None = None
        for part in parts:
            found = part.candidates(table)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best

    return CompiledFilter(lambda row: all(p(row) for p in predicates), candidates)


def any_of(parts: list[CompiledFilter]) -> CompiledFilter:
    equals = [p.equals for p in parts]
    if all(e is not None for e in equals) and len({e[0].name for e in equals if e is not None}) == 1:
        # "a eq x or a eq y or …" (the reference documents' id lists) is one set membership test.
        column = equals[0][0]  # type: ignore[index]
        return membership(column, [e[1] for e in equals if e is not None])
    predicates = [p.predicate for p in parts]

    def candidates(table: Table) -> set[str] | None:
        union: set[str] = set()
        for part in parts:
            found = part.candidates(table)
            if found is None:
                return None
            union |= found
        return union

    return CompiledFilter(lambda row: any(p(row) for p in predicates), candidates)
