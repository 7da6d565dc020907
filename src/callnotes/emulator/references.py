"""Associate and disassociate through ``$ref``.

powerapps-docs/developer/data-platform/webapi/associate-disassociate-entities-using-web-api.md:
``PUT <set>(id)/<single-valued nav>/$ref`` with ``{"@odata.id": "<set>(id)"}`` changes a lookup,
``DELETE <set>(id)/<single-valued nav>/$ref`` clears it; ``POST <set>(id)/<collection nav>/$ref``
adds a reference and ``DELETE <set>(id)/<collection nav>/$ref?$id=<uri>`` (or
``<collection nav>(id)/$ref``) removes it; each answers 204. The one collection-valued navigation
property the emulator knows is the N:N ``systemusers(id)/teammembership_association``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote
from uuid import uuid4

from callnotes.emulator import errors
from callnotes.emulator.messages import ApiRequest, ApiResponse
from callnotes.emulator.table_definitions import Navigation
from callnotes.emulator.tables import Database, Table, type_key
from callnotes.emulator.writes import Writer, json_body

MEMBERSHIP_NAV = "teammembership_association"
_KEYED_RE = re.compile(r"^(?P<nav>\w+)\((?P<id>[0-9a-fA-F-]{36})\)$")
_NO_CONTENT = {"OData-Version": "4.0"}


class References:
    def __init__(self, database: Database, writer: Writer) -> None:
        self.database = database
        self.writer = writer

    def handle(self, request: ApiRequest, table: Table, record_id: str, nav_path: str) -> ApiResponse:
        method = request.method.upper()
        if table.get(record_id) is None:
            raise errors.record_not_found(table.entity.logical_name, record_id)
        keyed = _KEYED_RE.match(nav_path)
        nav_name = keyed.group("nav") if keyed else nav_path
        if table.entity.logical_name == "systemuser" and nav_name == MEMBERSHIP_NAV:
            return self._membership(request, method, record_id, keyed.group("id").lower() if keyed else None)
        nav = table.entity.navigations.get(nav_name)
        if nav is None or keyed is not None:
            raise errors.resource_not_found(nav_name)
        if method == "PUT":
            return self._set(request, table, record_id, nav)
        if method == "DELETE":
            self.writer.update(table, record_id, _cleared(table, nav))
            return ApiResponse(204, dict(_NO_CONTENT), b"", table.entity.entity_set)
        raise errors.no_http_resource(f"{request.service_root}/{request.path}")

    def _set(self, request: ApiRequest, table: Table, record_id: str, nav: Navigation) -> ApiResponse:
        target = _odata_id(request, table.entity.entity_set)
        bound, bound_id = self.writer.resolve_reference(table.entity, nav, target)
        changes: dict[str, object] = {nav.column: bound_id}
        if len(table.entity.columns[nav.column].targets) > 1:
            changes[type_key(nav.column)] = bound.entity.logical_name
        self.writer.update(table, record_id, changes)
        return ApiResponse(204, dict(_NO_CONTENT), b"", table.entity.entity_set)

    def _membership(self, request: ApiRequest, method: str, user_id: str, team_id: str | None) -> ApiResponse:
        teams = self.database.tables["team"]
        nav = Navigation(MEMBERSHIP_NAV, "teamid", "team")
        if method == "POST" and team_id is None:
            _, team_id = self.writer.resolve_reference(
                self.database.schema["systemuser"], nav, _odata_id(request, "systemusers")
            )
            if self._membership_id(user_id, team_id) is None:
                memberships = self.database.tables["teammembership"]
                self.writer.insert(
                    memberships, str(uuid4()), {"teamid": team_id, "systemuserid": user_id}, ""
                )
            return ApiResponse(204, dict(_NO_CONTENT), b"", "systemusers")
        if method == "DELETE":
            if team_id is None:
                reference = dict(parse_qsl(request.query)).get("$id")
                _, team_id = self.writer.resolve_reference(self.database.schema["systemuser"], nav, reference)
            elif teams.get(team_id) is None:
                raise errors.record_not_found("team", team_id)
            membership_id = self._membership_id(user_id, team_id)
            if membership_id is not None:
                self.writer.remove(self.database.tables["teammembership"], membership_id)
            return ApiResponse(204, dict(_NO_CONTENT), b"", "systemusers")
        raise errors.no_http_resource(f"{request.service_root}/{request.path}")

    def _membership_id(self, user_id: str, team_id: str) -> str | None:
        memberships = self.database.tables["teammembership"]
        for membership_id in sorted(memberships.lookup("systemuserid", user_id)):
            if memberships.rows[membership_id]["teamid"] == team_id:
                return membership_id
        return None


def _odata_id(request: ApiRequest, entity_set: str) -> object:
    body = json_body(request, entity_set)
    if not isinstance(body, dict) or "@odata.id" not in body:
        raise errors.payload_error(entity_set, "Microsoft.OData.ODataException: an @odata.id is required.")
    return unquote(str(body["@odata.id"]))


def _cleared(table: Table, nav: Navigation) -> dict[str, object]:
    changes: dict[str, object] = {nav.column: None}
    if len(table.entity.columns[nav.column].targets) > 1:
        changes[type_key(nav.column)] = None
    return changes
