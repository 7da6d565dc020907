"""Updates, upserts, deletes and ETag preconditions over real HTTP.

Docs: powerapps-docs/developer/data-platform/webapi/update-delete-entities-using-web-api.md (PATCH
update, upsert creates when missing, DELETE) and perform-conditional-operations-using-web-api.md
("Prevent create in upsert" If-Match: * → 404; "Prevent update in upsert" If-None-Match: * → 412;
optimistic concurrency: stale If-Match → 412 "The version of the existing record doesn't match the
RowVersion property provided."). The milestone body is shared/reference/msx-api-catalog.md §4.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client

MISMATCH = {
    "code": "0x80060882",
    "message": "The version of the existing record doesn't match the RowVersion property provided.",
}


@pytest.fixture()
def api(fresh_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(fresh_emulator, json_body=True) as client:
        yield client


@pytest.fixture()
def milestone(fresh_emulator: EmulatorServer) -> str:
    return next(iter(fresh_emulator.service.database.tables["msp_engagementmilestone"].rows))


def _get(api: httpx.Client, milestone: str) -> dict[str, object]:
    return api.get(
        f"msp_engagementmilestones({milestone})",
        params={
            "$select": "msp_milestonedate,msp_monthlyuse,msp_forecastcommentsjsonfield,msp_forecastcomments,"
            "modifiedon,versionnumber"
        },
    ).json()


def test_patch_updates_the_milestone_and_its_etag(api: httpx.Client, milestone: str) -> None:
    # update-delete-entities-using-web-api.md: PATCH → 204; the record's version (ETag) changes.
    before = _get(api, milestone)
    comments = json.dumps([{"text": "Customer confirmed", "author": "Dana Whitfield", "date": "2026-03-01"}])
    response = api.patch(
        f"msp_engagementmilestones({milestone})",
        json={
            "msp_milestonedate": "2026-03-15",
            "msp_monthlyuse": 1500.00,
            "msp_forecastcommentsjsonfield": comments,
            "msp_forecastcomments": "Plain text summary of comments",
        },
    )
    assert response.status_code == 204
    after = _get(api, milestone)
    assert after["msp_milestonedate"] == "2026-03-15" and after["msp_monthlyuse"] == 1500.0
    assert json.loads(str(after["msp_forecastcommentsjsonfield"]))[0]["text"] == "Customer confirmed"
    assert after["@odata.etag"] != before["@odata.etag"]
    assert int(after["versionnumber"]) > int(before["versionnumber"])  # type: ignore[call-overload]


def test_patch_with_matching_etag_succeeds(api: httpx.Client, milestone: str) -> None:
    # perform-conditional-operations-using-web-api.md "Apply optimistic concurrency on update": a match is
    # 204.
    tag = _get(api, milestone)["@odata.etag"]
    response = api.patch(
        f"msp_engagementmilestones({milestone})",
        json={"msp_monthlyuse": 10.0},
        headers={"If-Match": str(tag)},
    )
    assert response.status_code == 204


def test_patch_with_stale_etag_is_412_and_changes_nothing(api: httpx.Client, milestone: str) -> None:
    # perform-conditional-operations-using-web-api.md "Apply optimistic concurrency on update".
    stale = _get(api, milestone)
    api.patch(f"msp_engagementmilestones({milestone})", json={"msp_monthlyuse": 11.0})
    response = api.patch(
        f"msp_engagementmilestones({milestone})",
        json={"msp_monthlyuse": 99.0},
        headers={"If-Match": str(stale["@odata.etag"])},
    )
    assert response.status_code == 412 and response.json()["error"] == MISMATCH
    assert _get(api, milestone)["msp_monthlyuse"] == 11.0


def test_patch_upserts_a_missing_record(api: httpx.Client) -> None:
    # update-delete-entities-using-web-api.md "Use Upsert to create or update a record".
    new_id = str(uuid.uuid4())
    response = api.patch(f"accounts({new_id})", json={"name": "Upserted Ltd", "msp_mstopparentid": "123"})
    assert response.status_code == 204 and response.headers["OData-EntityId"].endswith(f"accounts({new_id})")
    assert api.get(f"accounts({new_id})", params={"$select": "name"}).json()["name"] == "Upserted Ltd"


def test_if_match_star_prevents_create(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # perform-conditional-operations-using-web-api.md "Prevent create in upsert".
    new_id = str(uuid.uuid4())
    response = api.patch(f"accounts({new_id})", json={"name": "Should not exist"}, headers={"If-Match": "*"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"account With Id = {new_id} Does Not Exist"
    assert fresh_emulator.service.database.tables["account"].get(new_id) is None


def test_if_none_match_star_prevents_update(api: httpx.Client, milestone: str) -> None:
    # perform-conditional-operations-using-web-api.md "Prevent update in upsert".
    before = _get(api, milestone)
    response = api.patch(
        f"msp_engagementmilestones({milestone})", json={"msp_monthlyuse": 5.0}, headers={"If-None-Match": "*"}
    )
    assert response.status_code == 412
    assert response.json()["error"]["message"] == "A record with matching key values already exists."
    assert _get(api, milestone)["msp_monthlyuse"] == before["msp_monthlyuse"]


def test_patch_with_return_representation_is_200(api: httpx.Client, milestone: str) -> None:
    # update-delete-entities-using-web-api.md "Update with data returned".
    response = api.patch(
        f"msp_engagementmilestones({milestone})",
        params={"$select": "msp_monthlyuse"},
        json={"msp_monthlyuse": 42.5},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 200 and response.json()["msp_monthlyuse"] == 42.5


def test_patch_with_unknown_attribute_changes_nothing(api: httpx.Client, milestone: str) -> None:
    # web-api-client-errors "Invalid property ... was found in entity".
    before = _get(api, milestone)
    response = api.patch(
        f"msp_engagementmilestones({milestone})", json={"msp_monthlyuse": 1.0, "msp_bogus": 1}
    )
    assert response.status_code == 400
    assert _get(api, milestone) == before


def test_delete_then_404(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # update-delete-entities-using-web-api.md "Basic delete"; missing record → 404 0x80040217.
    task_id = next(iter(fresh_emulator.service.database.tables["task"].rows))
    assert api.delete(f"tasks({task_id})").status_code == 204
    assert api.get(f"tasks({task_id})").status_code == 404
    again = api.delete(f"tasks({task_id})")
    assert again.status_code == 404 and again.json()["error"]["code"] == "0x80040217"


def test_delete_with_stale_etag_is_412(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # perform-conditional-operations-using-web-api.md "Apply optimistic concurrency on delete".
    task_id = next(iter(fresh_emulator.service.database.tables["task"].rows))
    response = api.delete(f"tasks({task_id})", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 412 and response.json()["error"] == MISMATCH
    assert api.get(f"tasks({task_id})").status_code == 200


def test_patch_body_key_must_match_url(api: httpx.Client, milestone: str) -> None:
    # update-delete-entities-using-web-api.md: the URL names the record; a different key in the body is
    # refused.
    response = api.patch(
        f"msp_engagementmilestones({milestone})", json={"msp_engagementmilestoneid": str(uuid.uuid4())}
    )
    assert response.status_code == 400


def test_failed_changeset_rolls_back_through_the_service(fresh_emulator: EmulatorServer) -> None:
    # execute-batch-operations-using-web-api.md "Change sets": all or nothing. The transport wraps
    # changeset parts in service.transaction(); a failing part raises inside it.
    from callnotes.emulator.messages import ApiRequest

    service = fresh_emulator.service
    before = len(service.database.tables["account"])
    request = ApiRequest(
        "POST",
        "accounts",
        "",
        {"content-type": "application/json"},
        b'{"name": "In changeset"}',
        service.demo_user_id,
        fresh_emulator.api_url,
    )
    with pytest.raises(RuntimeError), service.transaction():
        assert service.handle(request).status == 204
        raise RuntimeError("second part failed")
    assert len(service.database.tables["account"]) == before


def test_if_none_match_star_still_creates_a_missing_record(api: httpx.Client) -> None:
    # perform-conditional-operations-using-web-api.md "Prevent update in upsert": 204 when not found.
    new_id = str(uuid.uuid4())
    response = api.patch(f"accounts({new_id})", json={"name": "Insert only"}, headers={"If-None-Match": "*"})
    assert response.status_code == 204
    assert api.get(f"accounts({new_id})", params={"$select": "name"}).json()["name"] == "Insert only"
