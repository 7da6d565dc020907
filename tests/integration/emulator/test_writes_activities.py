"""Phone calls, activity parties and notes (annotations) as Dataverse has them."""

from __future__ import annotations

from typing import Any

from tests.fixtures.emulator import web_api_client

ANNOTATIONS = 'odata.include-annotations="*",return=representation'


def _account(emu: Any) -> dict:
    return next(iter(emu.service.database.table("account").rows.values()))


def test_a_phonecall_regarding_an_account_with_its_parties(fresh_emulator: Any) -> None:
    account = _account(fresh_emulator)
    number = account["accountnumber"]
    with web_api_client(fresh_emulator, json_body=True, prefer=ANNOTATIONS) as api:
        created = api.post(
            "phonecalls",
            json={
                "subject": "Quarterly call",
                "description": "Notes",
                "actualend": "2026-11-05T12:00:00Z",
                "regardingobjectid_account_phonecall@odata.bind": f"/accounts(accountnumber='{number}')",
                "phonecall_activity_parties": [
                    {
                        "partyid_systemuser@odata.bind": f"/systemusers({fresh_emulator.demo_user_id})",
                        "participationtypemask": 1,
                    },
                    {
                        "partyid_account@odata.bind": f"/accounts({account['accountid']})",
                        "participationtypemask": 2,
                    },
                ],
            },
        )
        assert created.status_code == 201, created.text
        call = created.json()
        assert call["_regardingobjectid_value"] == account["accountid"]
        assert call["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
        assert (call["statecode"], call["statuscode"], call["directioncode"]) == (
            0,
            1,
            True,
        )  # phonecall.md defaults
        assert call["statuscode@OData.Community.Display.V1.FormattedValue"] == "Open"
        parties = api.get(
            "activityparties",
            params={
                "$filter": f"_activityid_value eq {call['activityid']}",
                "$select": "participationtypemask,_partyid_value",
                "$orderby": "participationtypemask",
            },
        ).json()["value"]
        assert [
            (p["participationtypemask@OData.Community.Display.V1.FormattedValue"], p["_partyid_value"])
            for p in parties
        ] == [("Sender", fresh_emulator.demo_user_id), ("To Recipient", account["accountid"])]
        refused = api.patch(f"phonecalls({call['activityid']})", json={"phonecall_activity_parties": []})
        assert refused.status_code == 400 and "created only" in refused.json()["error"]["message"]
        no_party = api.post(
            "phonecalls", json={"subject": "x", "phonecall_activity_parties": [{"participationtypemask": 1}]}
        )
        assert no_party.status_code == 400
        not_a_list = api.post("phonecalls", json={"subject": "x", "phonecall_activity_parties": {"a": 1}})
        assert not_a_list.status_code == 400


def test_a_failed_party_rolls_back_the_call(fresh_emulator: Any) -> None:
    before = len(fresh_emulator.service.database.table("phonecall").rows)
    with web_api_client(fresh_emulator, json_body=True) as api:
        answer = api.post(
            "phonecalls",
            json={
                "subject": "x",
                "phonecall_activity_parties": [
                    {
                        "partyid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)",
                        "participationtypemask": 2,
                    }
                ],
            },
        )
    assert answer.status_code == 404
    assert len(fresh_emulator.service.database.table("phonecall").rows) == before


def test_a_note_attached_to_a_phonecall_knows_its_object_type(fresh_emulator: Any) -> None:
    with web_api_client(fresh_emulator, json_body=True, prefer=ANNOTATIONS) as api:
        call = api.post("phonecalls", json={"subject": "With a note"}).json()
        note = api.post(
            "annotations",
            json={
                "subject": "Minutes",
                "notetext": "Agreed next steps",
                "objectid_phonecall@odata.bind": f"/phonecalls({call['activityid']})",
            },
        ).json()
        assert (note["objecttypecode"], note["_objectid_value"]) == ("phonecall", call["activityid"])
        moved = api.patch(
            f"annotations({note['annotationid']})",
            json={"objectid_account@odata.bind": f"/accounts({_account(fresh_emulator)['accountid']})"},
        ).json()
        assert moved["objecttypecode"] == "account"
        refused = api.post("annotations", json={"subject": "x", "objecttypecode": "account"})
        assert refused.status_code == 201 and refused.json()["objecttypecode"] is None  # not valid for create
