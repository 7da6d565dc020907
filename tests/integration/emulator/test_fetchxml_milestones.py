"""FetchXML over real HTTP: the catalog's access-team milestone query (§4), paging with the paging
cookie, and bad FetchXML.

Docs: powerapps-docs/developer/data-platform/fetchxml/overview.md (GET <entityset>?fetchXml=),
fetchxml/join-tables.md (link-entity inner joins), fetchxml/filter-rows.md (conditions),
fetchxml/page-results.md (count/page, @Microsoft.Dynamics.CRM.fetchxmlpagingcookie and
@Microsoft.Dynamics.CRM.morerecords with the Prefer annotations; neither on the last page).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client

MILESTONE_TEMPLATE = "316e4735-9e83-eb11-a812-0022481e1be0"
COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE = "@Microsoft.Dynamics.CRM.morerecords"
PAGING_PREFER = f'odata.include-annotations="{COOKIE[1:]},{MORE[1:]}"'


def catalog_fetch(user_id: str, paging: str = "") -> str:
    """msx-api-catalog.md §4 "Load milestones where user is on the access team (FetchXML)"."""
    return f"""<fetch version="1.0" output-format="xml-platform" mapping="logical"
       distinct="true" no-lock="true"{paging}>
  <entity name="msp_engagementmilestone">
    <attribute name="msp_engagementmilestoneid"/>
    <attribute name="msp_milestonenumber"/>
    <attribute name="msp_name"/>
    <attribute name="msp_milestonedate"/>
    <attribute name="msp_milestonestatus"/>
    <attribute name="msp_monthlyuse"/>
    <attribute name="msp_commitmentrecommendation"/>
    <attribute name="msp_milestonecategory"/>
    <attribute name="ownerid"/>
    <attribute name="msp_workloadlkid"/>
    <attribute name="msp_opportunityid"/>
    <link-entity name="team" from="regardingobjectid"
                 to="msp_engagementmilestoneid" link-type="inner" alias="t">
      <filter type="and">
        <condition attribute="teamtype" operator="eq" value="1"/>
        <condition attribute="teamtemplateid" operator="eq" value="{MILESTONE_TEMPLATE}"/>
      </filter>
      <link-entity name="teammembership" from="teamid" to="teamid" link-type="inner" alias="tm">
        <filter type="and">
          <condition attribute="systemuserid" operator="eq" value="{user_id}"/>
        </filter>
      </link-entity>
    </link-entity>
  </entity>
