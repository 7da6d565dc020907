"""Associate / disassociate over real HTTP: @odata.bind null and nav: null on update, $ref on
single-valued navigation properties, and the N:N teammembership_association.

Docs: powerapps-docs/developer/data-platform/webapi/associate-disassociate-entities-using-web-api.md
("Change the reference in a single-valued navigation property", "Remove a reference to a table",
"Add a reference to a collection-valued navigation property", "Disassociate tables on update").
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client


@pytest.fixture()
def api(fresh_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(fresh_emulator, json_body=True) as client:
        yield client


def _opportunity(emulator: EmulatorServer) -> tuple[str, str]:
    db = emulator.service.database
    opportunity = next(iter(db.tables["opportunity"].rows.values()))
    other = next(a for a in db.tables["account"].rows if a != opportunity["parentaccountid"])
    return str(opportunity["opportunityid"]), other


def _parent(api: httpx.Client, opportunity: str) -> object:
    return api.get(f"opportunities({opportunity})", params={"$select": "_parentaccountid_value"}).json()[
        "_parentaccountid_value"
    ]


def test_put_ref_changes_and_delete_ref_clears_a_lookup(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # associate-disassociate…md "Change the reference in a single-valued navigation property", "Remove a
    # reference".
    opportunity, account = _opportunity(fresh_emulator)
    response = api.put(
        f"opportunities({opportunity})/parentaccountid/$ref",
        json={"@odata.id": f"{fresh_emulator.api_url}/accounts({account})"},
    )
    assert response.status_code == 204
    assert _parent(api, opportunity) == account
    assert api.delete(f"opportunities({opportunity})/parentaccountid/$ref").status_code == 204
    assert _parent(api, opportunity) is None


def test_bind_null_and_nav_null_disassociate_on_update(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # associate-disassociate…md "Disassociate tables on update" (both forms).
    opportunity, _ = _opportunity(fresh_emulator)
    assert (
        api.patch(f"opportunities({opportunity})", json={"parentaccountid@odata.bind": None}).status_code
        == 204
    )
    assert _parent(api, opportunity) is None
    task = next(iter(fresh_emulator.service.database.tables["task"].rows))
    assert (
        api.patch(f"tasks({task})", json={"regardingobjectid_msp_engagementmilestone": None}).status_code
        == 204
    )
    record = api.get(f"tasks({task})", params={"$select": "_regardingobjectid_value"}).json()
    assert record["_regardingobjectid_value"] is None


def test_put_ref_to_wrong_table_or_missing_record_changes_nothing(
    api: httpx.Client, fresh_emulator: EmulatorServer
) -> None:
    # web-api-navigation-properties.md: a navigation property targets one table.
    opportunity, _ = _opportunity(fresh_emulator)
    before = _parent(api, opportunity)
    wrong = api.put(
        f"opportunities({opportunity})/parentaccountid/$ref",
        json={"@odata.id": f"systemusers({fresh_emulator.demo_user_id})"},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "0x80048d19"
    missing = api.put(
        f"opportunities({opportunity})/parentaccountid/$ref",
        json={"@odata.id": "accounts(00000000-0000-4000-8000-000000000005)"},
    )
    assert missing.status_code == 404
    assert _parent(api, opportunity) == before


def test_team_membership_by_ref(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # An N:N collection-valued navigation property: POST …/$ref adds, DELETE …/$ref?$id= removes.
    user = fresh_emulator.demo_user_id
    db = fresh_emulator.service.database
    memberships = db.tables["teammembership"]
    mine = {memberships.rows[m]["teamid"] for m in memberships.lookup("systemuserid", user)}
    team = next(t for t in db.tables["team"].rows if t not in mine)

    def member() -> bool:
        rows = api.get(
            f"systemusers({user})/teammembership_association",
            params={"$filter": f"teamid eq {team}", "$select": "teamid"},
        ).json()["value"]
        return len(rows) == 1

    added = api.post(
        f"systemusers({user})/teammembership_association/$ref",
        json={"@odata.id": f"{fresh_emulator.api_url}/teams({team})"},
    )
    assert added.status_code == 204 and member()
    removed = api.delete(
        f"systemusers({user})/teammembership_association/$ref",
        params={"$id": f"{fresh_emulator.api_url}/teams({team})"},
    )
    assert removed.status_code == 204 and not member()
    api.post(f"systemusers({user})/teammembership_association/$ref", json={"@odata.id": f"teams({team})"})
    assert api.delete(f"systemusers({user})/teammembership_association({team})/$ref").status_code == 204
    assert not member()


def test_ref_on_unknown_navigation_is_404(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # web-api-client-errors "Resource not found for the segment".
    opportunity, account = _opportunity(fresh_emulator)
    response = api.put(
        f"opportunities({opportunity})/customerid_account/$ref", json={"@odata.id": f"accounts({account})"}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "0x8006088a"


def test_ref_without_odata_id_is_400(api: httpx.Client, fresh_emulator: EmulatorServer) -> None:
    # associate-disassociate…md: the body is {"@odata.id": "<uri>"}.
    opportunity, _ = _opportunity(fresh_emulator)
    response = api.put(f"opportunities({opportunity})/parentaccountid/$ref", json={"id": "x"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80048d19"
