"""The Dataverse service below HTTP: routes one :class:`ApiRequest` to reads, writes or actions.

This is the seam of the emulator contract (``/work/emulator-contract.md``): the transport builds
``ApiRequest`` values, calls :meth:`DataverseService.handle` (never raises for Dataverse-level
errors; returns the documented error JSON) and wraps ``$batch`` changesets in
:meth:`DataverseService.transaction`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from callnotes.emulator import errors
from callnotes.emulator.actions import RecordTeams
from callnotes.emulator.change_feed import ChangeFeed
from callnotes.emulator.dataset import Dataset, build_dataset
from callnotes.emulator.errors import DataverseFault
from callnotes.emulator.fetchxml import run_fetch
from callnotes.emulator.formatting import RecordWriter, etag
from callnotes.emulator.messages import ApiRequest, ApiResponse, json_response
from callnotes.emulator.metadata import METADATA_SETS, Definitions, is_metadata_path
from callnotes.emulator.query import (
    COUNT_LIMIT,
    MSX_ACCOUNTTEAM_CAP,
    Preferences,
    ResultCache,
    context_url,
    next_link,
    parse_preferences,
    parse_query,
    render_row,
    take_page,
)
from callnotes.emulator.record_keys import RecordKey, find_by_key, key_not_found, record_key
from callnotes.emulator.references import References
from callnotes.emulator.table_definitions import BUSINESS_UNIT_ID, ORGANIZATION_ID
from callnotes.emulator.tables import Database, Row, Table, type_key
from callnotes.emulator.writes import Writer

__all__ = ["ApiRequest", "ApiResponse", "DataverseService", "build_service"]

_SEGMENT_RE = re.compile(r"^(?P<set>[A-Za-z_][\w]*)(?:\((?P<key>.*)\))?$", re.DOTALL)
_ACTION_PREFIX = "Microsoft.Dynamics.CRM."
_TOTAL = "Microsoft.Dynamics.CRM.totalrecordcount"
_TOTAL_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"


@dataclass(frozen=True)
class _Resolved:
    """A resource path whose key was resolved to a record id."""

    table: Table
    key: str | None
    tail: str | None


@dataclass(frozen=True)
class _Target:
    """A parsed resource path: entity set, optional key, optional trailing segment."""

    table: Table
    key: RecordKey | None
    tail: str | None


class DataverseService:
    """Dataverse semantics over one in-memory data set. Not thread-safe: the transport serialises."""

    def __init__(self, dataset: Dataset, *, msx_quirks: bool = True) -> None:
        self.dataset = dataset
        self.database: Database = dataset.database
        self.demo_user_id = dataset.demo_user_id
        self.msx_quirks = msx_quirks
        self.writer = RecordWriter(self.database)
        self.feed = ChangeFeed()  # committed changes, for the webhook dispatcher (change_feed.py)
        self._writes = Writer(self.database, self.writer, self.feed)
        self._teams = RecordTeams(self.database, self._writes)
        self._references = References(self.database, self._writes)
        self._results = ResultCache(self.database)
        self._definitions = Definitions(self.database.schema)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Changeset atomicity: every write inside is undone if the block raises."""
        with self.feed.transaction(), self.database.transaction():
            yield

    def handle(self, request: ApiRequest) -> ApiResponse:
        entity_set: str | None = None
        try:
            first = request.path.strip("/").split("/", 1)[0]
            match = _SEGMENT_RE.match(first)
            entity_set = match.group("set") if match and match.group("set") in self.database.by_set else None
            with self.feed.transaction(), self.database.transaction():  # one request is atomic, too
                response = self._dispatch(request)
        except DataverseFault as fault:
            response = fault.to_response()
        response.entity_set = response.entity_set or entity_set
        return response

    # -- routing ---------------------------------------------------------------------------
    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        path = request.path.strip("/")
        method = request.method.upper()
        if path in ("WhoAmI", "WhoAmI()"):
            return self._who_am_i(request)
        if path == "" and method == "GET":
            return self._service_document(request)
        if is_metadata_path(path):
            return self._definitions.handle(request, path)
        target = self._resolve(path)
        if target.tail is not None:
            return self._tail(request, target, method)
        if target.key is None:
            if method == "GET":
                return self._collection(request, target.table)
            if method == "POST":
                return self._writes.create(request, target.table)
        elif method == "PATCH":
            return self._upsert(request, target.table, target.key)
        elif method in ("GET", "DELETE"):
            record_id = self._record_id(target.table, target.key)
            if method == "GET":
                return self._single(request, target.table, record_id)
            return self._writes.delete(request, target.table, record_id)
        # compose-http-requests-handle-errors.md "Identify status codes": 405 for incorrect method and
        # resource combinations (e.g. DELETE or PATCH on a collection).
        raise DataverseFault(405, "0x80060888", f"The HTTP method '{method}' is not allowed for '{path}'.")

    def _resolve(self, path: str) -> _Target:
        head, _, tail = path.partition("/")
        match = _SEGMENT_RE.match(head)
        if match is None or match.group("set") not in self.database.by_set:
            name = match.group("set") if match else head
            raise errors.resource_not_found(name)
        table = self.database.by_set[match.group("set")]
        key = record_key(match.group("key"), table.entity) if match.group("key") is not None else None
        return _Target(table, key, tail or None)

    @staticmethod
    def _record_id(table: Table, key: RecordKey) -> str:
        """The id ``key`` names; a primary key is taken as given (its absence is reported where used)."""
        if key.primary is not None:
            return key.primary
        row = find_by_key(table, key)
        if row is None:
            raise key_not_found(table.entity.logical_name)
        return str(row[table.entity.primary_key])

    def _upsert(self, request: ApiRequest, table: Table, key: RecordKey) -> ApiResponse:
        # update-delete-entities-using-web-api.md "Upsert a table row"; by an alternate key the record
        # is found by its key values, and a new one gets them as column values.
        if key.primary is not None:
            return self._writes.upsert(request, table, key.primary)
        row = find_by_key(table, key)
        if row is not None:
            return self._writes.upsert(request, table, str(row[table.entity.primary_key]), key.values())
        if (request.header("if-match") or "").strip():
            raise key_not_found(table.entity.logical_name)  # "Prevent create in upsert"
        return self._writes.create(request, table, key_values=key.values())

    def _tail(self, request: ApiRequest, keyed: _Target, method: str) -> ApiResponse:
        tail = keyed.tail or ""
        record_id = self._record_id(keyed.table, keyed.key) if keyed.key is not None else None
        target = _Resolved(keyed.table, record_id, keyed.tail)
        if target.key is not None and tail.endswith("/$ref"):
            return self._references.handle(request, target.table, target.key, tail[: -len("/$ref")])
        if target.key is None and tail == "$count" and method == "GET":
            count = min(len(target.table), 5000)
            return ApiResponse(
                200, {"Content-Type": "text/plain", "OData-Version": "4.0"}, str(count).encode()
            )
        if target.key is not None and target.table.entity.logical_name == "systemuser":
            if tail == "teammembership_association" and method == "GET":
                return self._memberships(request, target.table, target.key)
            if tail.startswith(_ACTION_PREFIX):
                action = tail[len(_ACTION_PREFIX) :]
                if action in ("AddUserToRecordTeam", "RemoveUserFromRecordTeam"):
                    if method != "POST":
                        raise errors.no_http_resource(f"{request.service_root}/{request.path}")
                    return self._teams.run(action, request, target.key)
        navigation = target.table.entity.navigations.get(tail)
        if target.key is not None and navigation is not None and method == "GET":
            return self._related(request, target, navigation.column, navigation.target)
        raise errors.resource_not_found(tail.split("(")[0])

    # -- reads -----------------------------------------------------------------------------
    def _who_am_i(self, request: ApiRequest) -> ApiResponse:
        # powerapps-docs/developer/data-platform/webapi/use-web-api-functions.md (WhoAmI is a function: GET);
        # POST is the documented "No HTTP resource was found" error (web-api-client-errors).
        if request.method.upper() != "GET":
            raise errors.no_http_resource(f"{request.service_root}/{request.path}")
        user_id = (request.caller_id or self.demo_user_id).lower()
        return json_response(
            200,
            {
                "@odata.context": f"{request.service_root}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": BUSINESS_UNIT_ID,
                "UserId": user_id,
                "OrganizationId": ORGANIZATION_ID,
            },
        )

    def _service_document(self, request: ApiRequest) -> ApiResponse:
        # web-api-service-documents.md "Service document": the entity sets the service exposes
        # (the client-errors troubleshooting page points there for a wrong entity set name).
        sets = sorted([*self.database.by_set, *METADATA_SETS])  # the metadata sets are entity sets too
        return json_response(
            200,
            {
                "@odata.context": f"{request.service_root}/$metadata",
                "value": [{"name": name, "kind": "EntitySet", "url": name} for name in sets],
            },
        )

    def _collection(
        self, request: ApiRequest, table: Table, within: set[str] | None = None, path: str | None = None
    ) -> ApiResponse:
        entity = table.entity
        prefs = parse_preferences(request.header("prefer"))
        options = parse_query(request.query, entity, self.database)
        if options.fetch_xml is not None:
            fetched = run_fetch(
                options.fetch_xml,
                table,
                self.database,
                self.writer,
                prefs,
                request.service_root,
                request.caller_id,
            )
            return json_response(200, fetched, _applied(prefs), entity.entity_set)
        rows = self._results.rows(table, options, within)
        cap = MSX_ACCOUNTTEAM_CAP if self.msx_quirks and entity.logical_name == "msp_accountteam" else None
        page = take_page(rows, entity, options, prefs, cap=cap)
        payload: dict[str, object] = {
            "@odata.context": context_url(request.service_root, entity, options.select, False)
        }
        if page.count is not None:
            payload["@odata.count"] = page.count
        payload.update(_total_count_annotations(prefs, page.count, len(rows)))
        payload["value"] = [
            render_row(self.writer, entity, row, options, prefs.annotations) for row in page.rows
        ]
        if page.next_skiptoken is not None:
            payload["@odata.nextLink"] = next_link(
                request.service_root, path or request.path.strip("/"), options, page.next_skiptoken
            )
        return json_response(200, payload, _applied(prefs), entity.entity_set)

    def _single(self, request: ApiRequest, table: Table, key: str) -> ApiResponse:
        entity = table.entity
        prefs = parse_preferences(request.header("prefer"))
        options = parse_query(request.query, entity, self.database)
        row = table.get(key)
        if row is None:
            raise errors.record_not_found(entity.logical_name, key)
        if _not_modified(request, row, prefs, bool(options.expand)):
            return ApiResponse(304, {"OData-Version": "4.0"}, b"", entity.entity_set)
        payload: dict[str, object] = {
            "@odata.context": context_url(request.service_root, entity, options.select, True)
        }
        payload.update(render_row(self.writer, entity, row, options, prefs.annotations))
        headers = _applied(prefs)
        headers["ETag"] = etag(row)
        return json_response(200, payload, headers, entity.entity_set)

    def _related(self, request: ApiRequest, target: _Resolved, column: str, logical_name: str) -> ApiResponse:
        # retrieve-entity-using-web-api.md "Retrieve related table records": GET <set>(id)/<nav>;
        # an empty lookup answers 204 No Content.
        row = target.table.get(target.key or "")
        if row is None:
            raise errors.record_not_found(target.table.entity.logical_name, target.key or "")
        value = row.get(column)
        stored_type = row.get(type_key(column)) or logical_name
        if value is None or stored_type != logical_name:
            return ApiResponse(204, {"OData-Version": "4.0"}, b"", target.table.entity.entity_set)
        return self._single(request, self.database.tables[logical_name], str(value))

    def _memberships(self, request: ApiRequest, users: Table, user_id: str) -> ApiResponse:
        if users.get(user_id) is None:
            raise errors.record_not_found("systemuser", user_id)
        teams = self.database.tables["team"]
        memberships = self.database.tables["teammembership"]
        team_ids = {str(memberships.rows[i]["teamid"]) for i in memberships.lookup("systemuserid", user_id)}
        return self._collection(request, teams, within=team_ids, path=request.path.strip("/"))


