"""Fixtures of the MSX tests: emulators of the sizes the import is judged at, a client, ground truth.

Ground truth is read straight from the emulator's in-memory tables (its service), not through any
callnotes.msx code, so a test compares the import with what MSX "really" holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from callnotes.dataverse import DataverseClient, EmulatorToken, RetryPolicy
from callnotes.emulator import EmulatorConfig, EmulatorServer

SELLER_ROLES = {"Cloud & AI", "Cloud & AI-Acq"}
SE_ROLES = {"Cloud & AI Data", "Cloud & AI Infrastructure", "Cloud & AI Apps"}
MILESTONE_TEMPLATE = "316e4735-9e83-eb11-a812-0022481e1be0"


def make_client(server: EmulatorServer, *, attempts: int = 10) -> DataverseClient:
    """A client signed in to ``server`` with short, generous retries (fast tests under faults)."""
    retry = RetryPolicy(max_attempts=attempts, base_delay=0.02, max_delay=1.0, budget=60.0)
    return DataverseClient(server.api_url, EmulatorToken(server.url), retry=retry)


@pytest.fixture(scope="session")
def emulator_200() -> Iterator[EmulatorServer]:
    """200 accounts for the demo user; read-only tests only (writers use their own server)."""
    with EmulatorServer(EmulatorConfig(accounts=200, seed=5)) as server:
        yield server


@pytest.fixture(scope="session")
def emulator_40() -> Iterator[EmulatorServer]:
    """40 accounts (the tricky names among them): read-only tests that need no 200-account scale."""
    with EmulatorServer(EmulatorConfig(accounts=40, seed=5)) as server:
        yield server


@pytest.fixture()
def client_40(emulator_40: EmulatorServer) -> Iterator[DataverseClient]:
    with make_client(emulator_40) as client:
        yield client


@pytest.fixture()
def writable_emulator() -> Iterator[EmulatorServer]:
    """A small emulator a test may write to or fault."""
    with EmulatorServer(EmulatorConfig(accounts=12, seed=3)) as server:
        yield server


@pytest.fixture()
def client_200(emulator_200: EmulatorServer) -> Iterator[DataverseClient]:
    with make_client(emulator_200) as client:
        yield client


@pytest.fixture()
def writable_client(writable_emulator: EmulatorServer) -> Iterator[DataverseClient]:
    with make_client(writable_emulator) as client:
        yield client


@pytest.fixture()
def sqlite_store(tmp_path):
    """A migrated SQLite store (for tests whose point is not the database engine)."""
    from callnotes.store import make_engine, make_session_factory, upgrade_database

    engine = make_engine(f"sqlite:///{tmp_path / 'msx-test.db'}")
    upgrade_database(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _pod(territory: str) -> str | None:
    parts = territory.split(".")
    code = parts[-1]
    return f"{parts[0]} POD {code[:2]}" if len(parts) == 4 and code[:2].isdigit() else None


@dataclass
class GroundTruth:
    """What the emulator holds for the demo user, computed from its tables."""

    accounts: dict[str, dict]
    territories: dict[str, dict]
    pods: set[str]
    sellers: set[str]
    engineers: set[str]
    team_by_account: dict[str, tuple[set[str], set[str]]]
    opportunities: dict[str, dict]
    milestones: dict[str, dict]
    my_team_milestones: set[str]
    emails: dict[str, str | None]
    tasks: dict[str, dict]


def ground_truth(server: EmulatorServer) -> GroundTruth:
    database = server.service.dataset.database
    mine = {a.lower() for a in server.service.dataset.my_account_ids}
    user = server.demo_user_id
    accounts = {i: r for i, r in database.table("account").rows.items() if i in mine}
    territories = {r["territoryid"]: database.table("territory").rows[r["territoryid"]]
                   for r in accounts.values() if r.get("territoryid")}
    team: dict[str, tuple[set[str], set[str]]] = {a: (set(), set()) for a in accounts}
    for row in database.table("msp_accountteam").rows.values():
        if row["msp_accountid"] not in mine or row["msp_qualifier1"] != "Corporate":
            continue
        if row["msp_qualifier2"] in SELLER_ROLES and "Specialists IC" in (row["msp_standardtitle"] or ""):
            team[row["msp_accountid"]][0].add(row["msp_systemuserid"])
        if row["msp_qualifier2"] in SE_ROLES:
            team[row["msp_accountid"]][1].add(row["msp_systemuserid"])
    memberships = database.table("teammembership").rows.values()
    my_teams = {m["teamid"] for m in memberships if m["systemuserid"] == user}
    my_team_milestones = {
        t["regardingobjectid"] for t in database.table("team").rows.values()
        if t["teamid"] in my_teams and t["teamtemplateid"] == MILESTONE_TEMPLATE and t["teamtype"] == 1
    }
    milestones = {i: r for i, r in database.table("msp_engagementmilestone").rows.items()
                  if r["msp_parentaccount"] in mine}
    users = database.table("systemuser").rows
    return GroundTruth(
        accounts=accounts,
        territories=territories,
        pods={p for t in territories.values() if (p := _pod(t["name"]))},
        sellers=set().union(*(s for s, _ in team.values())),
        engineers=set().union(*(e for _, e in team.values())),
        team_by_account=team,
        opportunities={i: r for i, r in database.table("opportunity").rows.items()
                       if r["parentaccountid"] in mine and r["statecode"] == 0},
        milestones=milestones,
        my_team_milestones=my_team_milestones,
        emails={u: users[u]["internalemailaddress"] for s, e in team.values() for u in s | e},
        tasks={i: r for i, r in database.table("task").rows.items() if r["regardingobjectid"] in milestones},
    )