</fetch>"""


@pytest.fixture()
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator) as client:
        yield client


def _expected(emulator: EmulatorServer) -> set[str]:
    db = emulator.service.database
    memberships = db.tables["teammembership"]
    team_ids = {
        str(memberships.rows[m]["teamid"]) for m in memberships.lookup("systemuserid", emulator.demo_user_id)
    }
    return {
        str(t["regardingobjectid"])
        for t in db.tables["team"].rows.values()
        if t["teamid"] in team_ids and t["teamtemplateid"] == MILESTONE_TEMPLATE and t["teamtype"] == 1
    }


def test_access_team_query_returns_exactly_my_milestones(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §4; fetchxml/join-tables.md (inner link-entity joins).
    response = api.get(
        "msp_engagementmilestones",
        params={"fetchXml": catalog_fetch(emulator.demo_user_id)},
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ids = [r["msp_engagementmilestoneid"] for r in body["value"]]
    assert len(ids) == len(set(ids)) and set(ids) == _expected(emulator) and ids
    record = body["value"][0]
    assert {
        "msp_milestonenumber",
        "_ownerid_value",
        "_msp_workloadlkid_value",
        "_msp_opportunityid_value",
    } <= set(record)
    assert "msp_milestonestatus@OData.Community.Display.V1.FormattedValue" in record
    assert COOKIE not in body and MORE not in body  # one page only


def test_other_users_query_returns_their_milestones(api: httpx.Client, emulator: EmulatorServer) -> None:
    # fetchxml/filter-rows.md: conditions on a linked table restrict the rows.
    response = api.get(
        "msp_engagementmilestones", params={"fetchXml": catalog_fetch("00000000-0000-4000-8000-000000000077")}
    )
    assert response.status_code == 200 and response.json()["value"] == []


def test_paging_cookie_walks_all_pages(api: httpx.Client, emulator: EmulatorServer) -> None:
    # fetchxml/page-results.md "Paging cookie examples" (Web API tab).
    seen: list[str] = []
    page, cookie = 1, ""
    while True:
        paging = f' count="4" page="{page}"' + (
            f" paging-cookie='{html.escape(cookie, quote=True)}'" if cookie else ""
        )
        body = api.get(
            "msp_engagementmilestones",
            params={"fetchXml": catalog_fetch(emulator.demo_user_id, paging)},
            headers={"Prefer": PAGING_PREFER},
        ).json()
        seen.extend(r["msp_engagementmilestoneid"] for r in body["value"])
        if not body.get(MORE):
            assert COOKIE not in body
            break
        element = body[COOKIE]
        assert element.startswith(f'<cookie pagenumber="{page + 1}" pagingcookie="')
        cookie = unquote(unquote(re.search(r'pagingcookie="([^"]*)"', element).group(1)))  # type: ignore[union-attr]
        page += 1
    assert page > 1 and len(seen) == len(set(seen)) and set(seen) == _expected(emulator)


def test_simple_paging_without_cookie(api: httpx.Client, emulator: EmulatorServer) -> None:
    # fetchxml/page-results.md "Simple paging": count + page only.
    first = api.get(
        "msp_engagementmilestones",
        params={"fetchXml": catalog_fetch(emulator.demo_user_id, ' count="3" page="1"')},
    ).json()
    second = api.get(
        "msp_engagementmilestones",
        params={"fetchXml": catalog_fetch(emulator.demo_user_id, ' count="3" page="2"')},
    ).json()
    first_ids = {r["msp_engagementmilestoneid"] for r in first["value"]}
    second_ids = {r["msp_engagementmilestoneid"] for r in second["value"]}
    assert len(first_ids) == 3 and second_ids and not first_ids & second_ids
    assert COOKIE not in first  # annotations were not requested


@pytest.mark.parametrize(
    "fetch",
    [
        # not well-formed; then the wrong table for the entity set
        "<fetch><entity name='msp_engagementmilestone'><attribute name='msp_name'/></entity>",
        "<fetch><entity name='account'><attribute name='name'/></entity></fetch>",
        "<fetch><entity name='msp_engagementmilestone'><attribute name='nope'/></entity></fetch>",
        "<fetch count='0'><entity name='msp_engagementmilestone'/></fetch>",
        "<fetch count='5' page='0'><entity name='msp_engagementmilestone'/></fetch>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]><fetch><entity name='msp_engagementmilestone'/></fetch>",
        "<fetch><entity name='msp_engagementmilestone'><filter>"
        "<condition attribute='msp_name' operator='under' value='x'/></filter></entity></fetch>",
    ],
)
def test_bad_fetchxml_is_400(api: httpx.Client, fetch: str) -> None:
    # fetchxml/overview.md: the query must be valid FetchXML for the entity set's table.
    response = api.get("msp_engagementmilestones", params={"fetchXml": fetch})
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80060888"


def test_fetchxml_with_or_filter_and_order(api: httpx.Client, emulator: EmulatorServer) -> None:
    # fetchxml/filter-rows.md (filter type="or") and fetchxml/order-rows.md.
    fetch = """<fetch count="50"><entity name="account"><attribute name="name"/>
      <filter type="or"><condition attribute="name" operator="eq" value="Café Müller"/>
        <condition attribute="name" operator="like" value="O'Brien%"/></filter>
      <order attribute="name" descending="true"/></entity></fetch>"""
    names = [r["name"] for r in api.get("accounts", params={"fetchXml": fetch}).json()["value"]]
    assert names == ["O'Brien & Sons #2", "Café Müller"]


def test_link_entity_attributes_come_back_aliased(api: httpx.Client, emulator: EmulatorServer) -> None:
    # fetchxml/join-tables.md: columns of a linked table are returned under the link's alias.
    fetch = catalog_fetch(emulator.demo_user_id).replace(
        'link-type="inner" alias="t">', 'link-type="inner" alias="t"><attribute name="teamtype"/>'
    )
    rows = api.get("msp_engagementmilestones", params={"fetchXml": fetch}).json()["value"]
    assert rows and all(r["t.teamtype"] == 1 for r in rows)


def test_aggregate_fetch_is_refused(api: httpx.Client) -> None:
    # fetchxml/aggregate-data.md: aggregates are outside the emulator's subset (400, not wrong data).
    fetch = (
        "<fetch aggregate='true'><entity name='account'>"
        "<attribute name='name' aggregate='count' alias='n'/></entity></fetch>"
    )
    response = api.get("accounts", params={"fetchXml": fetch})
    assert response.status_code == 400 and "aggregate" in response.json()["error"]["message"]
