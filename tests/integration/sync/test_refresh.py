"""The incremental refresh against the emulator over HTTP: changes made in MSX by another client reach
the store, records gone are marked, a refresh that finds nothing costs one request and writes nothing,
watermarks only move forward, faults leave the store and the watermarks as they were."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import pytest
from sqlalchemy import event, select

from callnotes.dataverse import DataverseClient, EmulatorToken, RetryPolicy, Throttled, TransportError
from callnotes.msx import teams
from callnotes.msx.errors import VpnDown
from callnotes.store import Milestone, Note, Opportunity, Task
from callnotes.store.models import Customer, MsxWatermark
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.sync.importing import run_import
from callnotes.sync.refresh_job import refresh_error, refresh_or_import
from callnotes.sync.refreshing import NothingImported, run_refresh
from tests.fixtures.emulator import web_api_client
from tests.fixtures.store_picture import store_picture

HOK_CATEGORY = 861980004  # "Architecture Design Session" (reference/001, HoK task categories)


def _stats(server) -> dict:
    return httpx.get(f"{server.url}/_emulator/stats", timeout=10).json()


def _reset(server) -> None:
    httpx.post(f"{server.url}/_emulator/stats/reset", timeout=10).raise_for_status()


def _configure(server, **settings) -> None:
    httpx.post(f"{server.url}/_emulator/config", json=settings, timeout=10).raise_for_status()


def _marks(session_factory) -> dict:
    with session_factory() as session:
        return {m.name: (m.modified_on, m.row_count, m.value) for m in session.scalars(select(MsxWatermark))}


@contextmanager
def _writes_counted(session_factory) -> Iterator[list[str]]:
    """Every INSERT / UPDATE / DELETE the store's engine runs while the block runs."""
    engine = session_factory.kw["bind"]
    seen: list[str] = []

    def _count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _some(session, model, *conditions):
    query = select(model).where(model.msx_id.is_not(None), *conditions).order_by(model.id)
    return session.scalars(query).first()


def test_changes_made_in_msx_reach_the_store_on_the_next_refresh(writable_emulator, writable_client,
                                                                 session_factory):
    run_import(writable_client, session_factory)
    with session_factory() as session:
        milestone = _some(session, Milestone, Milestone.opportunity_id.is_not(None))
        opportunity = _some(session, Opportunity, Opportunity.state == "Open")
        note = create_note(session, NoteInput(body="ADS done", call_date=date(2026, 11, 30),
                                              customer_id=milestone.customer_id,
                                              milestone_ids=[milestone.id]))
        session.commit()
        milestone_id, milestone_msx, note_id = milestone.id, milestone.msx_id, note.id
        opportunity_msx = opportunity.msx_id
        customer = session.get(Customer, milestone.customer_id)
        team = ({s.msx_id for s in customer.sellers}, {e.msx_id for e in customer.solution_engineers})
    new_task = str(uuid.uuid4())
    with web_api_client(writable_emulator, json_body=True) as other:  # a second client: someone in MSX
        milestone_path = f"msp_engagementmilestones({milestone_msx})"
        other.patch(milestone_path, json={"msp_name": "Renamed in MSX"}).raise_for_status()
        other.post("tasks", json={
            "activityid": new_task, "subject": "Follow-up workshop", "msp_taskcategory": HOK_CATEGORY,
            "scheduleddurationminutes": 90,
            "regardingobjectid_msp_engagementmilestone@odata.bind": f"/{milestone_path}",
        }).raise_for_status()
        closing = {"statecode": 1, "statuscode": 3}
        other.patch(f"opportunities({opportunity_msx})", json=closing).raise_for_status()
        other.patch(f"accounts({customer.msx_id})", json={"name": "Contoso Renamed"}).raise_for_status()
    before = _marks(session_factory)
    _reset(writable_emulator)

    summary = run_refresh(writable_client, session_factory)

    assert _stats(writable_emulator)["requests"] == summary.http_requests <= 2
    assert summary.changed == 4
    with session_factory() as session:
        renamed = session.get(Milestone, milestone_id)
        assert renamed.name == "Renamed in MSX" and renamed.gone_from_msx_at is None
        task = session.scalars(select(Task).where(Task.msx_id == new_task)).one()
        assert (task.subject, task.is_hok, task.duration_minutes, task.state, task.milestone_id) == (
            "Follow-up workshop", True, 90, "Open", milestone_id)
        closed = session.scalars(select(Opportunity).where(Opportunity.msx_id == opportunity_msx)).one()
        assert closed.state == "Won" and closed.gone_from_msx_at is None
        assert [m.id for m in session.get(Note, note_id).milestones] == [milestone_id]
        renamed_customer = session.get(Customer, customer.id)
        assert renamed_customer.name == "Contoso Renamed"  # and its account team is left as it was
        assert ({s.msx_id for s in renamed_customer.sellers},
                {e.msx_id for e in renamed_customer.solution_engineers}) == team and team[0] | team[1]
    after = _marks(session_factory)
    assert after["msp_engagementmilestones"][0] > before["msp_engagementmilestones"][0]
    assert after["tasks"][0] > before["tasks"][0]


