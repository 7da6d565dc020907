"""The customer form's TPID lookup against the emulator: the picked MSX account is saved with the
customer (no copy-paste), and every failure is a sentence in the form, not a stack trace."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from callnotes.config import Settings
from callnotes.emulator import EmulatorServer
from callnotes.store import Customer, Milestone, make_engine, make_session_factory
from callnotes.store.models import OutboxItem
from callnotes.sync.connection import DEMO_URL_ENV
from callnotes.web.app import create_app

_FORM = {"mode": "form"}


def _client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
        yield client


@pytest.fixture()
def crm_settings(emulator: EmulatorServer, database_url: str, tmp_path: Path) -> Settings:
    return Settings(crm_url=emulator.api_url, auth="emulator", data_dir=tmp_path / "data",
                    database_url=database_url)


@pytest.fixture()
def web(crm_settings: Settings) -> Iterator[TestClient]:
    yield from _client(crm_settings)


def _tpids(server: EmulatorServer) -> tuple[dict[str, str], str]:
    """TPID → account id for TPIDs with one account, and a TPID shared by several (read from the
    emulator's own tables, not through callnotes.msx)."""
    dataset = server.service.dataset
    rows = [dataset.database.table("account").get(i) for i in dataset.my_account_ids]
    counts = Counter(row["msp_mstopparentid"] for row in rows)
    single = {r["msp_mstopparentid"]: r["accountid"] for r in rows if counts[r["msp_mstopparentid"]] == 1}
    return single, next(t for t, n in counts.items() if n > 1)


def _customers(settings: Settings) -> list[tuple[str, str | None, str | None]]:
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(Customer).order_by(Customer.id))
            return [(c.name, c.msx_id, c.msx_url) for c in rows]
    finally:
        engine.dispose()


def test_the_form_offers_the_lookup(web):
    page = web.get("/customers/new").text
    assert 'hx-get="/msx/tpid"' in page and 'hx-include="#tpid"' in page and "data-swap-errors" in page


def test_one_account_is_picked_and_saved_with_the_customer(web, emulator, crm_settings):
    single, _ = _tpids(emulator)
    tpid, account_id = next(iter(single.items()))
    found = web.get("/msx/tpid", params={"tpid": tpid, **_FORM})
    assert found.status_code == 200 and 'id="tpid-found"' in found.text
    picked = re.search(r'name="msx_account_id" value="([^"]+)" checked', found.text)
    assert picked and picked.group(1) == account_id
    saved = web.post("/customers", data={"name": "Picked Co", "tpid": tpid, "msx_account_id": account_id},
                     follow_redirects=False)
    assert saved.status_code == 303
    page = web.get(saved.headers["location"]).text
    link = re.search(r'href="([^"]+)"[^>]*id="open-in-msx"', page)
    assert link and f"id={account_id}" in html.unescape(link.group(1)) and "appid=" in link.group(1)
    [(name, msx_id, msx_url)] = _customers(crm_settings)
    assert (name, msx_id) == ("Picked Co", account_id) and msx_url.endswith(f"id={account_id}")
    # the same account cannot be linked to a second customer; nothing of the first is lost
    again = web.post("/customers", data={"name": "Copy", "tpid": tpid, "msx_account_id": account_id})
    assert again.status_code == 422 and "already linked" in html.unescape(again.text)
    assert [c[0] for c in _customers(crm_settings)] == ["Picked Co"]


