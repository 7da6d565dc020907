"""Scheduled pushes on the job queue (huey on SQLite and on Redis): a queued push runs on a consumer and
is recorded as a run; when a push is due (interval, a retry coming due, nothing running)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from callnotes.store.column_types import utcnow
from callnotes.store.models import PushRecord, RunKind, RunState, SyncRun
from callnotes.sync.push_job import push_due, run_scheduled_push
from tests.fixtures.push import NOTES_AS_PHONECALLS, open_push_bed


@pytest.fixture(params=["sqlite", "redis"])
def queue_bed(request, push_emulator, tmp_path: Path):
    settings: dict[str, object] = {"push_mappings": str(NOTES_AS_PHONECALLS)}
    if request.param == "redis":
        settings["redis_url"] = request.getfixturevalue("redis_url")
    yield from open_push_bed(push_emulator, tmp_path, f"sqlite:///{tmp_path / 'q.db'}", **settings)


def _push_runs(bed) -> list[SyncRun]:
    with bed.runtime.session_factory() as session:
        return list(session.scalars(select(SyncRun).where(SyncRun.kind == RunKind.PUSH).order_by(SyncRun.id)))


def test_a_queued_push_runs_on_a_consumer_and_is_recorded(queue_bed) -> None:
    bed = queue_bed
    bed.runtime.queue.huey.flush()
    customer = bed.add_customer("Contoso", bed.account_numbers()[0])
    bed.add_notes(4, customer)
    consumer = bed.runtime.queue.consumer(workers=1)
    consumer.start()
    try:
        bed.runtime.queue.enqueue_push()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runs = _push_runs(bed)
            if runs and not any(r.state.active for r in runs):
                break
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=True)
    # the queued push, and perhaps the periodic check of the minute: together they created the 4 calls once
    assert runs and all(r.state is RunState.DONE for r in runs), [r.error for r in runs]
    assert sum(r.changed for r in runs) == 4
    assert any(r.summary[0].startswith("notes-as-phonecalls → phonecalls: 4 created") for r in runs)
    assert len(bed.phonecalls()) == 4


def test_when_a_push_is_due(sqlite_push_bed) -> None:
    bed = sqlite_push_bed
    assert not push_due(bed.context)  # no mapping files configured
    bed.settings.push_mappings = f"{NOTES_AS_PHONECALLS}, "
    assert push_due(bed.context)  # never pushed
    customer = bed.add_customer("Contoso", bed.account_numbers()[0])
    bed.add_notes(2, customer)
    bed.server.configure(fail_next=[{"fault": 503, "times": 30}])
    run_scheduled_push(bed.context)
    bed.server.configure(fail_next=[])
    assert not push_due(bed.context)  # it just ran, and the failed records wait out their backoff
    with bed.runtime.session_factory.begin() as session:
        session.execute(update(PushRecord).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    assert push_due(bed.context)  # a retry came due before the interval
    with bed.runtime.session_factory.begin() as session:
        session.execute(update(PushRecord).values(next_attempt_at=utcnow() + dt.timedelta(hours=1)))
        session.execute(update(SyncRun).values(finished_at=utcnow() - dt.timedelta(minutes=61)))
    assert push_due(bed.context)  # the interval (60 minutes) has passed
    with bed.runtime.session_factory.begin() as session:
        session.add(SyncRun(kind=RunKind.PUSH, state=RunState.RUNNING, heartbeat_at=utcnow()))
    assert not push_due(bed.context) and run_scheduled_push(bed.context) is None  # one at a time
    assert uuid.UUID(bed.push_records()[0].source_uid)