def test_a_refresh_that_finds_nothing_sends_one_request_and_writes_nothing(writable_emulator, writable_client,
                                                                           session_factory):
    run_import(writable_client, session_factory)
    run_refresh(writable_client, session_factory)
    with session_factory() as session:
        picture = store_picture(session)
    marks = _marks(session_factory)
    _reset(writable_emulator)

    with _writes_counted(session_factory) as writes:
        summary = run_refresh(writable_client, session_factory)

    assert writes == []
    assert summary.changed == 0
    assert _stats(writable_emulator)["requests"] == summary.http_requests == 1
    assert _marks(session_factory) == marks
    with session_factory() as session:
        assert store_picture(session) == picture


def test_records_gone_from_msx_are_marked_and_notes_keep_them(writable_emulator, writable_client,
                                                              session_factory):
    run_import(writable_client, session_factory)
    with session_factory() as session:
        milestone = _some(session, Milestone)
        task = _some(session, Task, Task.milestone_id != milestone.id)
        note = create_note(session, NoteInput(body="about to vanish", call_date=date(2026, 11, 30),
                                              customer_id=milestone.customer_id,
                                              milestone_ids=[milestone.id]))
        session.commit()
        milestone_id, milestone_msx, task_id, task_msx, note_id = (
            milestone.id, milestone.msx_id, task.id, task.msx_id, note.id)
    with web_api_client(writable_emulator) as other:
        other.delete(f"tasks({task_msx})").raise_for_status()
        other.delete(f"msp_engagementmilestones({milestone_msx})").raise_for_status()

    summary = run_refresh(writable_client, session_factory)

    assert summary.kind("milestones").marked_gone == 1 and summary.kind("tasks").marked_gone >= 1
    with session_factory() as session:
        assert session.get(Milestone, milestone_id).gone_from_msx_at is not None
        assert session.get(Task, task_id).gone_from_msx_at is not None
        kept = session.get(Note, note_id)
        assert [m.id for m in kept.milestones] == [milestone_id]
        assert session.scalar(select(Milestone).where(Milestone.gone_from_msx_at.is_not(None)
                                                      ).with_only_columns(Milestone.id)) == milestone_id
    # marked once: the next refresh finds nothing more
    assert run_refresh(writable_client, session_factory).changed == 0


