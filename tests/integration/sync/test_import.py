"""The account import against the emulator over HTTP: ground truth, idempotence, faults, quirks."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from callnotes.dataverse import MAX_BATCH_PARTS, BatchRequest
from callnotes.msx.errors import ImportCancelled, VpnDown
from callnotes.msx.progress import CancelToken, ProgressEvent
from callnotes.store import Customer, Milestone, Note, Opportunity, Task
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.sync.importing import run_import
from tests.fixtures.msx import ground_truth, make_client
from tests.fixtures.store_picture import store_picture

#: The issue's budget for a 200-account import (a count, not a timing).
MAX_REQUESTS_200 = 8


def _stats(server) -> dict:
    return httpx.get(f"{server.url}/_emulator/stats", timeout=10).json()


def _reset(server) -> None:
    httpx.post(f"{server.url}/_emulator/stats/reset", timeout=10).raise_for_status()


def test_import_of_200_accounts_is_exactly_what_the_emulator_holds(emulator_200, client_200, session_factory):
    truth = ground_truth(emulator_200)
    assert len(truth.accounts) == 200
    _reset(emulator_200)

    summary = run_import(client_200, session_factory)

    assert _stats(emulator_200)["requests"] <= MAX_REQUESTS_200
    assert summary.http_requests <= MAX_REQUESTS_200
    with session_factory() as session:
        picture = store_picture(session)
    assert picture["customers"].keys() == truth.accounts.keys()
    for account_id, (name, tpid, territory, url, sellers, engineers, live) in picture["customers"].items():
        row = truth.accounts[account_id]
        expected = (row["name"], row["msp_mstopparentid"], row["territoryid"], True)
        assert (name, tpid, territory, live) == expected
        assert url.endswith(f"&etn=account&id={account_id}")
        assert (set(sellers), set(engineers)) == truth.team_by_account[account_id]
    assert {k: v[0] for k, v in picture["territories"].items()} == {
        k: v["name"] for k, v in truth.territories.items()}
    assert set(picture["pods"]) == truth.pods
    assert picture["sellers"].keys() == truth.sellers
    assert picture["solution_engineers"].keys() == truth.engineers
    assert picture["opportunities"].keys() == truth.opportunities.keys()
    assert picture["milestones"].keys() == truth.milestones.keys()
    on_team = {k for k, v in picture["milestones"].items() if v[7]}
    assert on_team == truth.my_team_milestones & truth.milestones.keys()
    on_deal_team = {k for k, v in picture["opportunities"].items() if v[3]}
    assert on_deal_team and on_deal_team == truth.my_deal_teams & truth.opportunities.keys()
    for milestone_id, values in picture["milestones"].items():
        assert values[0] == truth.milestones[milestone_id]["msp_name"]
        assert values[2] == truth.milestones[milestone_id]["msp_milestonestatus"]
    assert summary.kind("customers").created == 200
    people = {**picture["sellers"], **picture["solution_engineers"]}
    assert {user: values[2] for user, values in people.items()} == truth.emails
    assert all(truth.emails.values())  # every seller and SE gets a Teams chat link
    _assert_tasks_match(picture["tasks"], truth.tasks)


#: Task ``statecode`` labels (powerapps-docs/developer/data-platform/reference/entities/task.md).
_TASK_STATES = {0: "Open", 1: "Completed", 2: "Canceled"}
#: The eight hands-on-keyboard ``msp_taskcategory`` codes (reference/001, "HoK Task Categories").
_HOK_CODES = {861980004, 861980006, 861980008, 861980007, 861980002, 861980005, 606820005, 861980001}


def _assert_tasks_match(stored: dict, truth: dict) -> None:
    """Tasks regarding my milestones: subject, category, HoK flag, duration, state, milestone."""
    assert stored.keys() == truth.keys() and truth
    for task_id, (subject, code, hok, minutes, state, milestone, live) in stored.items():
        row = truth[task_id]
        assert (subject, code, minutes, milestone, live) == (
            row["subject"], row["msp_taskcategory"], row["scheduleddurationminutes"],
            row["regardingobjectid"], True)
        assert hok == (code in _HOK_CODES)
        assert state == _TASK_STATES[row["statecode"]]
    assert {v[2] for v in stored.values()} == {True, False}  # both kinds present


def test_second_import_changes_nothing_and_keeps_notes(client_40, session_factory):
    run_import(client_40, session_factory)
    with session_factory() as session:
        customer_id = session.scalar(select(Milestone.customer_id).limit(1))
        query = select(Milestone.id).where(Milestone.customer_id == customer_id).limit(1)
        milestone_id = session.scalar(query)
        note = create_note(session, NoteInput(body="Talked *migration*", call_date=date(2026, 11, 20),
                                              customer_id=customer_id, milestone_ids=[milestone_id]))
        session.commit()
        note_id, before = note.id, store_picture(session)

    summary = run_import(client_40, session_factory)

    assert summary.changed == 0
    with session_factory() as session:
        assert store_picture(session) == before
        kept = session.get(Note, note_id)
        assert kept is not None and kept.customer_id == customer_id
        assert [m.id for m in kept.milestones] == [milestone_id]


def test_records_gone_from_msx_are_marked_not_dropped(writable_emulator, writable_client, sqlite_store):
    session_factory = sqlite_store
    run_import(writable_client, session_factory)
    dataset = writable_emulator.service.dataset
    mine = {a.lower() for a in dataset.my_account_ids}
    not_mine = next(i for i in dataset.database.table("account").rows if i not in mine)
    vanished = "0badc0de-0000-4000-8000-000000000000"
    with session_factory() as session:
        milestone = session.scalars(select(Milestone).where(Milestone.customer_id.is_not(None))).first()
        note = create_note(session, NoteInput(body="x", call_date=date(2026, 11, 21),
                                              customer_id=milestone.customer_id,
                                              milestone_ids=[milestone.id]))
        session.add_all([Customer(name="Linked by TPID, not on my team", msx_id=not_mine),
                         Customer(name="Deleted from MSX", msx_id=vanished)])
        session.commit()
        gone_id, note_id = milestone.msx_id, note.id
        won_id = session.scalars(select(Opportunity.msx_id)).first()
        other_tasks = select(Task.msx_id).join(Task.milestone).where(Milestone.msx_id != gone_id)
        task_id = session.scalars(other_tasks).first()
    writable_client.delete("msp_engagementmilestones", gone_id)
    writable_client.delete("tasks", task_id)
    writable_client.update("opportunities", won_id, {"statecode": 1, "statuscode": 3})  # closed as won

    summary = run_import(writable_client, session_factory)

    assert summary.kind("milestones").marked_gone == 1
    assert summary.kind("customers").marked_gone == 1
    assert summary.kind("tasks").marked_gone >= 1
    assert summary.http_requests == 5  # the usual 4 rounds + 1 to ask MSX about the unseen records
    with session_factory() as session:
        row = session.scalar(select(Milestone).where(Milestone.msx_id == gone_id))
        assert row is not None and row.gone_from_msx_at is not None
        assert [m.msx_id for m in session.get(Note, note_id).milestones] == [gone_id]
        customers = {c.msx_id: c.gone_from_msx_at for c in session.scalars(select(Customer))}
        assert customers[not_mine] is None  # still in MSX, just not mine: not "gone"
        assert customers[vanished] is not None
        won = session.scalar(select(Opportunity).where(Opportunity.msx_id == won_id))
        assert (won.state, won.gone_from_msx_at) == ("Won", None)  # no longer open, not gone
        task = session.scalar(select(Task).where(Task.msx_id == task_id))
        assert task is not None and task.gone_from_msx_at is not None


def test_faults_and_a_429_storm_end_with_the_same_store_as_a_clean_import(writable_emulator, tmp_path):
    from callnotes.store import make_engine, make_session_factory, upgrade_database

    def fresh_store(name: str):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        upgrade_database(engine)
        return make_session_factory(engine)

    clean, faulty = fresh_store("clean.db"), fresh_store("faulty.db")
    with make_client(writable_emulator) as client:
        run_import(client, clean)
    _reset(writable_emulator)
    writable_emulator.configure(
        fault_rate=0.3, throttle={"requests_per_window": 3, "window_seconds": 1.0},
        fail_next=[{"fault": 429, "times": 3, "retry_after": 1}])
    try:
        with make_client(writable_emulator, attempts=20) as client:
            run_import(client, faulty)
        by_status = _stats(writable_emulator)["by_status"]
    finally:
        writable_emulator.configure(fault_rate=0.0, throttle=False, fail_next=[])
    assert by_status.get("429", 0) >= 3, by_status  # the storm happened (and maybe more)
    with clean() as a, faulty() as b:
        assert store_picture(b) == store_picture(a)


def test_tricky_names_survive(emulator_40, client_40, sqlite_store):
    session_factory = sqlite_store
    run_import(client_40, session_factory)
    truth = ground_truth(emulator_40)
    tricky = {r["name"] for r in truth.accounts.values() if any(ch in r["name"] for ch in "'&#") or
              not r["name"].isascii()}
    assert any("'" in n for n in tricky) and any("&" in n for n in tricky)
    assert any("#" in n for n in tricky) and any(not n.isascii() for n in tricky)
    with session_factory() as session:
        stored = {v[0] for v in store_picture(session)["customers"].values()}
    assert tricky <= stored


def test_progress_reaches_every_phase_and_cancel_leaves_the_store_untouched(client_40, sqlite_store):
    session_factory = sqlite_store
    events: list[ProgressEvent] = []
    run_import(client_40, session_factory, progress=events.append)
    phases = {e.phase for e in events}
    assert {"signing in", "assignments", "accounts", "account teams", "opportunities", "milestones",
            "territories", "saving"} <= phases
    last = {e.phase: e for e in events}
    assert all(e.done == e.total for e in last.values())

    with session_factory() as session:
        before = store_picture(session)
    cancel = CancelToken()

    def cancel_on_accounts(event: ProgressEvent) -> None:
        if event.phase == "accounts":
            cancel.cancel()

    with pytest.raises(ImportCancelled):
        run_import(client_40, session_factory, progress=cancel_on_accounts, cancel=cancel)
    with session_factory() as session:
        assert store_picture(session) == before


def test_vpn_down_is_one_actionable_error(writable_emulator, writable_client, sqlite_store):
    session_factory = sqlite_store
    writable_emulator.configure(vpn_blocked=True)
    try:
        with pytest.raises(VpnDown, match="VPN seems down"):
            run_import(writable_client, session_factory)
    finally:
        writable_emulator.configure(vpn_blocked=False)


def test_a_full_account_team_query_is_split_and_everyone_still_gets_an_email(
        writable_emulator, writable_client, sqlite_store):
    """110 more SEs on one account: its 3-account team query comes back cut at 100 rows, is split (per
    account, then per role), and the user reads wait for the splits; still within the request budget."""
    database = writable_emulator.service.dataset.database
    account = sorted(a.lower() for a in writable_emulator.service.dataset.my_account_ids)[0]
    users = sorted(database.table("systemuser").rows)[:110]
    added = [BatchRequest("POST", "msp_accountteams", body={
        "msp_accountid@odata.bind": f"/accounts({account})",
        "msp_systemuserid@odata.bind": f"/systemusers({u})",
        "msp_fullname": f"SE {i}", "msp_qualifier1": "Corporate", "msp_qualifier2": "Cloud & AI Data",
        "msp_standardtitle": "Solution Engineer"}) for i, u in enumerate(users)]
    assert all(r.ok for r in writable_client.batch(added, chunk_size=MAX_BATCH_PARTS))
    truth = ground_truth(writable_emulator)
    assert len(truth.team_by_account[account][1]) >= 100
    _reset(writable_emulator)

    summary = run_import(writable_client, sqlite_store)

    assert _stats(writable_emulator)["requests"] <= MAX_REQUESTS_200
    with sqlite_store() as session:
        picture = store_picture(session)
    assert set(picture["customers"][account][5]) == truth.team_by_account[account][1]
    people = {**picture["sellers"], **picture["solution_engineers"]}
    assert {user: values[2] for user, values in people.items()} == truth.emails
    assert summary.http_requests == 7  # 4 rounds + split per account, per role, continued by user id


def test_import_brings_what_the_customer_page_and_tracker_show(emulator_200, client_200, session_factory):
    """Revenue, sales stage and owner of opportunities, the milestones' commitment, the tasks' day."""
    truth = ground_truth(emulator_200)
    run_import(client_200, session_factory)
    stages = {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}
    commitments = {861980000: "Uncommitted", 861980001: "Committed", 861980002: "Committed at Risk"}
    opportunities = emulator_200.service.dataset.database.table("opportunity").rows
    with session_factory() as session:
        stored = session.scalars(select(Opportunity)).all()
        assert stored
        for opportunity in stored:
            row = opportunities[opportunity.msx_id]
            assert opportunity.estimated_value == row["estimatedvalue"]
            assert opportunity.stage == stages[row["salesstage"]]
            assert opportunity.owner_name
        for milestone in session.scalars(select(Milestone)).all():
            code = truth.milestones[milestone.msx_id]["msp_commitmentrecommendation"]
            assert milestone.commitment == commitments[code]
        assert all(t.task_date is not None for t in session.scalars(select(Task)).all())
