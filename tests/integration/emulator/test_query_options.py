"""OData query options over real HTTP: $select, $filter, $orderby, $top, $count, $expand and the
documented errors for bad input.

Docs followed (MicrosoftDocs/powerapps-docs, developer/data-platform/webapi/…):
query/select-columns.md, query/filter-rows.md, query/order-rows.md, query/count-rows.md,
query/join-tables.md, query/page-results.md; errors from
troubleshoot/power-platform/dataverse/dataverse-web-api-and-sdk/web-api-client-errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client


@pytest.fixture()
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator) as client:
        yield client


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return str(error["message"])


def test_select_returns_only_selected_columns_key_and_etag(api: httpx.Client) -> None:
    # query/select-columns.md: selected columns plus the primary key and @odata.etag.
    body = api.get("accounts", params={"$select": "name,msp_mstopparentid", "$top": "3"}).json()
    assert body["@odata.context"].endswith("$metadata#accounts(name,msp_mstopparentid)")
    assert len(body["value"]) == 3
    for record in body["value"]:
        assert set(record) == {"@odata.etag", "name", "msp_mstopparentid", "accountid"}
        assert record["@odata.etag"].startswith('W/"')


def test_lookup_columns_use_the_value_wire_name(api: httpx.Client, emulator: EmulatorServer) -> None:
    # web-api-properties.md (lookup properties are _<name>_value); integration guide Step 3.
    record = api.get("accounts", params={"$select": "_territoryid_value", "$top": "1"}).json()["value"][0]
    territory = emulator.service.database.tables["territory"].get(record["_territoryid_value"])
    assert territory is not None


def test_unknown_select_property_is_400(api: httpx.Client) -> None:
    # web-api-client-errors: "Could not find a property named 'Name' on type
    # 'Microsoft.Dynamics.CRM.account'."
    message = _error(api.get("accounts", params={"$select": "Name"}), 400, "0x0")
    assert message == "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."


def test_unknown_entity_set_is_404(api: httpx.Client) -> None:
    # web-api-client-errors: "Resource not found for the segment 'Account'."
    message = _error(api.get("Account"), 404, "0x8006088a")
    assert message == "Resource not found for the segment 'Account'."


def test_filter_by_tpid_as_the_catalog_does(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §2 and query/filter-rows.md (eq on a string column).
    account = next(iter(emulator.service.database.tables["account"].rows.values()))
    tpid = account["msp_mstopparentid"]
    body = api.get(
        "accounts",
        params={"$filter": f"msp_mstopparentid eq '{tpid}'", "$select": "accountid,name,msp_mstopparentid"},
    ).json()
    assert account["accountid"] in {r["accountid"] for r in body["value"]}
    assert all(r["msp_mstopparentid"] == tpid for r in body["value"])


def test_string_comparison_is_case_insensitive(api: httpx.Client) -> None:
    # filter-rows.md: string comparisons are not case-sensitive in Dataverse.
    upper = api.get("accounts", params={"$filter": "name eq 'CAFÉ MÜLLER'", "$select": "name"}).json()[
        "value"
    ]
    assert [r["name"] for r in upper] == ["Café Müller"]


@pytest.mark.parametrize(
    "name", ["O'Brien & Sons #2", "Café Müller", "Smith+Jones (EMEA) 100%", "東京 Trading K.K."]
)
def test_names_with_quotes_and_reserved_characters_round_trip(api: httpx.Client, name: str) -> None:
    # filter-rows.md: a single quote inside a string literal is doubled.
    literal = name.replace("'", "''")
    body = api.get("accounts", params={"$filter": f"name eq '{literal}'", "$select": "name"}).json()
    assert [r["name"] for r in body["value"]] == [name]


def test_guid_literal_with_without_quotes_and_v3_form(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-integration-guide.md gotcha 5 (GUIDs without quotes) and the catalog's quoted / guid'…' forms.
    user = emulator.demo_user_id
    results = [
        sorted(
            r["msp_accountteamid"]
            for r in api.get(
                "msp_accountteams",
                params={"$filter": f"_msp_systemuserid_value eq {literal}", "$select": "msp_accountteamid"},
            ).json()["value"]
        )
        for literal in (user, f"'{user}'", f"guid'{user}'")
    ]
    assert results[0] and results[0] == results[1] == results[2]


def test_corporate_cloud_filter_with_or_and_parentheses(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-integration-guide.md "Batching Multiple Accounts"; filter-rows.md (and/or, parentheses, startswith).
    ids = emulator.service.dataset.my_account_ids[:3]
    either = " or ".join(f"_msp_accountid_value eq {i}" for i in ids)
    body = api.get(
        "msp_accountteams",
        params={
            "$filter": f"({either}) and msp_qualifier1 eq 'Corporate' "
            "and startswith(msp_qualifier2,'Cloud ')",
            "$select": "_msp_accountid_value,msp_fullname,msp_qualifier2,msp_standardtitle,"
            "_msp_systemuserid_value",
        },
    ).json()["value"]
    assert {r["_msp_accountid_value"] for r in body} == set(ids)
    assert all(r["msp_qualifier2"].startswith("Cloud ") for r in body)
    assert 60 <= len(body) <= 96


def test_not_ne_null_contains_endswith(api: httpx.Client) -> None:
    # filter-rows.md: ne, not, null, contains, endswith.
    rows = api.get(
        "msp_accountteams",
        params={
            "$filter": "not startswith(msp_qualifier2,'Cloud ') and msp_qualifier1 ne 'Corporate' "
            "and msp_standardtitle ne null and contains(msp_standardtitle,'mgr')",
            "$select": "msp_qualifier1,msp_qualifier2,msp_standardtitle",
            "$top": "50",
        },
    ).json()["value"]
    assert rows
    for row in rows:
        assert not row["msp_qualifier2"].startswith("Cloud ") and row["msp_qualifier1"] != "Corporate"
        assert "mgr" in row["msp_standardtitle"].lower()
    ends = api.get(
        "msp_accountteams",
        params={"$filter": "endswith(msp_qualifier2,'-acq')", "$select": "msp_qualifier2", "$top": "5"},
    ).json()["value"]
    assert ends and {r["msp_qualifier2"] for r in ends} == {"Cloud & AI-Acq"}


def test_in_query_function(api: httpx.Client, emulator: EmulatorServer) -> None:
    # filter-rows.md "Dataverse query functions": Microsoft.Dynamics.CRM.In.
    ids = emulator.service.dataset.my_account_ids[:4]
    values = ",".join(f"'{i}'" for i in ids)
    body = api.get(
        "accounts",
        params={
            "$filter": f"Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=[{values}])",
            "$select": "accountid",
        },
    ).json()
    assert sorted(r["accountid"] for r in body["value"]) == sorted(ids)


def test_numeric_comparison_and_orderby(api: httpx.Client) -> None:
    # filter-rows.md (gt/le) and query/order-rows.md (asc/desc).
    rows = api.get(
        "msp_engagementmilestones",
        params={
            "$filter": "msp_monthlyuse gt 1000 and msp_monthlyuse le 20000",
            "$select": "msp_monthlyuse,msp_milestonedate",
            "$orderby": "msp_monthlyuse desc,msp_milestonedate asc",
        },
    ).json()["value"]
    uses = [r["msp_monthlyuse"] for r in rows]
    assert uses and all(1000 < u <= 20000 for u in uses)
    assert uses == sorted(uses, reverse=True)


def test_open_opportunities_for_accounts_with_count(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §3 and query/count-rows.md ($count=true counts all matching rows).
    ids = emulator.service.dataset.my_account_ids[:2]
    either = " or ".join(f"_parentaccountid_value eq '{i}'" for i in ids)
    body = api.get(
        "opportunities",
        params={
            "$filter": f"({either}) and statecode eq 0",
            "$select": "opportunityid,name,estimatedclosedate,msp_estcompletiondate,"
            "msp_consumptionconsumedrecurring,"
            "_ownerid_value,_parentaccountid_value",
            "$orderby": "name",
            "$count": "true",
            "$top": "1",
        },
    ).json()
    table = emulator.service.database.tables["opportunity"]
    expected = [r for r in table.rows.values() if r["parentaccountid"] in ids and r["statecode"] == 0]
    assert body["@odata.count"] == len(expected) and len(body["value"]) == 1


def test_top_limits_rows(api: httpx.Client) -> None:
    # page-results.md "Use the $top query option".
    body = api.get("systemusers", params={"$select": "fullname", "$top": "7"}).json()
    assert len(body["value"]) == 7 and "@odata.nextLink" not in body


def test_expand_single_valued_lookup(api: httpx.Client) -> None:
    # query/join-tables.md: $expand a single-valued navigation property with a nested $select.
    rows = api.get(
        "opportunities",
        params={"$select": "name", "$expand": "parentaccountid($select=name,msp_mstopparentid)", "$top": "3"},
    ).json()["value"]
    for row in rows:
        assert set(row["parentaccountid"]) == {"@odata.etag", "name", "msp_mstopparentid", "accountid"}
        assert row["name"].startswith(row["parentaccountid"]["name"])


def test_expand_of_unknown_navigation_is_400(api: httpx.Client) -> None:
    # query/join-tables.md ($expand names a navigation property); unknown name per web-api-client-errors.
    _error(api.get("opportunities", params={"$expand": "parentaccount"}), 400, "0x0")


@pytest.mark.parametrize(
    "query",
    [
        {"$filter": "name eq"},
        {"$filter": "name eq 'unterminated"},
        {"$filter": "(name eq 'x'"},
        {"$filter": "statecode eq 'open'"},
        {"$filter": "accountid eq 'not-a-guid'"},
        {"$top": "-1"},
        {"$orderby": "name sideways"},
        {"$count": "yes"},
        {"$search": "contoso"},
    ],
)
def test_malformed_query_options_are_400(api: httpx.Client, query: dict[str, str]) -> None:
    # query/filter-rows.md, order-rows.md, count-rows.md: malformed options are 400 (ODataUriParser,
    # 0x80060888).
    _error(api.get("accounts", params=query), 400, "0x80060888")


def test_skip_is_refused(api: httpx.Client) -> None:
    # page-results.md: "Dataverse doesn't support the $skip query option".
    message = _error(api.get("msp_accountteams", params={"$top": "100", "$skip": "100"}), 400, "0x80060888")
    assert "$skip" in message


def test_get_single_record_and_missing_record(api: httpx.Client, emulator: EmulatorServer) -> None:
    # msx-api-catalog.md §7 (systemusers(id)?$select=internalemailaddress); retrieve-entity-using-web-api.md;
    # a missing id is "<entity> With Id = <id> Does Not Exist"
    # (perform-conditional-operations-using-web-api.md).
    user = api.get(f"systemusers({emulator.demo_user_id})", params={"$select": "internalemailaddress"}).json()
    assert (
        user["internalemailaddress"].endswith("@contoso.com")
        and user["systemuserid"] == emulator.demo_user_id
    )
    missing = "00000000-0000-4000-8000-000000000001"
    message = _error(api.get(f"accounts({missing})"), 404, "0x80040217")
    assert message == f"account With Id = {missing} Does Not Exist"


def test_bad_key_is_400(api: httpx.Client) -> None:
    # retrieve-entity-using-web-api.md: the key is the record GUID; anything else is a 400.
    _error(api.get("accounts(not-a-guid)"), 400, "0x80060888")


def test_unchanged_record_is_304_with_if_none_match(api: httpx.Client, emulator: EmulatorServer) -> None:
    # perform-conditional-operations-using-web-api.md "Conditional retrievals"; never with annotations.
    path = f"systemusers({emulator.demo_user_id})"
    first = api.get(path, params={"$select": "fullname"})
    tag = first.json()["@odata.etag"]
    assert api.get(path, params={"$select": "fullname"}, headers={"If-None-Match": tag}).status_code == 304
    annotated = api.get(
        path,
        params={"$select": "fullname"},
        headers={"If-None-Match": tag, "Prefer": 'odata.include-annotations="*"'},
    )
    assert annotated.status_code == 200
    assert api.get(path, params={"$select": "fullname"}, headers={"If-None-Match": ""}).status_code == 200


def test_service_document_lists_entity_sets(api: httpx.Client) -> None:
    # web-api-service-documents.md "Service document"; web-api-client-errors "How to avoid"
    # points there.
    sets = {entry["name"] for entry in api.get("").json()["value"]}
    expected = {"accounts", "msp_accountteams", "msp_engagementmilestones", "tasks", "teams", "systemusers"}
    assert expected <= sets


def test_related_record_through_single_valued_navigation(api: httpx.Client, emulator: EmulatorServer) -> None:
    # retrieve-entity-using-web-api.md "Retrieve related table records" (single-valued navigation property).
    opportunity = next(iter(emulator.service.database.tables["opportunity"].rows.values()))
    account = api.get(
        f"opportunities({opportunity['opportunityid']})/parentaccountid", params={"$select": "name"}
    )
    assert account.status_code == 200
    assert account.json()["accountid"] == opportunity["parentaccountid"]
    assert set(account.json()) == {"@odata.context", "@odata.etag", "name", "accountid"}
    task = next(iter(emulator.service.database.tables["task"].rows))
    other_table = api.get(f"tasks({task})/regardingobjectid_account_task")
    assert other_table.status_code == 204  # the task is regarding a milestone, not an account