def test_a_new_milestone_comes_with_its_tasks_and_a_team_change_with_the_team(writable_emulator,
                                                                              writable_client, sqlite_store):
    session_factory = sqlite_store
    run_import(writable_client, session_factory)
    dataset = writable_emulator.service.dataset
    with session_factory() as session:
        customer = _some(session, Customer)
        account, customer_id = customer.msx_id, customer.id
        sellers_before = {s.msx_id for s in customer.sellers}
    users = dataset.database.table("systemuser").rows
    newcomer = next(u for u in sorted(users) if u not in sellers_before and u != dataset.demo_user_id.lower())
    milestone, task = str(uuid.uuid4()), str(uuid.uuid4())
    with web_api_client(writable_emulator, json_body=True) as other:
        other.post("msp_engagementmilestones", json={
            "msp_engagementmilestoneid": milestone, "msp_name": "Brand new milestone",
            "msp_parentaccount@odata.bind": f"/accounts({account})"}).raise_for_status()
        other.post("tasks", json={
            "activityid": task, "subject": "Kick-off",
            "regardingobjectid_msp_engagementmilestone@odata.bind": f"/msp_engagementmilestones({milestone})",
        }).raise_for_status()
        other.post("msp_accountteams", json={
            "msp_name": "newcomer", "msp_fullname": "New Seller", "msp_qualifier1": "Corporate",
            "msp_qualifier2": "Cloud & AI", "msp_standardtitle": "Specialists IC",
            "msp_accountid@odata.bind": f"/accounts({account})",
            "msp_systemuserid@odata.bind": f"/systemusers({newcomer})"}).raise_for_status()

    run_refresh(writable_client, session_factory)

    with session_factory() as session:
        stored = session.scalars(select(Milestone).where(Milestone.msx_id == milestone)).one()
        assert (stored.name, stored.customer_id) == ("Brand new milestone", customer_id)
        assert session.scalars(select(Task).where(Task.msx_id == task)).one().milestone_id == stored.id
        assert {s.msx_id for s in session.get(Customer, customer_id).sellers} == sellers_before | {newcomer}
    assert run_refresh(writable_client, session_factory).http_requests == 1


def _team_action(server, action: str, kind: teams.TeamKind, record_id: str) -> None:
    """Another client joins me to (or removes me from) a record's access team in MSX."""
    me = server.service.dataset.demo_user_id
    with web_api_client(server, json_body=True) as other:
        other.post(f"systemusers({me})/Microsoft.Dynamics.CRM.{action}", json={
            "Record": {"@odata.type": f"Microsoft.Dynamics.CRM.{kind.value}", kind.key: record_id},
            "TeamTemplate": {"@odata.type": "Microsoft.Dynamics.CRM.teamtemplate",
                             "teamtemplateid": kind.template_id}}).raise_for_status()


def test_on_my_team_follows_my_milestone_team_memberships(writable_emulator, writable_client, sqlite_store):
    session_factory = sqlite_store
    run_import(writable_client, session_factory)
    with session_factory() as session:
        milestone = _some(session, Milestone, Milestone.on_my_team.is_(False))
        milestone_id, milestone_msx = milestone.id, milestone.msx_id
    _team_action(writable_emulator, "AddUserToRecordTeam", teams.TeamKind.MILESTONE, milestone_msx)

    assert run_refresh(writable_client, session_factory).changed == 1

    with session_factory() as session:
        assert session.get(Milestone, milestone_id).on_my_team is True


def test_deal_team_flags_follow_my_deal_team_memberships(writable_emulator, writable_client, sqlite_store):
    """The import mirrors which open opportunities have me on their deal team (as MSX's own membership
    query answers); a join and a leave made elsewhere reach the store on the next refresh."""
    session_factory = sqlite_store
    run_import(writable_client, session_factory)
    with session_factory() as session:
        stored = dict(session.execute(select(Opportunity.msx_id, Opportunity.on_my_team).where(
            Opportunity.msx_id.is_not(None), Opportunity.state == "Open")).all())
    in_msx = teams.on_team(writable_client, writable_emulator.service.dataset.demo_user_id,
                           teams.TeamKind.OPPORTUNITY, list(stored))
    assert in_msx and len(in_msx) < len(stored)  # the demo data set has both kinds
    assert {msx_id for msx_id, flag in stored.items() if flag} == in_msx
    joined = min(set(stored) - in_msx)
    left = min(in_msx)
    _team_action(writable_emulator, "AddUserToRecordTeam", teams.TeamKind.OPPORTUNITY, joined)
    _team_action(writable_emulator, "RemoveUserFromRecordTeam", teams.TeamKind.OPPORTUNITY, left)

    assert run_refresh(writable_client, session_factory).changed == 2

    with session_factory() as session:
        flags = dict(session.execute(select(Opportunity.msx_id, Opportunity.on_my_team).where(
            Opportunity.msx_id.in_([joined, left]))).all())
        assert flags == {joined: True, left: False}
    assert run_refresh(writable_client, session_factory).changed == 0


