"""MSX quirks the import must survive (100-row cap without nextLink, expired token), the
one-request-per-query baseline, and ``callnotes import accounts`` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from callnotes.dataverse import AccessToken, DataverseClient, ODataFilter, RetryPolicy
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.msx.importer import fetch_snapshot
from callnotes.sync.importing import run_import
from tests.fixtures.msx import make_client

ROLES = ("Cloud & AI", "Cloud & AI-Acq", "Cloud & AI Data", "Cloud & AI Infrastructure", "Cloud & AI Apps")


@pytest.fixture(scope="module")
def emulator_600():
    with EmulatorServer(EmulatorConfig(accounts=600, seed=4)) as server:
        yield server


def test_account_team_cap_of_100_rows_is_worked_around(emulator_600):
    server = emulator_600
    user = server.demo_user_id
    rows = server.service.dataset.database.table("msp_accountteam").rows.values()
    mine = [r for r in rows if r["msp_systemuserid"] == user and r["msp_qualifier2"] in ROLES]
    assigned = {r["msp_accountid"] for r in mine}
    with make_client(server) as client:
        # the quirk is real: my rows for the most common role come back cut at 100, without a nextLink
        biggest = max(ROLES, key=lambda role: sum(1 for r in mine if r["msp_qualifier2"] == role))
        flt = ODataFilter.eq("_msp_systemuserid_value", user) & ODataFilter.eq("msp_qualifier2", biggest)
        page = client.get("msp_accountteams", {"$filter": str(flt), "$select": "_msp_accountid_value"})
        assert len(page["value"]) == 100 and "@odata.nextLink" not in page

        snapshot, stats = fetch_snapshot(client)
    assert set(snapshot.my_roles) == assigned
    assert snapshot.my_account_ids == {a.lower() for a in server.service.dataset.my_account_ids}
    assert set(snapshot.accounts) == snapshot.my_account_ids
    assert stats.rounds > 4  # the capped role queries were continued by key in extra rounds


def test_baseline_one_request_per_query_reads_the_same(emulator_200):
    with make_client(emulator_200) as client:
        batched, fast = fetch_snapshot(client)
        single, slow = fetch_snapshot(client, batched=False)
    assert single == batched
    assert fast.http_requests <= 8 < slow.http_requests
    assert slow.http_requests >= fast.parts


class _ExpiresOnce:
    """A token provider whose first token has already expired at the emulator (401), then good ones."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._stale = server.mint_token(expires_in=1)
        self.refreshes = 0

    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        if force_refresh:
            self.refreshes += 1
            self._stale = None
        token = self._stale or self._server.mint_token(expires_in=3600)
        return AccessToken(token, datetime.now(UTC) + timedelta(hours=1))


def test_import_survives_a_token_that_expired_mid_session(writable_emulator, sqlite_store):
    provider = _ExpiresOnce(writable_emulator)
    time.sleep(1.2)
    retry = RetryPolicy(base_delay=0.02, max_delay=0.5)
    with DataverseClient(writable_emulator.api_url, provider, retry=retry) as client:
        summary = run_import(client, sqlite_store)
    assert provider.refreshes == 1
    assert summary.kind("customers").created == 12


def _cli(env_extra: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env.update({"CALLNOTES_DATA_DIR": str(tmp_path), **env_extra})
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", "import", "accounts"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_import_accounts_exit_codes(writable_emulator, tmp_path):
    done = _cli({"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "emulator"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "customers: 12 (12 new" in done.stdout
    again = _cli({"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "emulator"}, tmp_path)
    assert again.returncode == 0 and "customers: 12 (0 new, 0 gone" in again.stdout
    assert "0 existing records updated" in again.stdout

    writable_emulator.configure(vpn_blocked=True)
    try:
        blocked = _cli({"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "emulator"},
                       tmp_path)
    finally:
        writable_emulator.configure(vpn_blocked=False)
    assert blocked.returncode == 1
    errors = [line for line in blocked.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "VPN seems down" in errors[0]
    assert "Traceback" not in blocked.stderr


def test_the_round_runner_follows_next_links_page_by_page(emulator_200):
    from callnotes.msx.rounds import Read, RoundRunner
    from callnotes.msx.transport import BatchTransport

    expected = set(emulator_200.service.dataset.database.table("opportunity").rows)
    got: list[dict] = []

    def keep(rows):
        got.extend(rows)
        return []

    with make_client(emulator_200) as client, BatchTransport(client) as transport:
        runner = RoundRunner(transport)
        read = Read("paging", "opportunities", {"$select": "opportunityid"}, on_done=keep, page_size=250)
        runner.run([read])
    assert {r["opportunityid"] for r in got} == expected and len(got) == len(expected)
    assert runner.rounds == -(-len(expected) // 250)  # one round per page
