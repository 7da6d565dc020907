"""The record-team actions bound to ``systemuser``: AddUserToRecordTeam and RemoveUserFromRecordTeam.

Body per shared/reference/msx-api-catalog.md §5 (``Record`` and ``TeamTemplate`` entity parameters
typed with ``@odata.type``). As Dataverse does, the record's access team is created on the first
join ("<record id>+<team template id>"); AddUserToRecordTeam answers ``AccessTeamId``,
RemoveUserFromRecordTeam answers 204. powerapps-docs/developer/data-platform/webapi/use-web-api-actions.md
(bound actions, entity-typed parameters with ``@odata.type``) and
powerapps-docs/developer/data-platform/use-access-teams-owner-teams-collaborate-share-information.md
(access teams are created automatically from a team template).
MSX keeps ``msp_dealteams`` in step with opportunity deal-team membership (the catalog's fallback
membership check); the emulator does the same.
"""

from __future__ import annotations

import json
from uuid import UUID, uuid4

from callnotes.emulator import errors
from callnotes.emulator.messages import ApiRequest, ApiResponse
from callnotes.emulator.table_definitions import OBJECT_TYPE_CODES, OPPORTUNITY_TEAM_TEMPLATE_ID
from callnotes.emulator.tables import Database, Row, Table, type_key
from callnotes.emulator.writes import Writer, json_body

_CRM = "Microsoft.Dynamics.CRM."
_TYPE_PREFIXES = ("#Microsoft.Dynamics.CRM.", "Microsoft.Dynamics.CRM.")


class RecordTeams:
    def __init__(self, database: Database, writer: Writer) -> None:
        self.database = database
        self.writer = writer

    def run(self, action: str, request: ApiRequest, user_id: str) -> ApiResponse:
        if self.database.tables["systemuser"].get(user_id) is None:
            raise errors.record_not_found("systemuser", user_id)
        record_table, record_id, template = self._parameters(request)
        team = self._find_team(record_id, str(template["teamtemplateid"]))
        if action == "AddUserToRecordTeam":
            if team is None:
                team = self._create_team(record_table, record_id, template, request.caller_id or user_id)
            self._add_member(team, user_id, record_table, record_id, template)
            payload = {
                "@odata.context": f"{request.service_root}/$metadata#{_CRM}AddUserToRecordTeamResponse",
                "AccessTeamId": team["teamid"],
            }
            body = json.dumps(payload).encode("utf-8")
            return ApiResponse(
                200, {"Content-Type": errors.JSON_CONTENT_TYPE, "OData-Version": "4.0"}, body, "systemusers"
            )
        if team is not None:
            self._remove_member(team, user_id, record_table, record_id, template)
        return ApiResponse(204, {"OData-Version": "4.0"}, b"", "systemusers")

    def _parameters(self, request: ApiRequest) -> tuple[Table, str, Row]:
        body = json_body(request, "systemusers")
        if not isinstance(body, dict):
            raise errors.invalid_argument("The action requires the parameters Record and TeamTemplate.")
        record_table, record_id = self._entity_parameter(body, "Record")
        template_table, template_id = self._entity_parameter(body, "TeamTemplate")
        if template_table.entity.logical_name != "teamtemplate":
            raise errors.invalid_argument("TeamTemplate must be a Microsoft.Dynamics.CRM.teamtemplate.")
        record = record_table.get(record_id)
        if record is None:
            raise errors.record_not_found(record_table.entity.logical_name, record_id)
        template = template_table.get(template_id)
        if template is None:
            raise errors.record_not_found("teamtemplate", template_id)
        if OBJECT_TYPE_CODES.get(record_table.entity.logical_name) != template["objecttypecode"]:
            raise errors.invalid_argument(
                f"The team template {template_id} is not defined for the table "
                f"'{record_table.entity.logical_name}'."
            )
        return record_table, record_id, template

    def _entity_parameter(self, body: dict[str, object], name: str) -> tuple[Table, str]:
        value = body.get(name)
        if not isinstance(value, dict):
            raise errors.invalid_argument(f"The action requires the parameter '{name}'.")
        odata_type = str(value.get("@odata.type", ""))
        logical = next((odata_type[len(p) :] for p in _TYPE_PREFIXES if odata_type.startswith(p)), "")
        table = self.database.tables.get(logical)
        if table is None:
            raise errors.invalid_argument(f"Parameter '{name}' has an unknown @odata.type '{odata_type}'.")
        raw_id = value.get(table.entity.primary_key)
        try:
            return table, str(UUID(str(raw_id)))
        except ValueError as exc:
            raise errors.invalid_argument(
                f"Parameter '{name}' needs a valid '{table.entity.primary_key}'."
            ) from exc

    def _find_team(self, record_id: str, template_id: str) -> Row | None:
        teams = self.database.tables["team"]
        for team_id in sorted(teams.lookup("regardingobjectid", record_id)):
            team = teams.rows[team_id]
            if team["teamtemplateid"] == template_id and team["teamtype"] == 1:
                return team
        return None

    def _create_team(self, record_table: Table, record_id: str, template: Row, caller_id: str) -> Row:
        teams = self.database.tables["team"]
        template_id = str(template["teamtemplateid"])
        return self.writer.insert(
            teams,
            str(uuid4()),
            {
                "name": f"{record_id}+{template_id}",
                "teamtype": 1,
                "teamtemplateid": template_id,
                "regardingobjectid": record_id,
                type_key("regardingobjectid"): record_table.entity.logical_name,
            },
            caller_id="",
        )

    def _add_member(
        self, team: Row, user_id: str, record_table: Table, record_id: str, template: Row
    ) -> None:
        memberships = self.database.tables["teammembership"]
        team_id = str(team["teamid"])
        if any(memberships.rows[m]["teamid"] == team_id for m in memberships.lookup("systemuserid", user_id)):
            return
        self.writer.insert(
            memberships, str(uuid4()), {"teamid": team_id, "systemuserid": user_id}, caller_id=""
        )
        if template["teamtemplateid"] == OPPORTUNITY_TEAM_TEMPLATE_ID:
            self._sync_deal_team(record_id, user_id, active=True)

    def _remove_member(
        self, team: Row, user_id: str, record_table: Table, record_id: str, template: Row
    ) -> None:
        memberships = self.database.tables["teammembership"]
        team_id = str(team["teamid"])
        for membership_id in sorted(memberships.lookup("systemuserid", user_id)):
            if memberships.rows[membership_id]["teamid"] == team_id:
                self.writer.remove(memberships, membership_id)
        if template["teamtemplateid"] == OPPORTUNITY_TEAM_TEMPLATE_ID:
            self._sync_deal_team(record_id, user_id, active=False)

    def _sync_deal_team(self, opportunity_id: str, user_id: str, *, active: bool) -> None:
        deal_teams = self.database.tables["msp_dealteam"]
        rows = [
            deal_teams.rows[i]
            for i in sorted(deal_teams.lookup("msp_dealteamuserid", user_id))
            if deal_teams.rows[i]["msp_parentopportunityid"] == opportunity_id
        ]
        for row in rows:
            self.writer.update(deal_teams, str(row["msp_dealteamid"]), {"statecode": 0 if active else 1})
        if active and not rows:
            self.writer.insert(
                deal_teams,
                str(uuid4()),
                {
                    "msp_name": "Deal Team Member",
                    "msp_dealteamuserid": user_id,
                    "msp_parentopportunityid": opportunity_id,
                },
                caller_id="",
            )