def test_an_account_newly_mine_is_left_to_a_full_import(writable_emulator, writable_client, sqlite_store):
    session_factory = sqlite_store
    run_import(writable_client, session_factory)
    me = writable_emulator.service.dataset.demo_user_id
    account = str(uuid.uuid4())
    with web_api_client(writable_emulator, json_body=True) as other:
        fabrikam = {"accountid": account, "name": "Fabrikam New", "msp_mstopparentid": "4242"}
        other.post("accounts", json=fabrikam).raise_for_status()
        other.post("msp_accountteams", json={
            "msp_name": "me", "msp_qualifier1": "Corporate", "msp_qualifier2": "Cloud & AI Data",
            "msp_accountid@odata.bind": f"/accounts({account})",
            "msp_systemuserid@odata.bind": f"/systemusers({me})"}).raise_for_status()

    refreshed = run_refresh(writable_client, session_factory)

    assert refreshed.new_accounts == 1 and refreshed.http_requests == 1
    with session_factory() as session:
        assert session.scalars(select(Customer).where(Customer.msx_id == account)).first() is None
    summary = refresh_or_import(writable_client, session_factory)
    assert summary.kind("customers").created == 1
    with session_factory() as session:
        new = session.scalars(select(Customer).where(Customer.msx_id == account)).one()
        assert new.name == "Fabrikam New"
    assert run_refresh(writable_client, session_factory).new_accounts == 0


def test_nothing_imported_yet_is_said(writable_client, sqlite_store):
    with pytest.raises(NothingImported, match="import your accounts first"):
        run_refresh(writable_client, sqlite_store)


def _fragile_client(server) -> DataverseClient:
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, budget=5.0)
    return DataverseClient(server.api_url, EmulatorToken(server.url), retry=retry)


@pytest.mark.parametrize("fault", ["vpn", "429", "drop_mid_refresh"])
def test_faults_leave_the_store_and_the_watermarks_as_they_were(writable_emulator, writable_client,
                                                                session_factory, fault):
    run_import(writable_client, session_factory)
    with session_factory() as session:
        account = _some(session, Customer).msx_id
    with web_api_client(writable_emulator, json_body=True) as other:  # a change that needs a second round
        other.post("msp_engagementmilestones", json={
            "msp_name": "Needs its tasks read", "msp_parentaccount@odata.bind": f"/accounts({account})"})
    with session_factory() as session:
        picture = store_picture(session)
    marks = _marks(session_factory)
    progress = None
    if fault == "vpn":
        _configure(writable_emulator, vpn_blocked=True)
    elif fault == "429":
        _configure(writable_emulator, fail_next=[{"fault": 429, "retry_after": 1, "times": 50}])
    else:  # round one answers; the connection drops on every try of round two
        armed: list[bool] = []

        def progress(_event) -> None:
            if not armed:
                armed.append(True)
                _configure(writable_emulator, fail_next=[{"fault": "drop", "times": 50}])
    expected = {"vpn": VpnDown, "429": Throttled, "drop_mid_refresh": TransportError}[fault]

    with _fragile_client(writable_emulator) as client, pytest.raises(expected) as raised:
        run_refresh(client, session_factory, **({"progress": progress} if progress else {}))

    _configure(writable_emulator, vpn_blocked=False, fail_next=[])
    with session_factory() as session:
        assert store_picture(session) == picture
    assert _marks(session_factory) == marks
    sentence = refresh_error(raised.value)
    assert sentence.endswith("The mirror was not changed; it refreshes again on the next try.")
    assert {"vpn": "VPN", "429": "throttling", "drop_mid_refresh": "cannot be reached"}[fault] in sentence
    # and the next refresh, MSX answering again, brings the change
    assert run_refresh(writable_client, session_factory).kind("milestones").created == 1
