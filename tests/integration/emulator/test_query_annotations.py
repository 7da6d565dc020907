"""Annotations over real HTTP: formatted values, lookup annotations, @odata.etag, Preference-Applied,
and the teammembership_association navigation the catalog's membership check uses.

Docs: powerapps-docs/developer/data-platform/webapi/query/select-columns.md ("Formatted values",
"Lookup property data"), compose-http-requests-handle-errors.md (Prefer odata.include-annotations,
Preference-Applied), perform-conditional-operations-using-web-api.md (@odata.etag on every record);
shared/reference/msx-api-catalog.md §5 (membership check).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP = "@Microsoft.Dynamics.CRM.lookuplogicalname"
ALL = 'odata.include-annotations="*"'
MILESTONE_TEMPLATE = "316e4735-9e83-eb11-a812-0022481e1be0"


@pytest.fixture()
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator) as client:
        yield client


def _milestones(api: httpx.Client, prefer: str | None) -> list[dict[str, object]]:
    headers = {"Prefer": prefer} if prefer else {}
    return api.get(
        "msp_engagementmilestones",
        params={
            "$select": "msp_name,msp_milestonestatus,msp_milestonedate,msp_monthlyuse,"
            "_msp_workloadlkid_value,"
            "_msp_opportunityid_value",
            "$top": "20",
        },
        headers=headers,
    ).json()["value"]


def test_formatted_values_for_choices_money_dates_and_lookups(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    # select-columns.md "Formatted values"; milestone status labels from msx-integration-guide.md.
    labels = {
        "On Track",
        "At Risk",
        "Blocked",
        "Completed",
        "Cancelled",
        "Lost to Competitor",
        "Hygiene/Duplicate",
    }
    opportunities = emulator.service.database.tables["opportunity"]
    for record in _milestones(api, ALL):
        assert record[f"msp_milestonestatus{FORMATTED}"] in labels
        assert str(record[f"msp_monthlyuse{FORMATTED}"]).startswith("$")
        year, month, day = str(record["msp_milestonedate"]).split("-")
        assert record[f"msp_milestonedate{FORMATTED}"] == f"{int(month)}/{int(day)}/{year}"
        opportunity = opportunities.get(str(record["_msp_opportunityid_value"]))
        assert record[f"_msp_opportunityid_value{FORMATTED}"] == opportunity["name"]  # type: ignore[index]
        assert record[f"_msp_workloadlkid_value{LOOKUP}"] == "msp_workload"
        assert record[f"_msp_opportunityid_value{LOOKUP}"] == "opportunity"


def test_no_annotations_without_prefer(api: httpx.Client) -> None:
    # select-columns.md: formatted values only with Prefer odata.include-annotations; @odata.etag always.
    for record in _milestones(api, None):
        assert not [k for k in record if "@" in k and k != "@odata.etag"]
        assert str(record["@odata.etag"]).startswith('W/"')


def test_annotation_pattern_limits_what_is_returned(api: httpx.Client) -> None:
    # OData include-annotations takes a list of names or namespace.* patterns.
    prefer = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    response = api.get(
        "msp_engagementmilestones",
        params={"$select": "msp_milestonestatus,_ownerid_value", "$top": "5"},
        headers={"Prefer": prefer},
    )
    assert response.headers["Preference-Applied"] == prefer
    for record in response.json()["value"]:
        assert f"_ownerid_value{FORMATTED}" in record and f"_ownerid_value{LOOKUP}" not in record


def test_preference_applied_for_annotations_and_page_size(api: httpx.Client) -> None:
    # compose-http-requests-handle-errors.md (Prefer) and page-results.md (Preference-Applied).
    response = api.get(
        "systemusers", params={"$select": "fullname"}, headers={"Prefer": f"{ALL},odata.maxpagesize=3"}
    )
    applied = response.headers["Preference-Applied"]
    assert ALL in applied and "odata.maxpagesize=3" in applied


def test_polymorphic_regarding_lookup_reports_its_table(api: httpx.Client) -> None:
    # select-columns.md "Lookup property data": lookuplogicalname tells which table a multi-table
    # lookup targets.
    task = api.get(
        "tasks",
        params={"$select": "subject,_regardingobjectid_value,msp_taskcategory", "$top": "1"},
        headers={"Prefer": ALL},
    ).json()["value"][0]
    assert task[f"_regardingobjectid_value{LOOKUP}"] == "msp_engagementmilestone"
    assert task[f"msp_taskcategory{FORMATTED}"] in str(task["subject"])


def test_teammembership_association_with_catalog_filter(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §5 "Check membership (primary method — via team association)".
    db = emulator.service.database
    user = emulator.demo_user_id
    mine = {
        str(db.tables["teammembership"].rows[m]["teamid"])
        for m in db.tables["teammembership"].lookup("systemuserid", user)
    }
    milestone_teams = [
        t
        for t in db.tables["team"].rows.values()
        if t["teamtemplateid"] == MILESTONE_TEMPLATE and t["teamtype"] == 1
    ]
    chosen = [t for t in milestone_teams if t["teamid"] in mine][:3] + [
        t for t in milestone_teams if t["teamid"] not in mine
    ][:3]
    records = [str(t["regardingobjectid"]) for t in chosen]
    either = " or ".join(f"_regardingobjectid_value eq guid'{r}'" for r in records)
    response = api.get(
        f"systemusers({user})/teammembership_association",
        params={
            "$select": "_regardingobjectid_value,teamid",
            "$filter": f"teamtemplateid eq guid'{MILESTONE_TEMPLATE}' and teamtype eq 1 and ({either})",
        },
    )
    assert response.status_code == 200, response.text
    got = {r["_regardingobjectid_value"] for r in response.json()["value"]}
    expected = {str(t["regardingobjectid"]) for t in chosen if t["teamid"] in mine}
    assert got == expected and len(expected) == 3 and len(records) == 6


def test_teammembership_association_for_unknown_user_is_404(api: httpx.Client) -> None:
    # perform-conditional-operations-using-web-api.md: "<entity> With Id = <id> Does Not Exist" (404).
    response = api.get("systemusers(00000000-0000-4000-8000-000000000009)/teammembership_association")
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x80040217"
