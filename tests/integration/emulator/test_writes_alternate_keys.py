"""Alternate keys over real HTTP: ``accounts(accountnumber='…')`` for retrieve, upsert, delete and
``@odata.bind``, and the key's uniqueness.

powerapps-docs/developer/data-platform/use-alternate-key-reference-record.md (addressing and the
invalid-key error), webapi/update-delete-entities-using-web-api.md "Upsert a table row",
webapi/perform-conditional-operations-using-web-api.md "Limit upsert operations" (If-Match: * → 404,
If-None-Match: * → 412), reference/web-service-error-codes.md (DuplicateRecordEntityKey 0x80060892).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client


@pytest.fixture()
def api(fresh_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(fresh_emulator, json_body=True) as client:
        yield client


def _accounts(emulator: EmulatorServer, number: str) -> list[dict]:
    rows = emulator.service.database.tables["account"].rows.values()  # type: ignore[attr-defined]
    return [r for r in rows if (r["accountnumber"] or "").lower() == number.lower()]


def _error(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    return str(answer.json()["error"]["message"])


def test_retrieve_by_alternate_key_is_the_same_record(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    (row,) = _accounts(fresh_emulator, "A0000001")
    by_key = api.get("accounts(accountnumber='A0000001')", params={"$select": "name"})
    assert by_key.status_code == 200 and by_key.json()["accountid"] == row["accountid"]
    assert by_key.headers["ETag"] == api.get(f"accounts({row['accountid']})").headers["ETag"]
    assert (
        api.get("accounts(accountnumber='a0000001')").json()["accountid"] == row["accountid"]
    )  # case-insensitive
    message = _error(api.get("accounts(accountnumber='NOPE-1')"), 404, "0x80040217")
    assert message == "A record with the specified key values does not exist in account entity"


def test_upsert_by_alternate_key_creates_then_updates(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    created = api.patch("accounts(accountnumber='NEW-1')", json={"name": "Northwind"})
    assert created.status_code == 204
    (row,) = _accounts(fresh_emulator, "NEW-1")
    assert row["name"] == "Northwind" and row["accountid"] in created.headers["OData-EntityId"]
    updated = api.patch(
        "accounts(accountnumber='NEW-1')",
        json={"name": "Northwind Traders"},
        headers={"Prefer": "return=representation"},
    )
    assert updated.status_code == 200 and updated.json()["accountid"] == row["accountid"]
    assert [r["name"] for r in _accounts(fresh_emulator, "NEW-1")] == ["Northwind Traders"]


def test_upsert_limits_apply_to_alternate_keys(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    _error(
        api.patch("accounts(accountnumber='GONE-1')", json={"name": "x"}, headers={"If-Match": "*"}),
        404,
        "0x80040217",
    )
    assert _accounts(fresh_emulator, "GONE-1") == []  # "prevent create in upsert"
    existing = api.patch(
        "accounts(accountnumber='A0000002')", json={"name": "x"}, headers={"If-None-Match": "*"}
    )
    _error(existing, 412, "0x80040237")  # "prevent update in upsert"
    assert _accounts(fresh_emulator, "A0000002")[0]["name"] != "x"


def test_alternate_key_values_are_unique(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    before = len(fresh_emulator.service.database.tables["account"])  # type: ignore[attr-defined]
    message = _error(
        api.post("accounts", json={"name": "Copy", "accountnumber": "a0000001"}), 412, "0x80060892"
    )
    assert "Account Number Key" in message
    assert len(fresh_emulator.service.database.tables["account"]) == before  # type: ignore[attr-defined]
    other = _accounts(fresh_emulator, "A0000002")[0]
    _error(
        api.patch(f"accounts({other['accountid']})", json={"accountnumber": "A0000001"}), 412, "0x80060892"
    )
    assert other["accountnumber"] == "A0000002"
    assert api.patch(f"accounts({other['accountid']})", json={"accountnumber": None}).status_code == 204
    assert api.post("accounts", json={"name": "No number"}).status_code == 204  # null values do not collide


def test_a_body_that_contradicts_the_key_is_refused(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    answer = api.patch("accounts(accountnumber='KEY-1')", json={"name": "x", "accountnumber": "OTHER-1"})
    assert "does not match the key" in _error(answer, 400, "0x80040203")
    assert _accounts(fresh_emulator, "KEY-1") == [] and _accounts(fresh_emulator, "OTHER-1") == []


def test_delete_and_bind_by_alternate_key(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    (account,) = _accounts(fresh_emulator, "A0000003")
    opportunity_id = str(uuid.uuid4())
    bound = api.post(
        "opportunities",
        json={
            "opportunityid": opportunity_id,
            "name": "Keyed",
            "parentaccountid@odata.bind": "/accounts(accountnumber='A0000003')",
        },
    )
    assert bound.status_code == 204
    opportunities = fresh_emulator.service.database.tables["opportunity"]  # type: ignore[attr-defined]
    assert opportunities.get(opportunity_id)["parentaccountid"] == account["accountid"]
    missing = api.post(
        "opportunities", json={"name": "x", "parentaccountid@odata.bind": "/accounts(accountnumber='NONE')"}
    )
    _error(missing, 404, "0x80040217")
    bad = api.post("opportunities", json={"name": "x", "parentaccountid@odata.bind": "/accounts(name='x')"})
    _error(bad, 400, "0x80048d19")
    assert api.delete("accounts(accountnumber='A0000003')").status_code == 204
    assert _accounts(fresh_emulator, "A0000003") == []
    _error(api.delete("accounts(accountnumber='A0000003')"), 404, "0x80040217")


@pytest.mark.parametrize(
    "key",
    [
        "name='Contoso'",  # not a key
        "accountnumber='A1',name='x'",  # more columns than the key has
        "accountnumber=5",  # a string key needs a string literal
        "accountnumber='A1',accountnumber='A2'",
        "accountnumber='unterminated",
        "accountnumber=",
        "accountid='not-a-guid'",
        ",",
    ],
)
def test_bad_alternate_key_syntax_is_a_400(api: httpx.Client, key: str) -> None:
    for answer in (api.get(f"accounts({key})"), api.patch(f"accounts({key})", json={"name": "x"})):
        _error(answer, 400, "0x80060888")


def test_the_invalid_key_message_is_the_documented_one(api: httpx.Client) -> None:
    message = _error(api.get("accounts(name='Contoso')"), 400, "0x80060888")
    assert message.startswith(
        "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'."
    )
    _error(api.get("tasks(accountnumber='A0000001')"), 400, "0x80060888")  # tasks have no alternate key
