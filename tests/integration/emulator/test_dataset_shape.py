"""The MSX-shaped data set as a client sees it over real HTTP: the import flow of
shared/reference/msx-integration-guide.md (WhoAmI → msp_accountteams → accounts → territories),
account team shape, TPIDs, opportunities, milestones and tasks.

Queries follow the guide and shared/reference/msx-api-catalog.md; query semantics per
powerapps-docs/developer/data-platform/webapi/query/filter-rows.md and query/count-rows.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client

ACCOUNT_TEMPLATE_TEAMS = "teamtype eq 1"
HOK = {861980004, 861980006, 861980008, 861980007, 861980002, 861980005, 606820005, 861980001}


@pytest.fixture()
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator, prefer='odata.include-annotations="*"') as client:
        yield client


def _my_accounts_from_both_sources(api: httpx.Client) -> tuple[set[str], set[str]]:
    user = api.get("WhoAmI").json()["UserId"]
    rows = api.get(
        "msp_accountteams",
        params={
            "$filter": f"_msp_systemuserid_value eq {user}",
            "$select": "_msp_accountid_value,msp_qualifier2",
            "$top": "500",
        },
    ).json()
    via_rows = {r["_msp_accountid_value"] for r in rows["value"]}
    teams = api.get(
        f"systemusers({user})/teammembership_association",
        params={"$filter": "teamtype eq 1", "$select": "_regardingobjectid_value,teamid"},
    ).json()["value"]
    via_teams = {
        t["_regardingobjectid_value"]
        for t in teams
        if t["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    }
    return via_rows, via_teams


def test_my_accounts_come_from_both_sources(api: httpx.Client, emulator: EmulatorServer) -> None:
    # Contract "The data set": assignments through msp_accountteams AND account access teams; a few only
    # through the access team (MSX leaving msp_accountteams stale).
    via_rows, via_teams = _my_accounts_from_both_sources(api)
    truth = set(emulator.service.dataset.my_account_ids)
    assert via_rows | via_teams == truth and len(truth) == 20
    assert len(via_teams - via_rows) >= 1


def test_my_roles_are_corporate_cloud_roles(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-integration-guide.md "Relevant msp_qualifier2 Values".
    rows = api.get(
        "msp_accountteams",
        params={
            "$filter": f"_msp_systemuserid_value eq {emulator.demo_user_id}",
            "$select": "msp_qualifier1,msp_qualifier2",
        },
    ).json()["value"]
    roles = {
        "Cloud & AI",
        "Cloud & AI-Acq",
        "Cloud & AI Data",
        "Cloud & AI Infrastructure",
        "Cloud & AI Apps",
    }
    assert rows and all(r["msp_qualifier1"] == "Corporate" and r["msp_qualifier2"] in roles for r in rows)


def test_accounts_have_tpid_territory_and_owner(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-integration-guide.md Steps 3-4 (accounts, territories "East.SMECC.MAA.0601").
    ids = emulator.service.dataset.my_account_ids[:5]
    either = " or ".join(f"accountid eq {i}" for i in ids)
    accounts = api.get(
        "accounts",
        params={
            "$filter": either,
            "$select": "accountid,name,msp_mstopparentid,_territoryid_value,_ownerid_value",
            "$top": "100",
        },
    ).json()["value"]
    assert len(accounts) == 5
    for account in accounts:
        assert account["msp_mstopparentid"].isdigit()
        assert account["_ownerid_value@OData.Community.Display.V1.FormattedValue"]
    territory_ids = {a["_territoryid_value"] for a in accounts}
    either = " or ".join(f"territoryid eq {t}" for t in territory_ids)
    territories = api.get(
        "territories", params={"$filter": either, "$select": "territoryid,name,msp_accountteamunitname"}
    ).json()["value"]
    assert len(territories) == len(territory_ids)
    assert all(re.fullmatch(r"(East|West|Central)\.SMECC\.[A-Z]{3}\.\d{4}", t["name"]) for t in territories)


def test_account_team_has_hundreds_of_rows_and_20_to_30_cloud_roles(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    # msx-integration-guide.md "Fetching Account Team Members"; query/count-rows.md.
    account = emulator.service.dataset.my_account_ids[1]
    everyone = api.get(
        "msp_accountteams",
        params={"$filter": f"_msp_accountid_value eq {account}", "$count": "true", "$top": "1"},
    ).json()
    cloud = api.get(
        "msp_accountteams",
        params={
            "$filter": f"_msp_accountid_value eq {account} and msp_qualifier1 eq 'Corporate' "
            "and startswith(msp_qualifier2,'Cloud ')",
            "$select": "msp_fullname,msp_qualifier2,msp_standardtitle,_msp_systemuserid_value",
            "$top": "100",
        },
    ).json()["value"]
    assert everyone["@odata.count"] >= 250
    assert 20 <= len(cloud) <= 32
    sellers = [
        r
        for r in cloud
        if r["msp_qualifier2"] in ("Cloud & AI", "Cloud & AI-Acq")
        and "Specialists IC" in (r["msp_standardtitle"] or "")
    ]
    assert sellers and {r["msp_qualifier2"] for r in cloud} >= {
        "Cloud & AI Data",
        "Cloud & AI Infrastructure",
    }


def test_open_and_closed_opportunities_and_milestones(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §3-4; msx-integration-guide.md "Querying Milestones for an Account".
    account = emulator.service.dataset.my_account_ids[0]
    opportunities = api.get(
        "opportunities", params={"$select": "name,statecode,msp_opportunitynumber", "$top": "5000"}
    ).json()["value"]
    assert {o["statecode"] for o in opportunities} == {0, 1, 2}
    milestones = api.get(
        "msp_engagementmilestones",
        params={
            "$filter": f"_msp_parentaccount_value eq '{account}'",
            "$select": "msp_engagementmilestoneid,msp_name,msp_milestonestatus,msp_milestonenumber,"
            "_msp_opportunityid_value,msp_monthlyuse,_msp_workloadlkid_value",
            "$orderby": "msp_name",
        },
    ).json()["value"]
    assert milestones
    for milestone in milestones:
        assert milestone["_msp_workloadlkid_value@OData.Community.Display.V1.FormattedValue"]
        assert milestone["msp_milestonenumber"].isdigit()
    number = milestones[0]["msp_milestonenumber"]
    found = api.get(
        "msp_engagementmilestones",
        params={"$filter": f"msp_milestonenumber eq '{number}'", "$select": "msp_name"},
    ).json()["value"]
    assert [m["msp_name"] for m in found] == [milestones[0]["msp_name"]]


def test_tasks_have_hok_and_other_categories(api: httpx.Client) -> None:
    # msx-integration-guide.md "HoK (Hands-on-Keyboard) Task Categories".
    tasks = api.get(
        "tasks",
        params={
            "$select": "msp_taskcategory,scheduleddurationminutes,prioritycode,statecode",
            "$top": "5000",
        },
    ).json()["value"]
    categories = {t["msp_taskcategory"] for t in tasks}
    assert categories & HOK and categories - HOK


def test_milestones_i_own(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §4 "Load milestones owned by current user".
    rows = api.get(
        "msp_engagementmilestones",
        params={"$filter": f"_ownerid_value eq '{emulator.demo_user_id}'", "$select": "msp_name"},
    ).json()["value"]
    assert rows
