"""Create, update (upsert) and delete, with ``@odata.bind``, ETags and conditional headers.

- Create: 204 + ``OData-EntityId``; 201 + the record with ``Prefer: return=representation``;
  a client-supplied primary key is honoured:
  powerapps-docs/developer/data-platform/webapi/create-entity-web-api.md.
- Update/upsert/delete, ``If-Match: *`` (no create), ``If-None-Match: *`` (no update), ETag
  ``If-Match`` → 412: powerapps-docs/developer/data-platform/webapi/update-delete-entities-using-web-api.md
  and perform-conditional-operations-using-web-api.md.
- Lookups are set through single-valued navigation properties (``nav@odata.bind``):
  powerapps-docs/developer/data-platform/webapi/associate-disassociate-entities-using-web-api.md.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime

from callnotes.emulator import activities, errors
from callnotes.emulator.change_feed import ChangeFeed
from callnotes.emulator.formatting import RecordWriter, etag
from callnotes.emulator.messages import ApiRequest, ApiResponse
from callnotes.emulator.query import (
    Preferences,
    QueryOptions,
    context_url,
    parse_preferences,
    parse_query,
    render_row,
)
from callnotes.emulator.record_keys import (
    check_alternate_keys,
    find_by_key,
    key_not_found,
    matching_key_values,
    record_key,
)
from callnotes.emulator.table_definitions import Column, EntityType, Kind, Navigation
from callnotes.emulator.tables import Database, Row, Table, type_key, utc_now_text

_BIND_RE = re.compile(r"^(?:.*/)?(?P<set>[A-Za-z_]\w*)\((?P<key>.+)\)$", re.DOTALL)
_DEFAULTS: dict[str, dict[str, object]] = {
    "opportunity": {"statecode": 0, "statuscode": 1},
    "task": {"statecode": 0, "statuscode": 2, "prioritycode": 1},
    "phonecall": {"statecode": 0, "statuscode": 1, "prioritycode": 1, "directioncode": True},  # phonecall.md
}


class Writer:
    """All record writes; every change goes through the database's undo log."""

    def __init__(self, database: Database, records: RecordWriter, feed: ChangeFeed | None = None) -> None:
        self.database = database
        self.records = records
        self.feed = feed or ChangeFeed()

    # -- public operations -----------------------------------------------------------------
    def create(
        self,
        request: ApiRequest,
        table: Table,
        record_id: str | None = None,
        key_values: Mapping[str, object] | None = None,
    ) -> ApiResponse:
        """``key_values``: the alternate-key values an upsert addressed the new record by."""
        entity = table.entity
        shape = self._response_shape(request, entity)
        changes = self.read_body(request, entity)
        changes.update(matching_key_values(changes, key_values or {}))
        key = entity.primary_key
        body_id = changes.pop(key, None)
        if record_id is not None and body_id is not None and body_id != record_id:
            raise errors.invalid_argument(
                f"The value of '{key}' in the payload does not match the key in the URL."
            )
        new_id = str(record_id or body_id or uuid.uuid4())
        if table.get(new_id) is not None:
            raise errors.duplicate_record()
        row = self.insert(table, new_id, changes, request.caller_id)
        self.feed.record("Create", request, table.entity, changes, None, row)
        return self._written(request, table, row, shape, created=True)

    def upsert(
        self,
        request: ApiRequest,
        table: Table,
        record_id: str,
        key_values: Mapping[str, object] | None = None,
    ) -> ApiResponse:
        entity = table.entity
        if_match = (request.header("if-match") or "").strip()
        if_none_match = (request.header("if-none-match") or "").strip()
        row = table.get(record_id)
        if row is None:
            if if_match:
                raise errors.record_not_found(entity.logical_name, record_id)
            return self.create(request, table, record_id)
        if if_none_match == "*":
            raise errors.duplicate_record()
        _check_etag(if_match, row)
        shape = self._response_shape(request, entity)
        changes = self.read_body(request, entity)
        if changes.pop(entity.primary_key, record_id) != record_id:
            raise errors.invalid_argument(
                f"The value of '{entity.primary_key}' in the payload does not match the key in the URL."
            )
        matching_key_values(changes, key_values or {})
        before = dict(row)
        self.update(table, record_id, changes)
        self.feed.record("Update", request, table.entity, changes, before, row)
        return self._written(request, table, row, shape, created=False)

    def delete(self, request: ApiRequest, table: Table, record_id: str) -> ApiResponse:
        row = table.get(record_id)
        if row is None:
            raise errors.record_not_found(table.entity.logical_name, record_id)
        _check_etag((request.header("if-match") or "").strip(), row)
        self.remove(table, record_id)
        self.feed.record("Delete", request, table.entity, {}, dict(row), None)
        return ApiResponse(204, {"OData-Version": "4.0"}, b"", table.entity.entity_set)

    # -- building blocks (also used by actions) --------------------------------------------
    def insert(self, table: Table, record_id: str, changes: Row, caller_id: str) -> Row:
        entity = table.entity
        now = utc_now_text()
        row: Row = {c.name: None for c in entity.columns.values()}
        row.update(_DEFAULTS.get(entity.logical_name, {}))
        if "statecode" in entity.columns and row["statecode"] is None:
            row["statecode"] = 0
        if "ownerid" in entity.columns and caller_id:
            row["ownerid"], row[type_key("ownerid")] = caller_id.lower(), "systemuser"
        row.update(changes)
        parties = activities.take_parties(row)
        row.update(
            {
                entity.primary_key: record_id,
                "createdon": now,
                "modifiedon": now,
                "versionnumber": self.database.next_version(),
            }
        )
        check_alternate_keys(table, record_id, row)
        inserted = table.insert(row)
        activities.insert_parties(self, inserted, parties, caller_id)
        return inserted

    def update(self, table: Table, record_id: str, changes: Row) -> Row:
        activities.refuse_parties_on_update(table.entity, changes)
        changes = dict(changes)
        changes["modifiedon"] = utc_now_text()
        changes["versionnumber"] = self.database.next_version()
        if table.entity.keys:
            check_alternate_keys(table, record_id, {**table.rows[record_id], **changes})
        return table.update(record_id, changes)

    def remove(self, table: Table, record_id: str) -> None:
        table.delete(record_id)
        if table.entity.logical_name == "team":  # memberships go with their team
            memberships = self.database.tables["teammembership"]
            for membership_id in sorted(memberships.lookup("teamid", record_id)):
                memberships.delete(membership_id)

    def read_body(self, request: ApiRequest, entity: EntityType) -> Row:
        payload = json_body(request, entity.entity_set)
        if not isinstance(payload, dict):
            raise errors.payload_error(
                entity.entity_set,
                "Microsoft.OData.ODataException: "
                "The request body must be a JSON object describing the record.",
            )
        return self.changes_from(payload, entity)

    def changes_from(self, payload: Mapping[str, object], entity: EntityType) -> Row:
        """The column changes a record body asks for (binds resolved, values converted)."""
        changes: Row = {}
        for name, value in payload.items():
            if name.endswith("@odata.bind"):
                self._bind(entity, name[: -len("@odata.bind")], value, changes)
            elif "@" in name:
                continue  # instance annotations such as @odata.type are not data
            elif activities.is_party_navigation(entity, name):
                changes[activities.PARTIES] = activities.read_parties(self, entity, value)
            elif value is None and name in entity.navigations:
                _clear(entity, entity.navigations[name].column, changes)  # associate-disassociate…md
            else:
                column = entity.columns.get(name)
                if column is None or column.kind is Kind.LOOKUP:
                    raise _invalid_property(name, entity)
                if not column.read_only:
                    changes[name] = _convert(column, value, entity)
        activities.complete_changes(entity, changes)
        return changes

    def _bind(self, entity: EntityType, nav_name: str, value: object, changes: Row) -> None:
        nav = entity.navigations.get(nav_name)
        if nav is None:
            raise errors.payload_error(
                entity.entity_set,
                (
                    f"Microsoft.OData.ODataException: An undeclared property '{nav_name}' which only has "
                    "property annotations in the payload but no property value was found in the payload. "
                    "In OData, only declared navigation properties and declared named streams can be "
                    "represented as properties without values."
                ),
            )
        if value is None:
            # "Disassociate tables on update" (associate-disassociate-entities-using-web-api.md).
            _clear(entity, nav.column, changes)
            return
        bound_table, record_id = self.resolve_reference(entity, nav, value)
        changes[nav.column] = record_id
        if len(entity.columns[nav.column].targets) > 1:
            changes[type_key(nav.column)] = bound_table.entity.logical_name

    def resolve_reference(self, entity: EntityType, nav: Navigation, value: object) -> tuple[Table, str]:
        """The (table, id) an ``@odata.bind`` / ``@odata.id`` value points to, checked against ``nav``."""
        match = _BIND_RE.match(value) if isinstance(value, str) else None
        if match is None or match.group("set") not in self.database.by_set:
            raise errors.payload_error(
                entity.entity_set,
                f"Microsoft.OData.ODataException: '{value}' is not a valid entity reference for "
                f"navigation property '{nav.name}'.",
            )
        bound_table = self.database.by_set[match.group("set")]
        allowed = {nav.target} | ({"team"} if nav.name == "ownerid" else set())
        if bound_table.entity.logical_name not in allowed:
            raise errors.payload_error(
                entity.entity_set,
                f"Microsoft.OData.ODataException: navigation property '{nav.name}' expects a reference to "
                f"'{self.database.schema[nav.target].entity_set}'.",
            )
        return bound_table, self._referenced_id(entity, bound_table, match.group("key"), value)

    @staticmethod
    def _referenced_id(entity: EntityType, table: Table, key_text: str, value: object) -> str:
        """A reference by primary key or alternate key (use-alternate-key-reference-record.md)."""
        try:
            key = record_key(key_text, table.entity)
        except errors.DataverseFault as exc:
            raise errors.payload_error(
                entity.entity_set, f"Microsoft.OData.ODataException: '{value}': {exc.message}"
            ) from exc
        row = find_by_key(table, key)
        if row is None and key.primary is not None:
            raise errors.record_not_found(table.entity.logical_name, key.primary)
        if row is None:
            raise key_not_found(table.entity.logical_name)
        return str(row[table.entity.primary_key])

    def _response_shape(self, request: ApiRequest, entity: EntityType) -> tuple[Preferences, QueryOptions]:
        """Prefer header and query options, validated before anything is written."""
        return parse_preferences(request.header("prefer")), parse_query(request.query, entity, self.database)

    def _written(
        self,
        request: ApiRequest,
        table: Table,
        row: Row,
        shape: tuple[Preferences, QueryOptions],
        *,
        created: bool,
    ) -> ApiResponse:
        entity = table.entity
        record_id = str(row[entity.primary_key])
        location = f"{request.service_root}/{entity.entity_set}({record_id})"
        prefs, options = shape
        if not prefs.return_representation:
            return ApiResponse(
                204, {"OData-Version": "4.0", "OData-EntityId": location}, b"", entity.entity_set
            )
        payload: dict[str, object] = {
            "@odata.context": context_url(request.service_root, entity, options.select, True)
        }
        payload.update(render_row(self.records, entity, row, options, prefs.annotations))
        headers = {
            "Content-Type": errors.JSON_CONTENT_TYPE,
            "OData-Version": "4.0",
            "ETag": etag(row),
            "Preference-Applied": ",".join(["return=representation", *prefs.applied()]),
            "OData-EntityId": location,
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return ApiResponse(201 if created else 200, headers, body, entity.entity_set)


def json_body(request: ApiRequest, entity_set: str) -> object:
    """The request body as JSON (``None`` when empty); malformed JSON is the documented payload error."""
    if not request.body.strip():
        return None
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        detail = "the JSON is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise errors.payload_error(entity_set, f"Microsoft.OData.ODataException: {detail}") from exc


def _clear(entity: EntityType, column: str, changes: Row) -> None:
    changes[column] = None
    if len(entity.columns[column].targets) > 1:
        changes[type_key(column)] = None


def _check_etag(if_match: str, row: Row) -> None:
    if not if_match or if_match == "*":
        return
    tags = [t.strip() for t in if_match.split(",")]
    if etag(row) not in tags:
        raise errors.version_mismatch()


def _invalid_property(name: str, entity: EntityType) -> errors.DataverseFault:
    # troubleshoot .../web-api-client-errors "Invalid property {name} was found in entity".
    return errors.DataverseFault(
        400,
        errors.PROPERTY_NOT_FOUND,
        (
            "An error occurred while validating input parameters: Microsoft.Crm.CrmException: "
            f"Invalid property '{name}' was found in entity 'Microsoft.Dynamics.CRM.{entity.logical_name}'. "
            "---> Microsoft.OData.ODataException: Does not support untyped value in non-open type."
        ),
    )


def _convert(column: Column, value: object, entity: EntityType) -> object:
    if value is None:
        return None
    try:
        return _CONVERTERS[column.kind](column, value)
    except (TypeError, ValueError) as exc:
        raise errors.payload_error(
            entity.entity_set,
            (
                f"Microsoft.OData.ODataException: Cannot convert the literal '{value}' to the expected type "
                f"'{column.kind.edm}'."
            ),
        ) from exc


def _to_int(column: Column, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    if column.options is not None and value not in column.options:
        raise ValueError(value)
    return value


def _to_float(column: Column, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return float(value)


def _to_str(column: Column, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _to_bool(column: Column, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def _to_guid(column: Column, value: object) -> str:
    return str(uuid.UUID(_to_str(column, value)))


def _to_date(column: Column, value: object) -> str:
    return date.fromisoformat(_to_str(column, value)[:10]).isoformat()


def _to_datetime(column: Column, value: object) -> str:
    text = _to_str(column, value)
    parsed = (
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        if len(text) > 10
        else datetime.fromisoformat(text)
    )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CONVERTERS = {
    Kind.KEY: _to_guid,
    Kind.GUID: _to_guid,
    Kind.STRING: _to_str,
    Kind.MEMO: _to_str,
    Kind.INT: _to_int,
    Kind.BIGINT: _to_int,
    Kind.CHOICE: _to_int,
    Kind.DECIMAL: _to_float,
    Kind.MONEY: _to_float,
    Kind.BOOL: _to_bool,
    Kind.DATE: _to_date,
    Kind.DATETIME: _to_datetime,
}
