"""Paging over real HTTP: Prefer odata.maxpagesize, @odata.nextLink with $skiptoken, 5,000 cap,
$top ignored with maxpagesize, and the MSX msp_accountteams quirk.

Docs: powerapps-docs/developer/data-platform/webapi/query/page-results.md and query/count-rows.md;
the quirk: shared/reference/msx-integration-guide.md "Record Limits and Pagination".
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorConfig, EmulatorServer
from tests.fixtures.emulator import web_api_client


@pytest.fixture()
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator, timeout=60) as client:
        yield client


def _all_pages(api: httpx.Client, first: httpx.Response, prefer: str) -> tuple[list[dict[str, object]], int]:
    body, pages = first.json(), 1
    rows = list(body["value"])
    while "@odata.nextLink" in body:
        body = api.get(body["@odata.nextLink"], headers={"Prefer": prefer}).json()
        rows.extend(body["value"])
        pages += 1
    return rows, pages


def test_maxpagesize_pages_with_next_link_until_done(api: httpx.Client, emulator: EmulatorServer) -> None:
    # page-results.md: Preference-Applied echoes the page size; follow @odata.nextLink until absent.
    prefer = "odata.maxpagesize=40"
    first = api.get(
        "opportunities",
        params={"$select": "name,statecode", "$filter": "statecode eq 0"},
        headers={"Prefer": prefer},
    )
    assert first.headers["Preference-Applied"] == prefer
    assert len(first.json()["value"]) == 40
    link = first.json()["@odata.nextLink"]
    assert link.startswith(f"{emulator.api_url}/opportunities?") and "$skiptoken=" in link
    rows, pages = _all_pages(api, first, prefer)
    expected = [
        r for r in emulator.service.database.tables["opportunity"].rows.values() if r["statecode"] == 0
    ]
    assert len(rows) == len(expected) and pages == -(-len(expected) // 40)
    assert {r["opportunityid"] for r in rows} == {r["opportunityid"] for r in expected}


def test_skiptoken_is_a_paging_cookie(api: httpx.Client) -> None:
    # page-results.md: the $skiptoken carries <cookie pagenumber=… pagingcookie=… istracking="False" />.
    link = api.get(
        "systemusers", params={"$select": "fullname"}, headers={"Prefer": "odata.maxpagesize=5"}
    ).json()["@odata.nextLink"]
    token = httpx.URL(link).params["$skiptoken"]
    assert token.startswith('<cookie pagenumber="2" pagingcookie="') and token.endswith(
        'istracking="False" />'
    )


def test_default_page_is_5000_rows() -> None:
    # page-results.md: "up to 5,000 records may be returned for each request"; larger maxpagesize is capped.
    with (
        EmulatorServer(EmulatorConfig(accounts=20, seed=3, msx_quirks=False)) as server,
        httpx.Client(
            base_url=f"{server.api_url}/",
            headers={"Authorization": f"Bearer {server.mint_token()}"},
            timeout=60,
        ) as api,
    ):
        total = len(server.service.database.tables["msp_accountteam"])
        assert total > 5000
        body = api.get("msp_accountteams", params={"$select": "msp_qualifier2"}).json()
        assert len(body["value"]) == 5000 and "@odata.nextLink" in body
        big = api.get(
            "msp_accountteams",
            params={"$select": "msp_qualifier2"},
            headers={"Prefer": "odata.maxpagesize=9000"},
        )
        assert len(big.json()["value"]) == 5000
        second = api.get(body["@odata.nextLink"]).json()
        assert len(second["value"]) == total - 5000 and "@odata.nextLink" not in second
        # $top above one page: pages of 5,000 until $top rows in all.
        topped = api.get("msp_accountteams", params={"$select": "msp_qualifier2", "$top": "6000"}).json()
        rest = api.get(topped["@odata.nextLink"]).json()
        assert len(topped["value"]) == 5000 and len(rest["value"]) == 1000 and "@odata.nextLink" not in rest


def test_top_is_ignored_with_maxpagesize(api: httpx.Client) -> None:
    # page-results.md: "If you include both, $top is ignored."
    response = api.get(
        "systemusers", params={"$select": "fullname", "$top": "3"}, headers={"Prefer": "odata.maxpagesize=10"}
    )
    body = response.json()
    assert len(body["value"]) == 10 and "@odata.nextLink" in body


def test_count_is_total_matches_irrespective_of_page_size(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    # count-rows.md: @odata.count is the number of matching rows (up to 5,000) irrespective of page size.
    body = api.get(
        "systemusers",
        params={"$select": "fullname", "$count": "true"},
        headers={"Prefer": "odata.maxpagesize=10"},
    ).json()
    assert body["@odata.count"] == min(5000, len(emulator.service.database.tables["systemuser"]))
    assert len(body["value"]) == 10


def test_msx_quirk_caps_account_teams_at_100_without_next_link(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    # msx-integration-guide.md: "MSX returns max 100 records per query" for msp_accountteams,
    # no usable paging.
    account = emulator.service.dataset.my_account_ids[0]
    body = api.get(
        "msp_accountteams",
        params={"$filter": f"_msp_accountid_value eq {account}", "$count": "true"},
        headers={"Prefer": "odata.maxpagesize=500"},
    ).json()
    assert len(body["value"]) == 100 and "@odata.nextLink" not in body
    assert body["@odata.count"] >= 250


def test_without_quirk_account_teams_page_normally(fresh_emulator: EmulatorServer) -> None:
    # page-results.md: with the MSX quirk off, msp_accountteams pages like any entity set.
    fresh_emulator.configure(msx_quirks=False)
    headers = {"Authorization": f"Bearer {fresh_emulator.mint_token()}"}
    account = fresh_emulator.service.dataset.my_account_ids[0]
    with httpx.Client(base_url=f"{fresh_emulator.api_url}/", headers=headers, timeout=60) as api:
        prefer = "odata.maxpagesize=100"
        first = api.get(
            "msp_accountteams",
            params={"$filter": f"_msp_accountid_value eq {account}"},
            headers={"Prefer": prefer},
        )
        rows, pages = _all_pages(api, first, prefer)
    assert len(rows) >= 250 and pages >= 3
    assert len({r["msp_accountteamid"] for r in rows}) == len(rows)


def test_bad_maxpagesize_is_400(api: httpx.Client) -> None:
    # page-results.md: odata.maxpagesize takes a positive number of records.
    response = api.get("systemusers", headers={"Prefer": "odata.maxpagesize=lots"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80060888"


def test_tampered_skiptoken_is_400(api: httpx.Client) -> None:
    # page-results.md: "You shouldn't modify the encoded information" in $skiptoken.
    response = api.get("systemusers", params={"$skiptoken": "garbage"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80060888"


def test_total_record_count_annotations(api: httpx.Client, emulator: EmulatorServer) -> None:
    # count-rows.md: totalrecordcount / totalrecordcountlimitexceeded; -1 without $count=true.
    prefer = 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'
    counted = api.get(
        "systemusers",
        params={"$select": "fullname", "$count": "true", "$top": "2"},
        headers={"Prefer": prefer},
    ).json()
    total = len(emulator.service.database.tables["systemuser"])
    assert counted["@Microsoft.Dynamics.CRM.totalrecordcount"] == total == counted["@odata.count"]
    assert counted["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    uncounted = api.get(
        "systemusers", params={"$select": "fullname", "$top": "2"}, headers={"Prefer": prefer}
    ).json()
    assert uncounted["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1


def test_delete_on_a_collection_is_405(api: httpx.Client) -> None:
    # compose-http-requests-handle-errors.md: "you can't use DELETE or PATCH on a collection of entities".
    assert api.delete("accounts").status_code == 405
    assert api.patch("accounts", json={"name": "x"}).status_code == 405


def test_next_link_survives_deleting_the_last_row_of_a_page(fresh_emulator: EmulatorServer) -> None:
    # page-results.md: follow @odata.nextLink unchanged; paging must neither repeat nor lose rows.
    headers = {"Authorization": f"Bearer {fresh_emulator.mint_token()}"}
    prefer = {"Prefer": "odata.maxpagesize=10"}
    with httpx.Client(base_url=f"{fresh_emulator.api_url}/", headers=headers, timeout=30) as api:
        everything = [
            r["activityid"] for r in api.get("tasks", params={"$select": "subject"}).json()["value"]
        ]
        first = api.get("tasks", params={"$select": "subject"}, headers=prefer).json()
        last = first["value"][-1]["activityid"]
        assert api.delete(f"tasks({last})").status_code == 204
        second = api.get(first["@odata.nextLink"], headers=prefer).json()
    assert [r["activityid"] for r in second["value"]] == everything[10:20]


def test_repeated_query_sees_writes_made_in_between(fresh_emulator: EmulatorServer) -> None:
    # Result lists are reused while paging; any write must be visible to the next request.
    headers = {"Authorization": f"Bearer {fresh_emulator.mint_token()}"}
    query = {"$filter": "startswith(name,'Cache Probe')", "$select": "name"}
    with httpx.Client(base_url=f"{fresh_emulator.api_url}/", headers=headers, timeout=30) as api:
        assert api.get("accounts", params=query).json()["value"] == []
        created = api.post("accounts", json={"name": "Cache Probe 1"}).headers["OData-EntityId"]
        assert [r["name"] for r in api.get("accounts", params=query).json()["value"]] == ["Cache Probe 1"]
        api.patch(created, json={"name": "Renamed"})
        assert api.get("accounts", params=query).json()["value"] == []
