"""``createdon`` / ``modifiedon`` as Dataverse keeps them, and ``$filter`` on them: what an incremental
refresh by ``modifiedon`` watermark relies on. A create stamps both, an update or an associate through
``$ref`` moves ``modifiedon`` only, and ``modifiedon gt|ge <datetime>`` finds exactly the rows written
since (powerapps-docs/developer/data-platform/webapi/query/filter-rows.md, date literals)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.fixtures.emulator import web_api_client

_SET = "msp_engagementmilestones"
_KEY = "msp_engagementmilestoneid"


def _row(api, record_id: str) -> dict:
    return api.get(f"{_SET}({record_id})", params={"$select": "createdon,modifiedon,msp_name"}).json()


def _since(api, moment: str, op: str = "gt") -> set[str]:
    rows = api.get(_SET, params={"$select": _KEY, "$filter": f"modifiedon {op} {moment}"}).json()["value"]
    return {r[_KEY] for r in rows}


def test_writes_keep_createdon_and_modifiedon_and_filters_find_them(fresh_emulator):
    dataset = fresh_emulator.service.dataset
    seeded = sorted(dataset.database.table("msp_engagementmilestone").rows)
    accounts = sorted(dataset.database.table("account").rows)
    start = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with web_api_client(fresh_emulator, json_body=True) as api:
        assert _since(api, start) == set()  # the seeded data is older
        before = _row(api, seeded[0])
        api.patch(f"{_SET}({seeded[0]})", json={"msp_name": "Renamed"}).raise_for_status()
        after = _row(api, seeded[0])
        created = str(uuid.uuid4())
        api.post(_SET, json={_KEY: created, "msp_name": "New"}).raise_for_status()
        api.put(f"{_SET}({seeded[1]})/msp_parentaccount/$ref",
                json={"@odata.id": f"{fresh_emulator.api_url}/accounts({accounts[0]})"}).raise_for_status()
        new = _row(api, created)

        assert after["createdon"] == before["createdon"] and after["modifiedon"] > before["modifiedon"]
        assert new["createdon"] == new["modifiedon"] >= start
        assert _since(api, start) == {seeded[0], seeded[1], created}
        assert _since(api, new["modifiedon"], "ge") >= {created}
        assert created not in _since(api, new["modifiedon"], "gt")
        assert _row(api, seeded[2])["modifiedon"] < start  # untouched rows keep theirs


def test_a_membership_change_shows_in_the_users_teams_at_once(fresh_emulator):
    """The refresh reads my access-team memberships whole each time (an N:N has no ``modifiedon`` of
    its own): associating and disassociating is visible on the next read."""
    dataset = fresh_emulator.service.dataset
    teams = dataset.database.table("team").rows
    me = dataset.demo_user_id
    path = f"systemusers({me})/teammembership_association"
    with web_api_client(fresh_emulator, json_body=True) as api:
        mine = {t["teamid"] for t in api.get(path, params={"$select": "teamid"}).json()["value"]}
        other = next(t for t in sorted(teams) if t not in mine)
        reference = {"@odata.id": f"{fresh_emulator.api_url}/teams({other})"}
        api.post(f"{path}/$ref", json=reference).raise_for_status()
        joined = {t["teamid"] for t in api.get(path, params={"$select": "teamid"}).json()["value"]}
        api.delete(f"{path}({other})/$ref").raise_for_status()
        left = {t["teamid"] for t in api.get(path, params={"$select": "teamid"}).json()["value"]}
    assert joined == mine | {other} and left == mine
