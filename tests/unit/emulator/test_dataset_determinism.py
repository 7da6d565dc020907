"""The generated data set: deterministic for (seed, accounts) and shaped as the contract says.

Emulator contract "The data set": identical data, GUIDs included, for the same seed and size; the
demo user assigned to N accounts among about 3N through msp_accountteams and account access
teams, about 2 % (at least one when N >= 10) only through the access team.
"""

from __future__ import annotations

import json

from callnotes.emulator.dataset import build_dataset
from callnotes.emulator.table_definitions import ACCOUNT_TEAM_TEMPLATE_ID, CLOUD_ROLES


def _dump(seed: int, accounts: int) -> str:
    database = build_dataset(seed, accounts).database
    return json.dumps({name: list(t.rows.values()) for name, t in database.tables.items()}, sort_keys=True)


def test_same_seed_and_size_give_identical_data() -> None:
    assert _dump(3, 12) == _dump(3, 12)


def test_different_seed_gives_different_data() -> None:
    assert _dump(3, 12) != _dump(4, 12)


def test_demo_user_assignment_is_the_union_of_both_sources() -> None:
    dataset = build_dataset(5, 25)
    db = dataset.database
    user = dataset.demo_user_id
    teams = db.tables["msp_accountteam"]
    via_teams = {str(teams.rows[i]["msp_accountid"]) for i in teams.lookup("msp_systemuserid", user)}
    memberships = db.tables["teammembership"]
    via_access = set()
    for membership_id in memberships.lookup("systemuserid", user):
        team = db.tables["team"].rows[str(memberships.rows[membership_id]["teamid"])]
        if team["teamtemplateid"] == ACCOUNT_TEAM_TEMPLATE_ID:
            via_access.add(str(team["regardingobjectid"]))
    assert via_teams | via_access == set(dataset.my_account_ids)
    assert len(dataset.my_account_ids) == 25
    assert 1 <= len(dataset.access_only_account_ids) <= 2
    assert set(dataset.access_only_account_ids) == via_access - via_teams
    assert 70 <= len(db.tables["account"]) <= 80


def test_each_demo_account_has_a_large_team_with_20_to_30_corporate_cloud_roles() -> None:
    dataset = build_dataset(5, 10)
    teams = dataset.database.tables["msp_accountteam"]
    for account_id in dataset.my_account_ids:
        rows = [teams.rows[i] for i in teams.lookup("msp_accountid", account_id)]
        cloud = [
            r
            for r in rows
            if r["msp_qualifier1"] == "Corporate" and str(r["msp_qualifier2"]).startswith("Cloud ")
        ]
        assert len(rows) >= 250
        assert 20 <= len(cloud) <= 32  # 20-30 team members plus the demo user's own row(s)
        assert {r["msp_qualifier2"] for r in cloud} == set(CLOUD_ROLES)
        assert any(
            r["msp_standardtitle"] == "Specialists IC" and r["msp_qualifier2"] == "Cloud & AI" for r in cloud
        )


def test_cloud_roles_include_non_sellers_so_the_title_filter_matters() -> None:
    # msx-integration-guide.md "Identifying Sellers vs SEs": without the "Specialists IC" title filter
    # you also get CSU, CSA and managers.
    dataset = build_dataset(5, 10)
    teams = dataset.database.tables["msp_accountteam"]
    cloud_sellers_roles = [
        teams.rows[i]
        for a in dataset.my_account_ids
        for i in teams.lookup("msp_accountid", a)
        if teams.rows[i]["msp_qualifier1"] == "Corporate"
        and teams.rows[i]["msp_qualifier2"] in ("Cloud & AI", "Cloud & AI-Acq")
    ]
    titles = {str(r["msp_standardtitle"]) for r in cloud_sellers_roles}
    assert "Specialists IC" in titles and titles - {"Specialists IC"}
    others = [r for r in teams.rows.values() if not str(r["msp_qualifier2"]).startswith("Cloud ")]
    assert any(r["msp_qualifier1"] == "Corporate" for r in others)  # qualifier1 alone is not enough


def test_identical_across_processes_with_different_hash_seeds() -> None:
    # Set iteration order changes with PYTHONHASHSEED; the data set must not depend on it.
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json; from callnotes.emulator.dataset import build_dataset; "
        "d = build_dataset(9, 6).database; "
        "print(hashlib.sha256(json.dumps({n: list(t.rows.values()) for n, t in d.tables.items()}, "
        "sort_keys=True).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