def test_the_link_button_refuses_an_account_linked_to_another_customer(web, emulator, crm_settings):
    single, _ = _tpids(emulator)
    tpid, account_id = next(iter(single.items()))
    first = web.post("/customers", data={"name": "First", "tpid": tpid, "msx_account_id": account_id},
                     follow_redirects=False)
    second = web.post("/customers", data={"name": "Second", "tpid": tpid}, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    unlinked = html.unescape(web.get("/msx/unlinked").text)
    second_id = int(second.headers["location"].rsplit("/", 1)[1])
    assert f"customer_id={second_id}" in unlinked and "First" not in unlinked
    refused = web.post(f"/msx/customers/{second_id}/link", data={"account_id": account_id})
    assert refused.status_code == 409
    assert "already linked to the customer 'First'" in html.unescape(refused.text)
    assert [(name, msx_id) for name, msx_id, _ in _customers(crm_settings)] == [
        ("First", account_id), ("Second", None)]


def test_several_accounts_ask_for_a_pick(web, emulator):
    _, shared = _tpids(emulator)
    found = web.get("/msx/tpid", params={"tpid": shared, **_FORM}).text
    assert "Several MSX accounts share TPID" in found
    assert found.count('name="msx_account_id"') == 3  # two accounts + "No MSX link"
    assert " checked" not in found


def test_unknown_and_malformed_tpids_say_so(web):
    none = web.get("/msx/tpid", params={"tpid": "999999999", **_FORM})
    assert none.status_code == 200 and "MSX has no account with TPID 999999999" in none.text
    bad = web.get("/msx/tpid", params={"tpid": "12'; drop", **_FORM})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert "a TPID is a number" in html.unescape(bad.text)


def test_a_bad_pick_is_refused_and_nothing_is_stored(web, crm_settings):
    refused = web.post("/customers", data={"name": "Forged", "msx_account_id": "not-a-guid"})
    assert refused.status_code == 422 and "not valid" in refused.text
    assert 'value="Forged"' in refused.text
    assert _customers(crm_settings) == []


def test_editing_keeps_changes_or_removes_the_link(web, emulator, crm_settings):
    single, _ = _tpids(emulator)
    tpid, account_id = next(iter(single.items()))
    location = web.post("/customers", data={"name": "Keep", "tpid": tpid, "msx_account_id": account_id},
                        follow_redirects=False).headers["location"]
    edit = web.get(f"{location}/edit").text
    assert 'id="msx-current"' in edit and "msx_account_id" not in edit
    web.post(location, data={"name": "Keep renamed", "tpid": tpid})
    assert _customers(crm_settings)[0][:2] == ("Keep renamed", account_id)
    web.post(location, data={"name": "Keep renamed", "tpid": tpid, "msx_account_id": "none"})
    assert _customers(crm_settings)[0] == ("Keep renamed", None, None)


def test_vpn_down_is_named(fresh_emulator, tmp_path):
    settings = Settings(crm_url=fresh_emulator.api_url, auth="emulator", data_dir=tmp_path / "data",
                        database_url=f"sqlite:///{tmp_path / 'v.db'}")
    fresh_emulator.configure(vpn_blocked=True)
    for web in _client(settings):
        down = web.get("/msx/tpid", params={"tpid": "123", **_FORM})
        assert down.status_code == 502 and "VPN seems down" in down.text and 'role="alert"' in down.text
        assert down.text.count("VPN seems down") == 1
        milestone_id = _add_milestone(settings)
        join = web.post(f"/milestones/{milestone_id}/team", data={"action": "join"})  # queued, not lost
        assert join.status_code == 200 and "Joining…" in join.text and "VPN" not in join.text
    engine = make_engine(settings.resolved_database_url())
    with make_session_factory(engine)() as session:
        assert session.get(Milestone, milestone_id).on_my_team is False  # not until MSX has it
        assert [r.state.value for r in session.scalars(select(OutboxItem))] in (["pending"], ["sending"])
    engine.dispose()


def _add_milestone(settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url())
    with make_session_factory(engine)() as session:
        milestone = Milestone(name="Blocked", msx_id="0b9d1e2f-0000-4000-8000-000000000001")
        session.add(milestone)
        session.commit()
        milestone_id = milestone.id
    engine.dispose()
    return milestone_id


def test_not_signed_in_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv(DEMO_URL_ENV, raising=False)
    settings = Settings(crm_url=None, data_dir=tmp_path / "data",
                        database_url=f"sqlite:///{tmp_path / 'n.db'}")
    for web in _client(settings):
        answer = web.get("/msx/tpid", params={"tpid": "123", **_FORM})
        assert answer.status_code == 502 and "Not signed in to MSX" in answer.text
        assert "/msx" in answer.text


def test_a_link_without_the_csrf_token_is_refused(web, emulator, crm_settings):
    single, _ = _tpids(emulator)
    tpid, account_id = next(iter(single.items()))
    forged = web.post("/customers", data={"name": "Forged", "tpid": tpid, "msx_account_id": account_id},
                      headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert _customers(crm_settings) == []


def test_an_unreachable_crm_is_named(tmp_path):
    settings = Settings(crm_url="http://127.0.0.1:9/api/data/v9.2", auth="emulator", data_dir=tmp_path / "d",
                        database_url=f"sqlite:///{tmp_path / 'u.db'}")
    for web in _client(settings):
        answer = web.get("/msx/tpid", params={"tpid": "123", **_FORM})
        assert answer.status_code == 502 and 'role="alert"' in answer.text
        assert "Not signed in to MSX" in answer.text or "cannot be reached" in answer.text
