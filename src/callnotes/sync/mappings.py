"""Declarative push mappings: which callnotes records go to which Dataverse table, keyed how, which fields.

A mapping file is TOML (docs: README "Push to your own Dynamics 365"; examples/*.toml)::

    [[mapping]]
    name = "notes-as-phonecalls"      # unique in the file; the push state is kept under it
    source = "notes"                  # customers | notes | tasks | milestones
    table = "phonecalls"              # the entity set
    key = { column = "cn_callnotesid", source = "uid" }   # alternate = true: the table has an
                                                          # alternate key on the column
    [[mapping.field]]
    target = "subject"                # a column, or for a Lookup the navigation property
    source = "title"                  # a callnotes field (mapping_sources.py), or value = a constant
    type = "String"                   # String Memo Decimal Integer DateTime OptionSet Lookup
    max_length = 200                  # String / Memo: longer text is cut (with "…")
    direction = "push"                # push (default) | create (sent only when the record is made)
                                      # | pull (Dataverse → callnotes, when the record is sent)
    lookup = { table = "accounts", key = "accountnumber" }   # Lookup: the target table and key column

Rules: a blank local value is never sent (it never overwrites a remote value). Every problem is a
`MappingError` naming the file and line; nothing is sent when the file has one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from callnotes.store.repo.push_sources import PULLABLE, PushSource
from callnotes.sync.errors import SyncError
from callnotes.sync.mapping_lines import LineIndex
from callnotes.sync.mapping_lines import Path as KeyPath
from callnotes.sync.mapping_sources import SOURCE_FIELDS, ValueType

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAPPING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


class FieldType(StrEnum):
    STRING = "String"
    MEMO = "Memo"
    DECIMAL = "Decimal"
    INTEGER = "Integer"
    DATETIME = "DateTime"
    OPTIONSET = "OptionSet"
    LOOKUP = "Lookup"


class Direction(StrEnum):
    PUSH = "push"
    CREATE = "create"
    PULL = "pull"


#: The callnotes value types each Dataverse type takes.
_ACCEPTS: Mapping[FieldType, frozenset[ValueType]] = {
    FieldType.STRING: frozenset(ValueType),
    FieldType.MEMO: frozenset(ValueType),
    FieldType.DECIMAL: frozenset({ValueType.INTEGER, ValueType.NUMBER}),
    FieldType.INTEGER: frozenset({ValueType.INTEGER}),
    FieldType.DATETIME: frozenset({ValueType.DATE, ValueType.DATETIME}),
    FieldType.OPTIONSET: frozenset({ValueType.TEXT, ValueType.INTEGER}),
    FieldType.LOOKUP: frozenset({ValueType.TEXT, ValueType.INTEGER}),
}
_MAPPING_KEYS = {"name", "source", "table", "key", "field"}
_FIELD_KEYS = {"target", "source", "value", "type", "direction", "max_length", "lookup"}


class MappingError(SyncError):
    """A mapping file that cannot be used; ``str()`` is ``FILE:LINE: what is wrong``."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


@dataclass(frozen=True)
class KeySpec:
    column: str
    source: str
    alternate: bool


@dataclass(frozen=True)
class FieldSpec:
    target: str
    type: FieldType
    direction: Direction
    source: str | None = None
    value: object = None
    max_length: int | None = None
    lookup_table: str | None = None
    lookup_key: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class MappingSpec:
    name: str
    source: PushSource
    table: str
    key: KeySpec
    fields: tuple[FieldSpec, ...]
    line: int | None = None

    @property
    def sent(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.direction is not Direction.PULL)

    @property
    def pulled(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.direction is Direction.PULL)


@dataclass(frozen=True)
class MappingFile:
    path: str
    mappings: tuple[MappingSpec, ...]


