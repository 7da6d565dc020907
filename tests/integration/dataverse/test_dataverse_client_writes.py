"""Writes through the client against the emulator: update with ETags, upsert, delete, actions.

Conditional operations:
powerapps-docs/developer/data-platform/webapi/perform-conditional-operations-using-web-api.md
(If-Match with an ETag → 412 when the record changed; If-Match: * keeps PATCH from creating).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from callnotes.dataverse import NotFound, PreconditionFailed, etag
from tests.integration.dataverse.dv_helpers import client_for


def test_update_with_etag_detects_a_concurrent_change(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        record_id = client.create("accounts", {"name": "cn-test etag"})
        read = client.get_record("accounts", record_id, select=["name"])
        client.update("accounts", record_id, {"name": "cn-test etag 2"}, etag=etag(read))
        with pytest.raises(PreconditionFailed, match="changed since it was read"):
            client.update("accounts", record_id, {"name": "cn-test etag 3"}, etag=etag(read))
        assert client.get_record("accounts", record_id, select=["name"])["name"] == "cn-test etag 2"


def test_update_never_creates_but_upsert_does(fresh_emulator: Any) -> None:
    missing = uuid.uuid4()
    with client_for(fresh_emulator) as client:
        with pytest.raises(NotFound):
            client.update("accounts", missing, {"name": "cn-test ghost"})
        client.upsert("accounts", missing, {"name": "cn-test upserted"})
        assert client.get_record("accounts", missing, select=["name"])["name"] == "cn-test upserted"
        client.upsert("accounts", missing, {"name": "cn-test upserted twice"})
        assert client.get_record("accounts", missing, select=["name"])["name"] == "cn-test upserted twice"


def test_delete_and_a_retried_delete_that_finds_it_gone(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        record_id = client.create("accounts", {"name": "cn-test delete"})
        fresh_emulator.configure(fail_next=[{"method": "DELETE", "fault": "drop_after_commit"}])
        client.delete("accounts", record_id)  # first answer lost, the retry meets 404: done
        with pytest.raises(NotFound):
            client.get_record("accounts", record_id)
        with pytest.raises(NotFound):
            client.delete("accounts", record_id)  # a first-attempt 404 is still an error


def test_create_with_caller_supplied_duplicate_id_is_an_error(fresh_emulator: Any) -> None:
    from callnotes.dataverse import DuplicateKey

    with client_for(fresh_emulator) as client:
        record_id = client.create("accounts", {"name": "cn-test dup"})
        with pytest.raises(DuplicateKey):
            client.create("accounts", {"name": "cn-test dup again"}, record_id=record_id)


def test_action_add_user_to_record_team(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        account = client.list_rows("accounts", select=["name"], top=1)[0]
        templates = client.list_rows("teamtemplates", select=["teamtemplatename"])
        user = fresh_emulator.demo_user_id
        body = {
            "Record": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account["accountid"]},
            "TeamTemplate": {
                "@odata.type": "Microsoft.Dynamics.CRM.teamtemplate",
                "teamtemplateid": templates[0]["teamtemplateid"],
            },
        }
        teams_before = client.get(f"systemusers({user})/teammembership_association")["value"]
        answer = client.call_action(f"systemusers({user})/Microsoft.Dynamics.CRM.AddUserToRecordTeam", body)
        teams_after = client.get(f"systemusers({user})/teammembership_association")["value"]
    assert answer is None or isinstance(answer, dict)
    assert len(teams_after) == len(teams_before) + 1
