"""The outbox against the emulator over HTTP: tasks reach MSX exactly once through faults, lost
answers, a blocked VPN, throttling; milestone edits, comments and team changes; ask mode."""

from __future__ import annotations

import datetime as dt
import json
import threading

from callnotes.domain import WritebackMode
from callnotes.msx import teams
from callnotes.msx.milestones import add_forecast_comment
from callnotes.store import session_scope
from callnotes.store.models import Milestone, OutboxState, Task
from callnotes.store.repo import outbox
from callnotes.sync.importing import run_import
from callnotes.sync.outbox import drain
from callnotes.sync.sync_run import EXIT_OK, EXIT_UNREACHABLE, run_sync
from tests.fixtures.msx import make_client


def _drain_all(bed, rounds: int = 40) -> None:
    """Drain until no row waits to leave (rows in backoff become due within a few seconds)."""
    for _ in range(rounds):
        drain(bed.context, budget_s=20)
        if bed.settled():
            return
    raise AssertionError(f"rows still waiting: {bed.states()}")


def test_two_tasks_land_once_with_their_fields(bed) -> None:
    milestone = bed.milestones(1)[0]
    ids = bed.queue_tasks(2)
    before = bed.server.stats()["requests"]
    report = drain(bed.context)
    assert (report.sent, report.failed) == (2, 0)
    assert bed.server.stats()["requests"] - before == report.http_requests == 2  # WhoAmI + one $batch
    tasks = bed.msx_tasks()
    for task_id, subject in zip(ids, ("Workshop 0", "Workshop 1"), strict=True):
        row = tasks[task_id]
        fields = (row["subject"], row["msp_taskcategory"], row["scheduleddurationminutes"])
        assert fields == (subject, 861980001, 60)
        assert row["ownerid"] == bed.server.demo_user_id and row["regardingobjectid"] == milestone.msx_id
    with bed.runtime.session_factory() as session:  # the mirror shows them under their milestone
        mirrored = {t.msx_id: t for t in session.query(Task).filter(Task.msx_id.in_(ids))}
        assert {t.milestone_id for t in mirrored.values()} == {milestone.id} and len(mirrored) == 2
    assert drain(bed.context).rounds == 0  # nothing left: nothing sent again


def test_a_lost_answer_after_commit_never_duplicates(sqlite_bed) -> None:
    """The emulator commits, then drops the connection: on a ``$batch`` (three tasks) and on a plain
    POST (one task, sent without a batch)."""
    bed = sqlite_bed
    before = len(bed.msx_tasks())
    for count, path in ((3, "$batch"), (1, "/tasks")):
        ids = bed.queue_tasks(count)
        fault = {"fault": "drop_after_commit", "method": "POST", "path_contains": path}
        bed.server.configure(fail_next=[fault])
        _drain_all(bed)
        assert set(ids) <= set(bed.msx_tasks())
    assert len(bed.msx_tasks()) - before == 4
    assert {row.attempts for row in bed.rows()} == {1, 2}  # the batch: found by the check; the POST: resent


def test_faults_and_throttling_still_give_exactly_n(sqlite_bed) -> None:
    bed = sqlite_bed
    ids = bed.queue_tasks(40, notes=8)
    count_before = len(bed.msx_tasks())
    bed.server.configure(fault_rate=0.3, throttle={"requests_per_window": 5, "window_seconds": 2})
    try:
        _drain_all(bed, rounds=80)
    finally:
        bed.server.configure(fault_rate=0, throttle=False)
    tasks = bed.msx_tasks()
    assert all(i in tasks for i in ids) and len(tasks) - count_before == 40


def test_vpn_blocked_waits_then_sends_once(sqlite_bed) -> None:
    bed = sqlite_bed
    ids = bed.queue_tasks(2)
    bed.server.configure(vpn_blocked=True)
    try:
        result = run_sync(bed.context, refresh=False)
        assert result.exit_code == EXIT_UNREACHABLE and "VPN seems down" in result.errors[0]
        assert bed.states() == {"pending": 2} and not set(ids) & set(bed.msx_tasks())
    finally:
        bed.server.configure(vpn_blocked=False)
    assert run_sync(bed.context, refresh=False).exit_code == EXIT_OK
    assert bed.states() == {"sent": 2} and set(ids) <= set(bed.msx_tasks())