def load_mappings(path: Path | str) -> MappingFile:
    """Read and check a mapping file; `MappingError` when it cannot be read or is not valid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(str(path), None, f"cannot read the mapping file ({exc})") from exc
    return parse_mappings(text, str(path))


def parse_mappings(text: str, file: str = "<mapping>") -> MappingFile:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = _TOML_POSITION.sub("", str(exc)).strip()
        raise MappingError(file, _error_line(str(exc), text), f"not valid TOML: {reason}") from exc
    return _Checker(file, LineIndex(text)).document(document)


def _error_line(message: str, text: str) -> int | None:
    """The line tomllib names (``at line N``; ``at end of document`` is the last line)."""
    position = _TOML_POSITION.search(message)
    if position is None:
        return None
    return int(position.group(1)) if position.group(1) else max(1, len(text.splitlines()))


class _Checker:
    """Builds the specs from the decoded document; every error names the line it comes from."""

    def __init__(self, file: str, lines: LineIndex) -> None:
        self.file, self.lines = file, lines

    def fail(self, path: KeyPath, message: str) -> MappingError:
        return MappingError(self.file, self.lines.line_of(path), message)

    def document(self, document: dict[str, Any]) -> MappingFile:
        unknown = sorted(set(document) - {"mapping", "version"})
        if unknown:
            raise self.fail(
                (unknown[0],), f"unknown top-level key {unknown[0]!r} (expected [[mapping]] tables)"
            )
        if document.get("version", 1) != 1:
            raise self.fail(("version",), "only version = 1 is known")
        raw = document.get("mapping")
        if not isinstance(raw, list) or not raw:
            raise self.fail(("mapping",), "the file declares no [[mapping]]")
        mappings = tuple(self.mapping(item, ("mapping", i)) for i, item in enumerate(raw))
        seen: set[str] = set()
        for i, mapping in enumerate(mappings):
            if mapping.name in seen:
                raise self.fail(("mapping", i, "name"), f"two mappings are named {mapping.name!r}")
            seen.add(mapping.name)
        return MappingFile(self.file, mappings)

    def text(self, table: Mapping[str, Any], path: KeyPath, key: str, pattern: re.Pattern[str]) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            shown = "missing" if value is None else repr(value)
            raise self.fail((*path, key), f"{key} must be a name like {pattern.pattern!r} ({shown})")
        return value

    def mapping(self, raw: object, path: KeyPath) -> MappingSpec:
        if not isinstance(raw, dict):
            raise self.fail(path, "a mapping must be a table")
        unknown = sorted(set(raw) - _MAPPING_KEYS)
        if unknown:
            raise self.fail(
                (*path, unknown[0]), f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_MAPPING_KEYS))})"
            )
        name = self.text(raw, path, "name", _MAPPING_NAME)
        try:
            source = PushSource(str(raw.get("source")))
        except ValueError:
            kinds = ", ".join(k.value for k in PushSource)
            raise self.fail((*path, "source"), f"source must be one of {kinds}") from None
        table = self.text(raw, path, "table", _NAME)
        key = self.key(raw.get("key"), (*path, "key"), source)
        fields = raw.get("field")
        if not isinstance(fields, list) or not fields:
            raise self.fail(path, f"mapping {name!r} declares no [[mapping.field]]")
        specs = tuple(self.field(item, (*path, "field", i), source) for i, item in enumerate(fields))
        self.no_duplicates(specs, path, key)
        return MappingSpec(name, source, table, key, specs, self.lines.line_of(path))

    def key(self, raw: object, path: KeyPath, source: PushSource) -> KeySpec:
        if not isinstance(raw, dict):
            raise self.fail(path, 'key must be a table: { column = "…", source = "…" }')
        unknown = sorted(set(raw) - {"column", "source", "alternate"})
        if unknown:
            raise self.fail(
                (*path, unknown[0]), f"unknown key {unknown[0]!r} in key (known: alternate, column, source)"
            )
        column = self.text(raw, path, "column", _NAME)
        field = self.source_field(raw.get("source"), (*path, "source"), source)
        if SOURCE_FIELDS[source][field].type not in (ValueType.TEXT, ValueType.INTEGER):
            raise self.fail((*path, "source"), f"the key source {field!r} must be text or an integer")
        alternate = raw.get("alternate", False)
        if not isinstance(alternate, bool):
            raise self.fail((*path, "alternate"), "alternate must be true or false")
        return KeySpec(column, field, alternate)

    def source_field(self, value: object, path: KeyPath, source: PushSource) -> str:
        known = SOURCE_FIELDS[source]
        if not isinstance(value, str) or value not in known:
            raise self.fail(
                path, f"{value!r} is not a field of {source.value} (known: {', '.join(sorted(known))})"
            )
        return value

    def field(self, raw: object, path: KeyPath, source: PushSource) -> FieldSpec:
        if not isinstance(raw, dict):
            raise self.fail(path, "a field must be a table")
        unknown = sorted(set(raw) - _FIELD_KEYS)
        if unknown:
            raise self.fail(
                (*path, unknown[0]),
                f"unknown key {unknown[0]!r} in a field (known: {', '.join(sorted(_FIELD_KEYS))})",
            )
        target = self.text(raw, path, "target", _NAME)
        try:
            kind = FieldType(str(raw.get("type")))
        except ValueError:
            raise self.fail(
                (*path, "type"), f"type must be one of {', '.join(t.value for t in FieldType)}"
            ) from None
        try:
            direction = Direction(str(raw.get("direction", "push")))
        except ValueError:
            raise self.fail((*path, "direction"), "direction must be push, create or pull") from None
        spec = FieldSpec(
            target,
            kind,
            direction,
            line=self.lines.line_of(path),
            max_length=self.max_length(raw, path, kind),
            **self.origin(raw, path, source, kind, direction),
        )
        return self.lookup(raw, path, spec)

    def origin(
        self, raw: Mapping[str, Any], path: KeyPath, source: PushSource, kind: FieldType, direction: Direction
    ) -> dict[str, Any]:
        """``source`` (checked against the value type) or ``value`` (a constant), not both."""
        if ("source" in raw) == ("value" in raw):
            raise self.fail(path, "a field needs either source (a callnotes field) or value (a constant)")
        if "value" in raw:
            if direction is Direction.PULL or not isinstance(raw["value"], str | int | float | bool):
                raise self.fail(
                    (*path, "value"), "value must be a text, number or boolean constant (not pulled)"
                )
            return {"value": raw["value"]}
        field = self.source_field(raw["source"], (*path, "source"), source)
        if direction is Direction.PULL:
            if field not in PULLABLE.get(source, {}) or kind not in (FieldType.STRING, FieldType.MEMO):
                pullable = ", ".join(sorted(PULLABLE.get(source, {}))) or "none"
                raise self.fail((*path, "source"), f"pull writes text into {source.value} fields: {pullable}")
        elif SOURCE_FIELDS[source][field].type not in _ACCEPTS[kind]:
            raise self.fail(
                (*path, "type"),
                f"{field!r} ({SOURCE_FIELDS[source][field].type.value}) cannot be sent as {kind.value}",
            )
        return {"source": field}

    def max_length(self, raw: Mapping[str, Any], path: KeyPath, kind: FieldType) -> int | None:
        value = raw.get("max_length")
        if value is None:
            return None
        if (
            kind not in (FieldType.STRING, FieldType.MEMO)
            or isinstance(value, bool)
            or not isinstance(value, int)
            or value < 2
        ):
            raise self.fail(
                (*path, "max_length"), "max_length is a whole number (at least 2) for String and Memo"
            )
        return value

    def lookup(self, raw: Mapping[str, Any], path: KeyPath, spec: FieldSpec) -> FieldSpec:
        lookup = raw.get("lookup")
        if spec.type is not FieldType.LOOKUP:
            if lookup is not None:
                raise self.fail((*path, "lookup"), 'lookup is only for type = "Lookup"')
            return spec
        if spec.direction is Direction.PULL:
            raise self.fail((*path, "direction"), "a Lookup cannot be pulled")
        if not isinstance(lookup, dict) or set(lookup) != {"table", "key"}:
            raise self.fail((*path, "lookup"), 'a Lookup needs lookup = { table = "…", key = "…" }')
        table = self.text(lookup, (*path, "lookup"), "table", _NAME)
        key = self.text(lookup, (*path, "lookup"), "key", _NAME)
        return FieldSpec(**{**vars(spec), "lookup_table": table, "lookup_key": key})

    def no_duplicates(self, specs: tuple[FieldSpec, ...], path: KeyPath, key: KeySpec) -> None:
        seen: set[str] = set()
        for i, spec in enumerate(specs):
            if spec.target == key.column and spec.direction is not Direction.PULL:
                raise self.fail(
                    (*path, "field", i, "target"), f"{spec.target!r} is the key column: it is sent already"
                )
            if spec.target in seen:
                raise self.fail((*path, "field", i, "target"), f"{spec.target!r} is mapped twice")
            seen.add(spec.target)
