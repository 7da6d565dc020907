"""The MSX pages of the web app against the emulator: status, import with progress, TPID lookup and
linking, milestone team buttons; every POST goes through the app's CSRF check."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from callnotes.config import Settings
from callnotes.msx import teams
from callnotes.store import Customer, Milestone, make_engine, make_session_factory
from callnotes.web.app import create_app
from tests.fixtures.msx import make_client


@pytest.fixture()
def web(writable_emulator, tmp_path) -> Iterator[TestClient]:
    settings = Settings(crm_url=writable_emulator.api_url, auth="emulator", data_dir=tmp_path / "data",
                        database_url=f"sqlite:///{tmp_path / 'web.db'}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
        yield client


def _store(tmp_path):
    return make_session_factory(make_engine(f"sqlite:///{tmp_path / 'web.db'}"))


def _import(web: TestClient) -> str:
    started = web.post("/msx/import")
    assert started.status_code == 200
    return _import_result(web)


def test_settings_show_who_i_am_and_the_token_expiry(web, writable_emulator):
    page = web.get("/settings").text
    assert 'hx-get="/msx/import"' in page and page.count("Signed in as") <= 1  # one place says who I am
    assert 'hx-get="/msx/status"' in web.get("/msx").text
    status = web.get("/msx/status").text
    assert "Connected" in status and writable_emulator.demo_user_id in status
    assert "Token expires" in status and "UTC" in status
    writable_emulator.configure(vpn_blocked=True)
    try:
        down = web.get("/msx/status").text
    finally:
        writable_emulator.configure(vpn_blocked=False)
    assert "Not connected" in down and "VPN seems down" in down


def test_import_now_needs_csrf_and_reports_progress(web, tmp_path):
    forged = web.post("/msx/import", headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    body = _import(web)
    assert "customers: 12 (12 new" in body
    with _store(tmp_path)() as session:
        assert session.scalar(select(func.count(Customer.id))) == 12


def test_tpid_lookup_fills_the_msx_link_and_linking_prevents_a_duplicate(web, writable_emulator, tmp_path):
    truth = writable_emulator.service.dataset
    account = truth.database.table("account").get(truth.my_account_ids[0])
    found = web.get("/msx/tpid", params={"tpid": account["msp_mstopparentid"]}).text
    assert account["name"] in html.unescape(found)
    assert f"etn=account&amp;id={account['accountid']}" in found and "appid=" in found
    assert web.get("/msx/tpid", params={"tpid": "12'; drop"}).status_code == 422
    as_json = web.get("/api/msx/accounts", params={"tpid": account["msp_mstopparentid"]})
    assert as_json.status_code == 200
    assert {a["id"] for a in as_json.json()["accounts"]} >= {account["accountid"]}
    assert all(a["msx_url"].endswith(f"id={a['id']}") for a in as_json.json()["accounts"])
    assert web.get("/api/msx/accounts", params={"tpid": "x&y"}).status_code == 422

    factory = _store(tmp_path)
    with factory() as session:
        customer = Customer(name="Typed by hand", tpid=account["msp_mstopparentid"])
        session.add(customer)
        session.commit()
        customer_id = customer.id
    unlinked = web.get("/msx/unlinked").text
    assert f"customer_id={customer_id}" in html.unescape(unlinked)
    offered = web.get("/msx/tpid", params={"tpid": account["msp_mstopparentid"], "customer_id": customer_id})
    assert f"/msx/customers/{customer_id}/link" in offered.text and account["accountid"] in offered.text
    linked = web.post(f"/msx/customers/{customer_id}/link", data={"account_id": account["accountid"]})
    assert linked.status_code == 200 and "Linked" in linked.text
    _import(web)
    with factory() as session:
        query = select(Customer).where(Customer.msx_id == account["accountid"])
        linked_rows = session.scalars(query).all()
    assert [(c.id, c.name) for c in linked_rows] == [(customer_id, account["name"])]


def _wait_team(factory, milestone_id: int, on_team: bool) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with factory() as session:
            if session.get(Milestone, milestone_id).on_my_team is on_team:
                return
        time.sleep(0.1)
    raise AssertionError("the team change did not land")


def test_join_and_leave_a_milestone_team(web, writable_emulator, tmp_path):
    """Through the outbox: "Joining…" at once, the mirror and MSX once it lands."""
    _import(web)
    factory = _store(tmp_path)
    with factory() as session:
        milestone = session.scalars(select(Milestone).where(Milestone.on_my_team.is_(False))).first()
        milestone_id, msx_id = milestone.id, milestone.msx_id
        on_team = session.scalars(select(Milestone).where(Milestone.on_my_team.is_(True))).first()
    page = web.get("/msx/milestones").text
    assert f"/milestones/{milestone_id}/team" in page and "Join team" in page
    mine_first = page.index(f"/milestones/{on_team.id}/team")
    assert mine_first < page.index(f"/milestones/{milestone_id}/team")
    user = writable_emulator.demo_user_id
    joined = web.post(f"/milestones/{milestone_id}/team", data={"action": "join"})
    assert joined.status_code == 200 and ("Joining…" in joined.text or "Leave team" in joined.text)
    _wait_team(factory, milestone_id, True)
    assert "Leave team" in web.get(f"/milestones/{milestone_id}/team").text
    with make_client(writable_emulator) as client:
        assert teams.team_memberships(client, user, teams.TeamKind.MILESTONE, [msx_id]) == {msx_id}
        left = web.post(f"/milestones/{milestone_id}/team", data={"action": "leave"})
        assert left.status_code == 200 and ("Leaving…" in left.text or "Join team" in left.text)
        _wait_team(factory, milestone_id, False)
        assert teams.team_memberships(client, user, teams.TeamKind.MILESTONE, [msx_id]) == set()
    assert web.post(f"/milestones/{milestone_id}/team", data={"action": "delete"}).status_code == 422
    assert web.post("/milestones/999999/team", data={"action": "join"}).status_code == 404


def test_an_import_can_be_cancelled_from_the_page(web, writable_emulator, tmp_path):
    writable_emulator.configure(latency_ms=300)
    try:
        started = web.post("/msx/import")
        assert "msx-import-cancel" in started.text and 'hx-trigger="every' in started.text
        web.post("/msx/import/cancel")
        body = _import_result(web)
    finally:
        writable_emulator.configure(latency_ms=0)
    assert "Import cancelled" in body
    with _store(tmp_path)() as session:
        assert session.scalar(select(func.count(Customer.id))) == 0


def _import_result(web: TestClient) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = web.get("/msx/import").text
        if "msx-import-summary" in body or "msx-import-error" in body:
            return body
        time.sleep(0.1)
    raise AssertionError("the import did not finish")
