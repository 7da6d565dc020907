"""Creates over real HTTP: 204 + OData-EntityId, return=representation, client-supplied ids,
duplicate keys, @odata.bind, maintained system columns, and bad payloads leaving data unchanged.

Docs: powerapps-docs/developer/data-platform/webapi/create-entity-web-api.md (204 + OData-EntityId,
"Create with data returned" → 201, setting the primary key), associate-disassociate-entities-using-web-api.md
(@odata.bind), perform-conditional-operations-using-web-api.md ("A record with matching key values already
exists."), troubleshoot .../web-api-client-errors ("Invalid property", "Error identified in Payload");
the task body is shared/reference/msx-api-catalog.md §6.
"""

from __future__ import annotations

import json
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


def _milestone_id(emulator: EmulatorServer) -> str:
    return next(iter(emulator.service.database.tables["msp_engagementmilestone"].rows))


def _task_body(emulator: EmulatorServer, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "subject": "Technical architecture review call",
        "msp_taskcategory": 861980004,
        "scheduleddurationminutes": 60,
        "prioritycode": 1,
        "regardingobjectid_msp_engagementmilestone@odata.bind": (
            f"/msp_engagementmilestones({_milestone_id(emulator)})"
        ),
        "ownerid@odata.bind": f"/systemusers({emulator.demo_user_id})",
    }
    body.update(extra)
    return body


