"""Record keys: the key segments of resource paths — ``(guid)``, ``(name=value)``,
``(name1=value1,name2=value2)`` — and what an alternate key guarantees (its values are unique).

Records are addressed by primary key or by a declared alternate key
(powerapps-docs/developer/data-platform/use-alternate-key-reference-record.md: ``accounts(accountid=…)``,
``accounts(accountnumber='ABC123')``, multi-part ``contacts(firstname='Joe',emailaddress1='…')``);
definitions by ``MetadataId`` or by name (webapi/retrieve-metadata-name-metadataid.md:
``EntityDefinitions(LogicalName='account')``). String values are single-quoted with ``''`` for a quote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from callnotes.emulator import errors
from callnotes.emulator.table_definitions import GUID_KINDS, STRING_KINDS, Column, EntityType, Kind
from callnotes.emulator.tables import Row, Table, index_key

KeyValue = str | int | bool
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PAIR_RE = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*('(?:[^']|'')*'|[^,']+?)\s*(?:,|$)")


@dataclass(frozen=True)
class RecordKey:
    """A parsed record key: the primary key (lower-case GUID) or alternate-key column values."""

    primary: str | None = None
    alternate: tuple[tuple[str, KeyValue], ...] = ()

    def values(self) -> dict[str, KeyValue]:
        return dict(self.alternate)


def _syntax(text: str) -> errors.DataverseFault:
    return errors.query_error(f"Bad Request - Error in query syntax. '{text}' is not a valid key.")


def invalid_key(resource: str) -> errors.DataverseFault:
    # use-alternate-key-reference-record.md "Exceptions when using alternate keys with the Web API".
    return errors.query_error(
        f"The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.{resource}'. "
        "Ensure that the names and number of key properties match the declared or alternate key "
        f"properties for the resource 'Microsoft.Dynamics.CRM.{resource}'."
    )


def parse_key_text(text: str) -> str | dict[str, KeyValue]:
    """A bare GUID (lower-case) or the ``name=value`` pairs; malformed text is a 400."""
    value = text.strip()
    if re.fullmatch(_GUID, value):
        return value.lower()
    pairs: dict[str, KeyValue] = {}
    position = 0
    while position < len(value):
        match = _PAIR_RE.match(value, position)
        if match is None or match.group(1) in pairs:
            raise _syntax(text)
        pairs[match.group(1)] = _literal(match.group(2), text)
        position = match.end()
    if not pairs or value.endswith(","):
        raise _syntax(text)
    return pairs


def _literal(raw: str, text: str) -> KeyValue:
    raw = raw.strip()
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    if re.fullmatch(_GUID, raw):
        return raw.lower()
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    raise _syntax(text)


def record_key(text: str, entity: EntityType) -> RecordKey:
    """The record key in ``entity_set(<text>)``, checked against the primary and alternate keys."""
    parsed = parse_key_text(text)
    if isinstance(parsed, str):
        return RecordKey(primary=parsed)
    if set(parsed) == {entity.primary_key}:
        value = parsed[entity.primary_key]
        if not isinstance(value, str) or not re.fullmatch(_GUID, value):
            raise errors.query_error(
                f"Bad Request - Error in query syntax. '{value}' is not a valid Edm.Guid key."
            )
        return RecordKey(primary=value)
    for key in entity.keys:
        if set(parsed) == set(key.columns):
            columns = [entity.columns[name] for name in key.columns]
            return RecordKey(alternate=tuple((c.name, _key_value(c, parsed[c.name], text)) for c in columns))
    raise invalid_key(entity.logical_name)


def _key_value(column: Column, value: KeyValue, text: str) -> KeyValue:
    expects_text = column.kind in STRING_KINDS or column.kind in GUID_KINDS
    if expects_text != isinstance(value, str) or (column.kind is Kind.BOOL) != isinstance(value, bool):
        raise errors.query_error(
            f"Bad Request - Error in query syntax. The key value for '{column.name}' in '{text}' "
            f"is not a valid {column.kind.edm} literal."
        )
    return value


def find_by_key(table: Table, key: RecordKey) -> Row | None:
    """The record ``key`` names, if it exists (alternate keys compare like Dataverse: case-insensitively)."""
    if key.primary is not None:
        return table.get(key.primary)
    (first, first_value), *rest = key.alternate
    for record_id in sorted(table.lookup(first, first_value)):
        row = table.rows[record_id]
        if all(index_key(row.get(name)) == index_key(value) for name, value in rest):
            return row
    return None


def key_not_found(logical_name: str) -> errors.DataverseFault:
    # The ObjectDoesNotExist code of a retrieve by primary key; the message names the key lookup.
    return errors.DataverseFault(
        404,
        errors.RECORD_NOT_FOUND,
        f"A record with the specified key values does not exist in {logical_name} entity",
    )


def matching_key_values(changes: Row, key_values: Mapping[str, object]) -> Mapping[str, object]:
    """``key_values`` (from the URL), refused if the body sets one of those columns otherwise."""
    for name, value in key_values.items():
        if name in changes and index_key(changes[name]) != index_key(value):
            raise errors.invalid_argument(
                f"The value of '{name}' in the payload does not match the key in the URL."
            )
    return key_values


def check_alternate_keys(table: Table, record_id: str, row: Row) -> None:
    """Alternate-key values are unique: a second record with the same values is refused (412).

    DuplicateRecordEntityKey, "Entity Key {0} violated. A record with the same value for {1}
    already exists." (powerapps-docs/developer/data-platform/reference/web-service-error-codes.md).
    A key with a null column does not take part (it cannot address a record).
    """
    entity = table.entity
    for key in entity.keys:
        values = [row.get(name) for name in key.columns]
        if any(value is None for value in values):
            continue
        candidates = table.lookup(key.columns[0], values[0]) - {record_id}
        for other in candidates:
            if all(
                index_key(table.rows[other].get(n)) == index_key(v)
                for n, v in zip(key.columns, values, strict=True)
            ):
                raise errors.DataverseFault(
                    412,
                    errors.DUPLICATE_KEY,
                    f"Entity Key {key.display_name} violated. A record with the same value for "
                    f"{', '.join(key.columns)} already exists.",
                )
