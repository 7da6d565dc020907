"""WhoAmI and the record-team actions over real HTTP; joins and leaves really change
``systemusers(id)/teammembership_association`` and the FetchXML access-team query.

Docs: powerapps-docs/developer/data-platform/webapi/use-web-api-functions.md (WhoAmI is a function: GET),
troubleshoot .../web-api-client-errors ("No HTTP resource was found" for POST to a function),
use-web-api-actions.md (bound actions with entity-typed parameters and @odata.type); bodies from
shared/reference/msx-api-catalog.md §5; access teams are created from the template on first use
(powerapps-docs/developer/data-platform/use-access-teams-owner-teams-collaborate-share-information.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client

OPPORTUNITY_TEMPLATE = "cc923a9d-7651-e311-9405-00155db3ba1e"
MILESTONE_TEMPLATE = "316e4735-9e83-eb11-a812-0022481e1be0"
CRM = "Microsoft.Dynamics.CRM"


@pytest.fixture()
def api(fresh_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(fresh_emulator, json_body=True) as client:
        yield client


def _body(table: str, key: str, record_id: str, template: str) -> dict[str, object]:
    return {
        "Record": {"@odata.type": f"{CRM}.{table}", key: record_id},
        "TeamTemplate": {"@odata.type": f"{CRM}.teamtemplate", "teamtemplateid": template},
    }


def _member_of(api: httpx.Client, user: str, template: str, record_id: str) -> bool:
    response = api.get(
        f"systemusers({user})/teammembership_association",
        params={
            "$select": "_regardingobjectid_value,teamid",
            "$filter": f"teamtemplateid eq guid'{template}' and teamtype eq 1 and "
            f"(_regardingobjectid_value eq guid'{record_id}')",
        },
    )
    assert response.status_code == 200, response.text
    return len(response.json()["value"]) == 1


def _milestone_without_team(emulator: EmulatorServer) -> str:
    db = emulator.service.database
    with_team = {str(t["regardingobjectid"]) for t in db.tables["team"].rows.values()}
    return next(m for m in db.tables["msp_engagementmilestone"].rows if m not in with_team)


def test_who_am_i_returns_the_signed_in_user(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # use-web-api-functions.md (WhoAmI function) and msx-api-catalog.md §1.
    body = api.get("WhoAmI").json()
    assert body["UserId"] == fresh_emulator.demo_user_id
    assert set(body) >= {"BusinessUnitId", "UserId", "OrganizationId"}
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")


def test_post_to_who_am_i_is_404(api: httpx.Client) -> None:
    # web-api-client-errors "No HTTP resource was found that matches the request URI".
    response = api.post("WhoAmI")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "No HTTP resource was found that matches the request URI"
    )


def test_join_creates_the_access_team_and_membership(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # use-access-teams-owner-teams-collaborate-share-information.md: the access team is created on first
    # use.
    user, milestone = fresh_emulator.demo_user_id, _milestone_without_team(fresh_emulator)
    assert not _member_of(api, user, MILESTONE_TEMPLATE, milestone)
    response = api.post(
        f"systemusers({user})/{CRM}.AddUserToRecordTeam",
        json=_body("msp_engagementmilestone", "msp_engagementmilestoneid", milestone, MILESTONE_TEMPLATE),
    )
    assert response.status_code == 200, response.text
    team_id = response.json()["AccessTeamId"]
    team = api.get(
        f"teams({team_id})",
        params={"$select": "name,teamtype,_teamtemplateid_value,_regardingobjectid_value"},
    ).json()
    assert team["teamtype"] == 1 and team["_teamtemplateid_value"] == MILESTONE_TEMPLATE
    assert (
        team["_regardingobjectid_value"] == milestone and team["name"] == f"{milestone}+{MILESTONE_TEMPLATE}"
    )
    assert _member_of(api, user, MILESTONE_TEMPLATE, milestone)


def test_join_twice_is_idempotent_and_leave_removes(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # msx-api-catalog.md §5 (join/leave); use-web-api-actions.md (RemoveUserFromRecordTeam → 204).
    user, milestone = fresh_emulator.demo_user_id, _milestone_without_team(fresh_emulator)
    body = _body("msp_engagementmilestone", "msp_engagementmilestoneid", milestone, MILESTONE_TEMPLATE)
    first = api.post(f"systemusers({user})/{CRM}.AddUserToRecordTeam", json=body).json()["AccessTeamId"]
    second = api.post(f"systemusers({user})/{CRM}.AddUserToRecordTeam", json=body).json()["AccessTeamId"]
    assert first == second
    teams = api.get(
        f"systemusers({user})/teammembership_association",
        params={"$filter": f"_regardingobjectid_value eq {milestone}", "$select": "teamid"},
    ).json()["value"]
    assert len(teams) == 1
    leave = api.post(f"systemusers({user})/{CRM}.RemoveUserFromRecordTeam", json=body)
    assert leave.status_code == 204
    assert not _member_of(api, user, MILESTONE_TEMPLATE, milestone)


def test_deal_team_join_and_leave_update_msp_dealteams(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # msx-api-catalog.md §5: msp_dealteams is the fallback membership check and follows the deal team.
    user = fresh_emulator.demo_user_id
    opportunity = next(iter(fresh_emulator.service.database.tables["opportunity"].rows))
    body = _body("opportunity", "opportunityid", opportunity, OPPORTUNITY_TEMPLATE)
    check = {
        "$filter": f"_msp_dealteamuserid_value eq '{user}' "
        f"and (_msp_parentopportunityid_value eq '{opportunity}') "
        "and statecode eq 0",
        "$select": "_msp_parentopportunityid_value",
    }
    assert api.post(f"systemusers({user})/{CRM}.AddUserToRecordTeam", json=body).status_code == 200
    assert _member_of(api, user, OPPORTUNITY_TEMPLATE, opportunity)
    assert len(api.get("msp_dealteams", params=check).json()["value"]) == 1
    assert api.post(f"systemusers({user})/{CRM}.RemoveUserFromRecordTeam", json=body).status_code == 204
    assert not _member_of(api, user, OPPORTUNITY_TEMPLATE, opportunity)
    assert api.get("msp_dealteams", params=check).json()["value"] == []


def test_join_for_a_missing_record_is_404(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # perform-conditional-operations-using-web-api.md: "<entity> With Id = <id> Does Not Exist".
    user = fresh_emulator.demo_user_id
    body = _body(
        "msp_engagementmilestone",
        "msp_engagementmilestoneid",
        "00000000-0000-4000-8000-000000000042",
        MILESTONE_TEMPLATE,
    )
    response = api.post(f"systemusers({user})/{CRM}.AddUserToRecordTeam", json=body)
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x80040217"


def test_join_with_a_template_for_another_table_is_400(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # use-access-teams-owner-teams-collaborate-share-information.md: a team template is defined per table.
    user, milestone = fresh_emulator.demo_user_id, _milestone_without_team(fresh_emulator)
    body = _body("msp_engagementmilestone", "msp_engagementmilestoneid", milestone, OPPORTUNITY_TEMPLATE)
    response = api.post(f"systemusers({user})/{CRM}.AddUserToRecordTeam", json=body)
    assert response.status_code == 400
    assert not _member_of(api, user, OPPORTUNITY_TEMPLATE, milestone)


@pytest.mark.parametrize(
    "body", [{}, {"Record": {"opportunityid": "x"}}, {"Record": "nope", "TeamTemplate": {}}]
)
def test_join_with_bad_parameters_is_400(
    api: httpx.Client, fresh_emulator: EmulatorServer, body: object
) -> None:
    # use-web-api-actions.md: Record and TeamTemplate are required entity parameters.
    response = api.post(f"systemusers({fresh_emulator.demo_user_id})/{CRM}.AddUserToRecordTeam", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80040203"


def test_join_with_malformed_json_is_400(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # web-api-client-errors "Error identified in Payload provided by the user".
    response = api.post(
        f"systemusers({fresh_emulator.demo_user_id})/{CRM}.AddUserToRecordTeam", content=b"{oops"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80048d19"


def test_unknown_action_is_404(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # web-api-client-errors "Resource not found for the segment" (also for actions).
    response = api.post(f"systemusers({fresh_emulator.demo_user_id})/{CRM}.AddUserToRecordTeams", json={})
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x8006088a"
