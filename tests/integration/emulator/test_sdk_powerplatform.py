"""Microsoft's own Python SDK (``powerplatform-dataverse-client``, a dev extra), unpatched, over HTTPS
against the emulator, through its public API only.

The SDK insists on an ``https://`` base URL, resolves every table through ``EntityDefinitions``,
turns choice labels into values through ``…/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata
?$expand=OptionSet``, upserts through alternate keys, sends ``$batch`` parts with unencoded spaces
and pages FetchXML with the paging cookie. It trusts the emulator's CA through ``REQUESTS_CA_BUNDLE``
(requests honours it) and gets its tokens from ``POST /_emulator/token`` through a
``TokenCredential``. Every result is checked against the emulator's own rows.
"""

from __future__ import annotations

import math
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.models.upsert import UpsertItem

from callnotes.emulator import EmulatorServer

HIGH, LOW, NORMAL = 2, 0, 1  # prioritycode values (table_definitions.PRIORITY)
WORKSHOP = 861980001  # msp_taskcategory "Workshop"


class EmulatorCredential:
    """An azure-core ``TokenCredential`` whose tokens come from the emulator's token endpoint."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self._emulator = emulator
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.extend(scopes)
        resource = scopes[0].removesuffix("/.default")
        minted = httpx.post(f"{resource}/_emulator/token", verify=self._emulator.verify).json()
        return AccessToken(minted["access_token"], int(minted["expires_on"]))


@pytest.fixture()
def sdk(tls_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataverseClient]:
    assert tls_emulator.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_emulator.ca_file))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with DataverseClient(tls_emulator.url, EmulatorCredential(tls_emulator)) as client:
        yield client


def _rows(emulator: EmulatorServer, logical_name: str) -> dict[str, dict[str, Any]]:
    return emulator.service.database.tables[logical_name].rows  # type: ignore[attr-defined,no-any-return]


def test_the_sdk_refuses_plain_http_so_the_emulator_serves_https(fresh_emulator: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="HTTPS"):
        DataverseClient(fresh_emulator.url, EmulatorCredential(fresh_emulator))


def test_create_with_choice_labels_then_retrieve_update_and_delete(
    sdk: DataverseClient, tls_emulator: EmulatorServer
) -> None:
    milestone_id = next(iter(_rows(tls_emulator, "msp_engagementmilestone")))
    milestone = f"/msp_engagementmilestones({milestone_id})"
    task_id = sdk.records.create(
        "task",
        {
            "subject": "Architecture review with the SDK",
            "prioritycode": "High",  # labels: the SDK looks them up in PicklistAttributeMetadata
            "msp_taskcategory": "Workshop",
            "regardingobjectid_msp_engagementmilestone@odata.bind": milestone,
        },
    )
    row = _rows(tls_emulator, "task")[task_id]
    assert (row["subject"], row["prioritycode"], row["msp_taskcategory"]) == (
        "Architecture review with the SDK",
        HIGH,
        WORKSHOP,
    )
    assert row["regardingobjectid"] == milestone_id and row["ownerid"] == tls_emulator.demo_user_id

    fetched = sdk.records.retrieve("task", task_id, select=["subject", "prioritycode"])
    assert fetched is not None and fetched["subject"] == row["subject"] and fetched["prioritycode"] == HIGH

    sdk.records.update("task", task_id, {"subject": "Renamed by the SDK", "prioritycode": "Low"})
    assert (row["subject"], row["prioritycode"]) == ("Renamed by the SDK", LOW)

    sdk.records.delete("task", task_id)
    assert task_id not in _rows(tls_emulator, "task")
    assert sdk.records.retrieve("task", task_id) is None  # 404 → None, as the SDK documents


def test_retrieve_with_expand_of_a_lookup(sdk: DataverseClient, tls_emulator: EmulatorServer) -> None:
    opportunity = next(iter(_rows(tls_emulator, "opportunity").values()))
    account = _rows(tls_emulator, "account")[opportunity["parentaccountid"]]
    record = sdk.records.retrieve(
        "opportunity", opportunity["opportunityid"], select=["name"], expand=["parentaccountid"]
    )
    assert record is not None and record["name"] == opportunity["name"]
    assert record["parentaccountid"]["accountid"] == account["accountid"]
    assert record["parentaccountid"]["name"] == account["name"]


def test_list_pages_by_page_size_add_up_to_the_count(
    sdk: DataverseClient, tls_emulator: EmulatorServer
) -> None:
    expected = [r for r in _rows(tls_emulator, "account").values() if r["statecode"] == 0]
    tls_emulator.reset_stats()
    pages = list(sdk.records.list_pages("account", filter="statecode eq 0", select=["name"], page_size=7))
    paged = [e for e in tls_emulator.requests() if e["path"] == "accounts"]
    assert len(paged) == len(pages) == math.ceil(len(expected) / 7) > 1  # one request a page
    assert all(len(page) <= 7 for page in pages) and all(e["status"] == 200 for e in paged)
    names = [record["name"] for page in pages for record in page]
    assert names == [r["name"] for r in expected]  # every row once, in the service's order
    counted = httpx.get(
        f"{tls_emulator.api_url}/accounts",
        params={"$filter": "statecode eq 0", "$count": "true", "$select": "name", "$top": "1"},
        headers={"Authorization": f"Bearer {tls_emulator.mint_token()}"},
        verify=tls_emulator.verify,
    ).json()["@odata.count"]
    listed = sdk.records.list("account", filter="statecode eq 0", select=["name"], page_size=7, count=True)
    assert len(listed) == len(names) == counted == len(expected)


def test_upsert_by_alternate_key_creates_then_updates_one_record(
    sdk: DataverseClient, tls_emulator: EmulatorServer
) -> None:
    number = f"SDK-{uuid.uuid4().hex[:8]}"
    sdk.records.upsert(
        "account", [UpsertItem(alternate_key={"accountnumber": number}, record={"name": "Contoso"})]
    )
    created = [r for r in _rows(tls_emulator, "account").values() if r["accountnumber"] == number]
    assert len(created) == 1 and created[0]["name"] == "Contoso"
    sdk.records.upsert(
        "account", [{"alternate_key": {"accountnumber": number}, "record": {"name": "Contoso Ltd"}}]
    )
    updated = [r for r in _rows(tls_emulator, "account").values() if r["accountnumber"] == number]
    assert len(updated) == 1 and updated[0]["name"] == "Contoso Ltd"
    assert updated[0]["accountid"] == created[0]["accountid"]
    keys = sdk.tables.get_alternate_keys("account")
    assert [k.key_attributes for k in keys] == [["accountnumber"]]


def test_batch_with_a_changeset_and_gets_with_filters(
    sdk: DataverseClient, tls_emulator: EmulatorServer
) -> None:
    accounts = _rows(tls_emulator, "account")
    some_id = next(iter(accounts))
    wanted = [
        r["name"] for r in accounts.values() if r["statecode"] == 0 and r["name"].lower().startswith("a")
    ]
    batch = sdk.batch.new()
    batch.records.list("account", filter="statecode eq 0 and startswith(name,'A')", select=["name"])
    batch.records.retrieve("account", some_id, select=["name"])
    with batch.changeset() as changes:
        ref = changes.records.create("task", {"subject": "Made in a changeset", "prioritycode": "Normal"})
        changes.records.update("task", ref, {"subject": "Renamed in the same changeset"})
    result = batch.execute()
    assert not result.has_errors, [(r.status_code, r.error_message) for r in result.responses]
    listed, single, created, renamed = result.responses
    assert listed.data is not None and [r["name"] for r in listed.data["value"]] == wanted and wanted
    assert single.data is not None and single.data["name"] == accounts[some_id]["name"]
    assert (created.status_code, renamed.status_code) == (204, 204) and created.entity_id
    task = _rows(tls_emulator, "task")[created.entity_id]
    assert (task["subject"], task["prioritycode"]) == ("Renamed in the same changeset", NORMAL)
    assert tls_emulator.stats()["batch_requests"] == 1


def test_fetchxml_pages_with_the_paging_cookie(sdk: DataverseClient, tls_emulator: EmulatorServer) -> None:
    expected = [r["accountid"] for r in _rows(tls_emulator, "account").values() if r["statecode"] == 0]
    fetch = """
      <fetch count="6">
        <entity name="account">
          <attribute name="accountid" />
          <attribute name="name" />
          <filter><condition attribute="statecode" operator="eq" value="0" /></filter>
        </entity>
      </fetch>"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK warns when it must fall back to simple paging
        pages = list(sdk.query.fetchxml(fetch).execute_pages())
    assert len(pages) == math.ceil(len(expected) / 6) > 1
    assert all(len(page.records) <= 6 for page in pages)
    assert [record["accountid"] for page in pages for record in page.records] == expected