def _applied(prefs: Preferences) -> dict[str, str]:
    applied = prefs.applied()
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _total_count_annotations(prefs: Preferences, count: int | None, matched: int) -> dict[str, object]:
    # query/count-rows.md: totalrecordcount is -1 without $count=true; limitexceeded beyond 5,000.
    annotations: dict[str, object] = {}
    if prefs.annotations(_TOTAL):
        annotations[f"@{_TOTAL}"] = -1 if count is None else count
    if prefs.annotations(_TOTAL_EXCEEDED):
        annotations[f"@{_TOTAL_EXCEEDED}"] = count is not None and matched > COUNT_LIMIT
    return annotations


def _not_modified(request: ApiRequest, row: Row, prefs: Preferences, expanded: bool) -> bool:
    # perform-conditional-operations-using-web-api.md "Conditional retrievals": 304 when the ETag
    # matches, never with $expand or with odata.include-annotations.
    header = (request.header("if-none-match") or "").strip()
    if not header or expanded or prefs.annotations_text is not None:
        return False
    return header == etag(row)


def build_service(seed: int, accounts: int, *, msx_quirks: bool = True) -> DataverseService:
    """A service over a freshly generated, deterministic data set."""
    return DataverseService(build_dataset(seed, accounts), msx_quirks=msx_quirks)