def test_create_returns_204_and_entity_id(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # create-entity-web-api.md: 204 No Content with the new record's URI in OData-EntityId.
    response = api.post("tasks", json=_task_body(fresh_emulator))
    assert response.status_code == 204 and response.content == b""
    location = response.headers["OData-EntityId"]
    assert location.startswith(f"{fresh_emulator.api_url}/tasks(")
    created = api.get(
        location,
        params={"$select": "subject,_regardingobjectid_value,_ownerid_value,msp_taskcategory"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert created["subject"] == "Technical architecture review call"
    assert created["_regardingobjectid_value"] == _milestone_id(fresh_emulator)
    assert (
        created["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]
        == "msp_engagementmilestone"
    )
    assert created["_ownerid_value"] == fresh_emulator.demo_user_id
    assert (
        created["msp_taskcategory@OData.Community.Display.V1.FormattedValue"] == "Architecture Design Session"
    )


def test_create_with_return_representation_is_201_with_body(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # create-entity-web-api.md "Create with data returned": 201 Created,
    # Preference-Applied: return=representation.
    response = api.post(
        "tasks",
        params={"$select": "subject,createdon,versionnumber"},
        json=_task_body(fresh_emulator),
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "return=representation"
    body = response.json()
    assert body["subject"] == "Technical architecture review call" and body["createdon"].endswith("Z")
    assert body["@odata.etag"] == f'W/"{body["versionnumber"]}"'


def test_client_supplied_id_is_honoured_and_duplicate_refused(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # create-entity-web-api.md (the primary key can be set on create); a second create with the same key is
    # the DuplicateRecord error 0x80040237 (412, "A record with matching key values already exists.").
    task_id = str(uuid.uuid4())
    first = api.post("tasks", json=_task_body(fresh_emulator, activityid=task_id))
    assert first.status_code == 204 and first.headers["OData-EntityId"].endswith(f"tasks({task_id})")
    again = api.post("tasks", json=_task_body(fresh_emulator, activityid=task_id, subject="Retried"))
    assert again.status_code == 412
    assert again.json()["error"] == {
        "code": "0x80040237",
        "message": "A record with matching key values already exists.",
    }
    assert (
        api.get(f"tasks({task_id})", params={"$select": "subject"}).json()["subject"]
        == "Technical architecture review call"
    )


def test_bind_to_a_missing_record_is_404_and_creates_nothing(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # create-entity-web-api.md "Associate table rows on create": the bound record must exist.
    before = len(fresh_emulator.service.database.tables["task"])
    missing = "00000000-0000-4000-8000-00000000abcd"
    body = _task_body(fresh_emulator)
    body["regardingobjectid_msp_engagementmilestone@odata.bind"] = f"/msp_engagementmilestones({missing})"
    response = api.post("tasks", json=body)
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x80040217"
    assert len(fresh_emulator.service.database.tables["task"]) == before


def test_bind_to_unknown_navigation_property_is_payload_error(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # web-api-client-errors: "An undeclared property 'parentcustomerid' which only has property
    # annotations ...".
    body = _task_body(fresh_emulator)
    body["regardingobjectid@odata.bind"] = body.pop("regardingobjectid_msp_engagementmilestone@odata.bind")
    response = api.post("tasks", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "0x80048d19" and "undeclared property 'regardingobjectid'" in error["message"]


@pytest.mark.parametrize("field", ["Subject", "_regardingobjectid_value", "nonexistent"])
def test_unknown_attribute_is_refused(api: httpx.Client, fresh_emulator: EmulatorServer, field: str) -> None:
    # web-api-client-errors: "Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'".
    before = len(fresh_emulator.service.database.tables["task"])
    response = api.post("tasks", json=_task_body(fresh_emulator, **{field: "x"}))
    assert response.status_code == 400
    assert (
        f"Invalid property '{field}' was found in entity 'Microsoft.Dynamics.CRM.task'"
        in response.json()["error"]["message"]
    )
    assert len(fresh_emulator.service.database.tables["task"]) == before


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"", b'"text"', b"[" * 100_000, b"\xff\xfe{}"])
def test_bad_json_body_is_payload_error(
    api: httpx.Client, fresh_emulator: EmulatorServer, payload: bytes
) -> None:
    # web-api-client-errors "Error identified in Payload provided by the user" (0x80048d19).
    before = len(fresh_emulator.service.database.tables["account"])
    response = api.post("accounts", content=payload)
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80048d19"
    assert len(fresh_emulator.service.database.tables["account"]) == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("msp_taskcategory", "Demo"),
        ("msp_taskcategory", 12345),
        ("scheduleddurationminutes", "sixty"),
        ("subject", 42),
    ],
)
def test_wrong_value_type_is_refused(
    api: httpx.Client, fresh_emulator: EmulatorServer, field: str, value: object
) -> None:
    # web-api-client-errors "Error identified in Payload": values must match the column type.
    response = api.post("tasks", json=_task_body(fresh_emulator, **{field: value}))
    assert response.status_code == 400 and response.json()["error"]["code"] in ("0x80048d19", "0x80040203")


def test_system_columns_are_maintained(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # createdon/modifiedon/versionnumber are set by the server; client values for them are ignored.
    response = api.post(
        "accounts",
        json={"name": "Fresh Co", "createdon": "2001-01-01T00:00:00Z", "versionnumber": 1},
        headers={"Prefer": "return=representation"},
    )
    body = response.json()
    assert body["createdon"] != "2001-01-01T00:00:00Z" and body["createdon"] == body["modifiedon"]
    assert body["versionnumber"] > 1 and body["statecode"] == 0
    assert body["_ownerid_value"] == fresh_emulator.demo_user_id


def test_create_on_unknown_entity_set_is_404(api: httpx.Client) -> None:
    # web-api-client-errors "Resource not found for the segment" (entity set names are case-sensitive).
    response = api.post("Tasks", content=json.dumps({"subject": "x"}))
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x8006088a"


def test_bad_select_on_create_is_400_before_anything_is_written(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # create-entity-web-api.md "Create with data returned" ($select) + web-api-client-errors (unknown
    # property).
    before = len(fresh_emulator.service.database.tables["task"])
    response = api.post(
        "tasks",
        params={"$select": "Subject"},
        json=_task_body(fresh_emulator),
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x0"
    assert len(fresh_emulator.service.database.tables["task"]) == before
