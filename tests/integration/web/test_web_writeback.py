"""Write-back through the JSON API (DESIGN.md §Contracts): a note with tasks reaches MSX through the
app's own worker; bad tasks save nothing; ask mode, approve / discard / retry; milestone edits and
team changes answer 202 with their outbox rows; opportunity close dates and deal teams likewise.
SQLite and PostgreSQL, the emulator over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from callnotes.config import Settings
from callnotes.domain import HokCategory, WritebackMode
from callnotes.msx.accounts import who_am_i
from callnotes.msx.opportunities import get_opportunity
from callnotes.msx.teams import TeamKind, on_team
from callnotes.store import make_engine, make_session_factory
from callnotes.store.models import Opportunity
from callnotes.sync.connection import open_client
from callnotes.sync.importing import run_import
from callnotes.web.app import create_app


@pytest.fixture()
def app_settings(writeback_emulator, tmp_path, database_url) -> Settings:
    settings = Settings(crm_url=writeback_emulator.url, auth="emulator", data_dir=tmp_path / "data",
                        database_url=database_url, queue_name=f"web-{tmp_path.name[-40:]}")
    engine = make_engine(database_url)
    try:
        with open_client(settings) as client:
            run_import(client, make_session_factory(engine))
    finally:
        engine.dispose()
    return settings


@contextmanager
def _client_in_mode(settings: Settings, mode: WritebackMode, monkeypatch) -> Iterator[TestClient]:
    """The app with ``CALLNOTES_WRITEBACK=mode`` (the environment wins), CSRF token in hand."""
    monkeypatch.setenv("CALLNOTES_WRITEBACK", mode.value)
    app = create_app(settings.model_copy(update={"writeback": mode}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
        yield client


@pytest.fixture()
def api(app_settings, monkeypatch) -> Iterator[TestClient]:
    with _client_in_mode(app_settings, WritebackMode.AUTO, monkeypatch) as client:
        yield client


def _milestones(api: TestClient) -> list[dict]:
    return [m for m in api.get("/api/milestones").json() if m["msx_id"] and m["customer_id"]]


def _note(milestone: dict, **extra) -> dict:
    return {"customer_id": milestone["customer_id"], "body": "# ADS\n\nWe drew the landing zone.",
            "call_date": "2026-12-01", "topics": ["aks"], **extra}


def _wait_sent(api: TestClient, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = api.get("/api/outbox").json()
        if len(rows) >= count and all(r["state"] == "sent" for r in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"not sent: {api.get('/api/outbox').json()}")


def test_a_note_with_two_tasks_reaches_msx_through_the_app(api, writeback_emulator) -> None:
    milestone = _milestones(api)[0]
    tasks = [{"milestone_id": milestone["id"], "category": int(HokCategory.ARCHITECTURE_DESIGN_SESSION),
              "duration_minutes": 90},
             {"milestone_id": milestone["id"], "category": int(HokCategory.DEMO), "subject": "Demo of AKS",
              "due": "2026-12-03", "description": "the demo"}]
    created = api.post("/api/notes", json=_note(milestone, tasks=tasks))
    assert created.status_code == 201, created.text
    outbox_ids = created.json()["outbox_ids"]
    assert len(outbox_ids) == 2
    rows = _wait_sent(api, 2)
    assert {r["id"] for r in rows} == set(outbox_ids) and all(r["crm_id"] for r in rows)
    assert rows[-1]["summary"].startswith("Create HoK task 'ADS' (Architecture Design Session, 90 min)")
    note = api.get(f"/api/notes/{created.json()['id']}").json()
    assert {t["state"] for t in note["tasks"]} == {"sent"} and {t["subject"] for t in note["tasks"]} == {
        "ADS", "Demo of AKS"}
    msx = writeback_emulator.service.dataset.database.table("task").rows
    demo = msx[next(t["crm_id"] for t in note["tasks"] if t["subject"] == "Demo of AKS")]
    assert (demo["description"], demo["scheduledend"][:10]) == ("the demo", "2026-12-03")


@pytest.mark.parametrize("bad", [
    {"milestone_id": 999_999, "category": int(HokCategory.DEMO)},
    {"category": 42},
    {"category": int(HokCategory.DEMO), "subject": "x" * 201},
    {"category": int(HokCategory.DEMO), "duration_minutes": 0},
    {"category": int(HokCategory.DEMO), "colour": "red"},
    {"category": "861980002"},
])
def test_a_bad_task_saves_neither_the_note_nor_a_row(api, bad) -> None:
    milestone = _milestones(api)[0]
    notes_before = len(api.get("/api/notes").json())
    answer = api.post("/api/notes", json=_note(milestone, tasks=[{"milestone_id": milestone["id"], **bad}]))
    assert answer.status_code == 422, answer.text
    assert len(api.get("/api/notes").json()) == notes_before and api.get("/api/outbox").json() == []


def test_a_milestone_of_another_customer_is_refused(api) -> None:
    milestones = _milestones(api)
    mine = milestones[0]
    other = next(m for m in milestones if m["customer_id"] != mine["customer_id"])
    task = {"milestone_id": other["id"], "category": 861980002}
    answer = api.post("/api/notes", json=_note(mine, tasks=[task]))
    assert answer.status_code == 422 and "customer" in answer.text
    assert api.get("/api/outbox").json() == []


def test_write_back_off_queues_nothing(app_settings, monkeypatch) -> None:
    with _client_in_mode(app_settings, WritebackMode.OFF, monkeypatch) as api:
        milestone = _milestones(api)[0]
        answer = api.post("/api/notes", json=_note(milestone, tasks=[
            {"milestone_id": milestone["id"], "category": 861980002}]))
        assert answer.status_code == 409 and "off" in answer.text
        assert api.get("/api/notes").json() == [] and api.get("/api/outbox").json() == []


def test_ask_mode_waits_for_approval_and_the_state_rules_hold(app_settings, monkeypatch) -> None:
    with _client_in_mode(app_settings, WritebackMode.ASK, monkeypatch) as api:
        milestone = _milestones(api)[0]
        ids = api.post("/api/notes", json=_note(milestone, tasks=[
            {"milestone_id": milestone["id"], "category": 861980002},
            {"milestone_id": milestone["id"], "category": 861980001}])).json()["outbox_ids"]
        time.sleep(1.0)  # the worker runs, and must send nothing
        assert {r["state"] for r in api.get("/api/outbox").json()} == {"awaiting_approval"}
        assert api.get("/api/outbox", params={"state": "awaiting_approval"}).json()[0]["id"] in ids
        assert api.post(f"/api/outbox/{ids[1]}/discard").json()["state"] == "discarded"
        assert api.post(f"/api/outbox/{ids[0]}/approve").json()["state"] in ("pending", "sending", "sent")
        _wait = time.monotonic() + 30
        while api.get("/api/outbox", params={"state": "sent"}).json() == [] and time.monotonic() < _wait:
            time.sleep(0.1)
        assert [r["id"] for r in api.get("/api/outbox", params={"state": "sent"}).json()] == [ids[0]]
        assert api.post(f"/api/outbox/{ids[0]}/discard").status_code == 409  # sent: cannot be called back
        assert api.post(f"/api/outbox/{ids[1]}/approve").status_code == 409
        assert api.post("/api/outbox/999999/retry").status_code == 404
        assert api.get("/api/outbox", params={"state": "lost"}).status_code == 422


def test_milestone_edits_and_team_changes_answer_202_with_their_rows(api) -> None:
    milestone = _milestones(api)[0]
    changes = {"milestone_date": "2027-02-01", "status": "At Risk", "comment": "slipping a month"}
    edit = api.patch(f"/api/milestones/{milestone['id']}", json=changes)
    assert edit.status_code == 202 and len(edit.json()["outbox_ids"]) == 2
    assert api.patch(f"/api/milestones/{milestone['id']}", json={"status": "Sort of fine"}).status_code == 422
    assert api.patch(f"/api/milestones/{milestone['id']}", json={}).status_code == 422
    assert api.patch(f"/api/milestones/{milestone['id']}", json={"monthly_use": -5}).status_code == 422
    # (each refused edit queued nothing: only the first edit's two rows and the team row go out)
    team = api.post(f"/api/milestones/{milestone['id']}/team", json={"join": not milestone["on_my_team"]})
    assert team.status_code == 202 and len(team.json()["outbox_ids"]) == 1
    assert api.post(f"/api/milestones/{milestone['id']}/team", json={"join": "yes"}).status_code == 422
    assert api.post("/api/milestones/999999/team", json={"join": True}).status_code == 422
    rows = _wait_sent(api, 3)
    assert any("At Risk" in r["summary"] for r in rows)
    after = next(m for m in api.get("/api/milestones").json() if m["id"] == milestone["id"])
    assert (after["status_label"], after["milestone_date"], after["on_my_team"]) == (
        "At Risk", "2027-02-01", not milestone["on_my_team"])
    assert api.post("/api/sync").status_code == 202
    forged = api.post("/api/sync", headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403


def _opportunity(settings: Settings) -> tuple[int, str]:
    """A mirrored opportunity: its local id and its MSX id."""
    engine = make_engine(settings.database_url or "")
    try:
        with make_session_factory(engine)() as session:
            row = session.execute(select(Opportunity.id, Opportunity.msx_id)
                                  .where(Opportunity.msx_id.is_not(None)).order_by(Opportunity.id)).first()
    finally:
        engine.dispose()
    assert row is not None
    return row[0], str(row[1])


def test_deal_team_and_close_date_reach_msx_through_the_outbox(api, app_settings) -> None:
    local_id, msx_id = _opportunity(app_settings)
    first = api.patch(f"/api/opportunities/{local_id}", json={"estimated_close_date": "2027-03-31"})
    assert first.status_code == 202 and len(first.json()["outbox_ids"]) == 1
    team = api.post(f"/api/opportunities/{local_id}/team", json={"join": True})
    assert team.status_code == 202 and len(team.json()["outbox_ids"]) == 1
    rows = _wait_sent(api, 2)
    assert {r["kind"] for r in rows} == {"update_opportunity", "join_deal_team"}
    with open_client(app_settings) as client:
        assert get_opportunity(client, msx_id).estimated_close_date == date(2027, 3, 31)
        me = who_am_i(client).user_id
        assert msx_id in on_team(client, me, TeamKind.OPPORTUNITY, [msx_id])
    leave = api.post(f"/api/opportunities/{local_id}/team", json={"join": False})
    assert leave.status_code == 202
    _wait_sent(api, 3)
    with open_client(app_settings) as client:
        assert on_team(client, who_am_i(client).user_id, TeamKind.OPPORTUNITY, [msx_id]) == set()


def test_opportunity_writes_refuse_bad_input_and_queue_nothing(app_settings, monkeypatch) -> None:
    local_id, _ = _opportunity(app_settings)
    with _client_in_mode(app_settings, WritebackMode.ASK, monkeypatch) as api:
        path = f"/api/opportunities/{local_id}"
        for body in ({}, {"estimated_close_date": "31/03/2027"}, {"estimated_close_date": 20270331},
                     {"estimated_close_date": "2027-03-31", "extra": 1}):
            assert api.patch(path, json=body).status_code == 422, body
        assert api.post(f"{path}/team", json={"join": "yes"}).status_code == 422
        assert api.patch("/api/opportunities/999999", json={"estimated_close_date": "2027-03-31"}
                         ).status_code == 404
        assert api.post("/api/opportunities/999999/team", json={"join": True}).status_code == 404
        assert api.get("/api/outbox").json() == []
        # a second date before the first was approved replaces it; joining then leaving cancels out
        first = api.patch(path, json={"estimated_close_date": "2027-03-31"}).json()["outbox_ids"]
        second = api.patch(path, json={"estimated_close_date": "2027-04-30"}).json()["outbox_ids"]
        assert api.post(f"{path}/team", json={"join": True}).json()["outbox_ids"]
        assert api.post(f"{path}/team", json={"join": False}).json()["outbox_ids"] == []
        states = {r["id"]: r["state"] for r in api.get("/api/outbox").json()}
        assert states[first[0]] == "discarded" and states[second[0]] == "awaiting_approval"
        assert sorted(states.values()) == ["awaiting_approval", "discarded", "discarded"]
    with _client_in_mode(app_settings, WritebackMode.OFF, monkeypatch) as api:
        off = api.patch(f"/api/opportunities/{local_id}", json={"estimated_close_date": "2027-05-31"})
        assert off.status_code == 409 and "off" in off.json()["detail"][0]["msg"].lower()