def test_ask_mode_sends_only_approved_rows_and_never_a_discarded_one(sqlite_bed) -> None:
    bed = sqlite_bed
    ids = bed.queue_tasks(3, mode=WritebackMode.ASK)
    assert drain(bed.context).sent == 0 and bed.states() == {"awaiting_approval": 3}
    rows = bed.rows()
    with session_scope(bed.runtime.session_factory) as session:
        outbox.approve(session, [rows[0].id])
        outbox.discard(session, [rows[1].id])
    assert drain(bed.context).sent == 1
    tasks = bed.msx_tasks()
    assert ids[0] in tasks and ids[1] not in tasks and ids[2] not in tasks
    assert bed.states() == {"sent": 1, "discarded": 1, "awaiting_approval": 1}


def test_a_refused_write_fails_alone_with_the_reason(sqlite_bed) -> None:
    bed = sqlite_bed
    ids = bed.queue_tasks(2)
    with session_scope(bed.runtime.session_factory) as session:  # a category MSX does not know
        row = session.get(outbox.OutboxItem, bed.rows()[0].id)
        row.payload = {**row.payload, "category": 42}
    report = drain(bed.context)
    assert (report.sent, report.failed) == (1, 1)
    failed = next(r for r in bed.rows() if r.state is OutboxState.FAILED)
    assert "42" in failed.last_error and ids[1] in bed.msx_tasks()


def test_milestone_edit_status_and_comments_from_two_writers_both_survive(sqlite_bed) -> None:
    bed = sqlite_bed
    milestone = bed.milestones(1)[0]
    edit = outbox.MilestoneEdit(milestone_date=dt.date(2027, 3, 1), monthly_use=2500.0, status="At Risk")
    with session_scope(bed.runtime.session_factory) as session:
        outbox.queue_milestone_edit(session, milestone.id, edit, WritebackMode.AUTO)
        outbox.queue_milestone_edit(session, milestone.id, outbox.MilestoneEdit(comment="first"),
                                    WritebackMode.AUTO, author="Ana")
    # someone else comments in MSX between our read and our write: the 412 makes us merge again
    with make_client(bed.server) as other:
        threads = [threading.Thread(target=drain, args=(bed.context,)),
                   threading.Thread(target=add_forecast_comment, args=(other, milestone.msx_id, "second"),
                                    kwargs={"author": "Bo"})]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    _drain_all(bed)
    row = bed.server.service.dataset.database.table("msp_engagementmilestone").rows[milestone.msx_id]
    texts = [c["text"] for c in json.loads(row["msp_forecastcommentsjsonfield"])]
    assert "first" in texts and "second" in texts and texts.count("first") == 1
    assert (row["msp_milestonedate"][:10], row["msp_monthlyuse"]) == ("2027-03-01", 2500.0)
    with bed.runtime.session_factory() as session:
        mirrored = session.get(Milestone, milestone.id)
        assert (mirrored.status_label, mirrored.monthly_use) == ("At Risk", 2500.0)


def test_team_join_lands_and_a_join_then_leave_cancels_out(sqlite_bed) -> None:
    bed = sqlite_bed
    first, second = bed.milestones(2)
    join = not first.on_my_team
    with session_scope(bed.runtime.session_factory) as session:
        assert outbox.queue_milestone_team_changes(session, [first.id], join, WritebackMode.AUTO)
    with session_scope(bed.runtime.session_factory) as session:
        queued = outbox.queue_milestone_team_changes(session, [second.id], True, WritebackMode.AUTO)
        undone = outbox.queue_milestone_team_changes(session, [second.id], False, WritebackMode.AUTO)
        assert undone == [] and (queued == [] or queued[0].state is OutboxState.DISCARDED)
    _drain_all(bed)
    with make_client(bed.server) as client:
        members = teams.team_memberships(client, bed.server.demo_user_id, teams.TeamKind.MILESTONE,
                                         [first.msx_id])
    assert (first.msx_id in members) is join
    with bed.runtime.session_factory() as session:
        assert session.get(Milestone, first.id).on_my_team is join


def test_the_next_import_keeps_a_landed_task_once_with_its_note(sqlite_bed) -> None:
    bed = sqlite_bed
    (task_id,) = bed.queue_tasks(1)
    drain(bed.context)
    with make_client(bed.server) as client:
        run_import(client, bed.runtime.session_factory)
    with bed.runtime.session_factory() as session:
        rows = session.query(Task).filter(Task.msx_id == task_id).all()
        assert len(rows) == 1 and rows[0].note_id is not None and rows[0].gone_from_msx_at is None
