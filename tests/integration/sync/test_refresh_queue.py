"""The refresh as a job: on the huey queue (SQLite and Redis storage), on schedule every
``refresh_minutes`` (a saved change takes effect without restart), never beside an import, and as the
pull of ``callnotes sync`` (a full import when nothing was imported yet)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from callnotes.config import Settings, save_preferences
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.store import Conflict, session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.models import Customer, MsxWatermark, RunKind, RunState, SyncRun
from callnotes.store.repo import sync_runs
from callnotes.sync.importing import run_import
from callnotes.sync.jobs import run_recorded_import
from callnotes.sync.refresh_job import refresh_due, refresh_state, run_scheduled_refresh, start_refresh
from callnotes.sync.runtime import Runtime, open_runtime
from callnotes.sync.sync_run import EXIT_OK, EXIT_UNREACHABLE, run_sync
from tests.fixtures.msx import make_client


@dataclass
class Bed:
    server: EmulatorServer
    settings: Settings
    runtime: Runtime

    @property
    def context(self):
        return self.runtime.queue.context

    def runs(self, kind: RunKind = RunKind.REFRESH) -> list[SyncRun]:
        with self.runtime.session_factory() as session:
            return list(session.scalars(select(SyncRun).where(SyncRun.kind == kind).order_by(SyncRun.id)))

    def wait_for_runs(self, count: int = 1, timeout: float = 30) -> list[SyncRun]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs()
            if len(runs) >= count and not any(r.state.active for r in runs):
                return runs
            time.sleep(0.1)
        raise AssertionError(f"refresh runs did not finish: {[r.state for r in self.runs()]}")


@pytest.fixture()
def refresh_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(accounts=6, seed=9)) as server:
        yield server


def _open_bed(server: EmulatorServer, tmp_path: Path, **settings: object) -> Iterator[Bed]:
    config = Settings(crm_url=server.url, auth="emulator", data_dir=tmp_path / "data",
                      database_url=f"sqlite:///{tmp_path / 'refresh.db'}",
                      queue_name=f"refresh-{tmp_path.name[-40:]}", **settings)
    with open_runtime(config) as runtime:
        runtime.queue.huey.flush()
        yield Bed(server, config, runtime)


@pytest.fixture(params=["sqlite", "redis"])
def queue_bed(request, refresh_emulator, tmp_path: Path) -> Iterator[Bed]:
    settings = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    yield from _open_bed(refresh_emulator, tmp_path, **settings)


@pytest.fixture()
def bed(refresh_emulator, tmp_path: Path) -> Iterator[Bed]:
    yield from _open_bed(refresh_emulator, tmp_path)


def test_refresh_now_and_the_scheduled_check_run_on_a_consumer(queue_bed) -> None:
    bed = queue_bed
    assert run_sync(bed.context, refresh=True).exit_code == EXIT_OK  # nothing imported: a full import
    consumer = bed.runtime.queue.consumer(workers=1)
    consumer.start()
    try:
        start_refresh(bed.runtime.queue)
        first = bed.wait_for_runs(2)
        with bed.runtime.session_factory.begin() as session:  # the last refresh and import were long ago
            long_ago = utcnow() - timedelta(minutes=31)
            session.execute(update(SyncRun).values(started_at=long_ago))
            session.execute(update(MsxWatermark).values(updated_at=long_ago))
        bed.runtime.queue.enqueue_refresh_check()
        runs = bed.wait_for_runs(3)
    finally:
        consumer.stop(graceful=True)
    assert [r.state for r in runs] == [RunState.DONE] * 3, [r.error for r in runs]
    assert first[0].changed > 0 and runs[-1].changed == 0 and runs[-1].http_requests == 1
    with bed.runtime.session_factory() as session:
        state = refresh_state(session)
    assert state is not None and state["state"] == "done" and state["http_requests"] == 1
    assert set(state) == {"state", "started_at", "finished_at", "http_requests", "changed", "error"}


def test_an_import_outside_the_queue_counts_as_the_last_refresh(bed) -> None:
    with make_client(bed.server) as client:
        run_import(client, bed.runtime.session_factory)  # ``callnotes import accounts``: no run row
    assert bed.runs(RunKind.IMPORT) == [] and not refresh_due(bed.context)
    assert refresh_due(bed.context, now=utcnow() + timedelta(minutes=31))


def test_when_a_refresh_is_due_follows_the_saved_interval(bed) -> None:
    assert not refresh_due(bed.context)  # nothing imported: the schedule leaves it to the user
    assert run_scheduled_refresh(bed.context) is None
    assert run_sync(bed.context).exit_code == EXIT_OK  # import (recorded as the first refresh run)
    assert not refresh_due(bed.context)  # it just ran
    later = utcnow() + timedelta(minutes=31)
    assert refresh_due(bed.context, now=later)  # 30 minutes by default
    save_preferences(bed.settings, refresh_minutes=45)  # the settings page: read at each check
    assert not refresh_due(bed.context, now=later)
    assert refresh_due(bed.context, now=utcnow() + timedelta(minutes=46))
    with session_scope(bed.runtime.session_factory) as session:
        sync_runs.begin_run(session, RunKind.IMPORT)
    assert not refresh_due(bed.context, now=utcnow() + timedelta(days=1))  # an import is on its way


def test_a_refresh_and_an_import_never_run_at_once(bed) -> None:
    with session_scope(bed.runtime.session_factory) as session:
        sync_runs.begin_run(session, RunKind.IMPORT)
    with pytest.raises(Conflict, match="an import is already running"):
        start_refresh(bed.runtime.queue)
    result = run_sync(bed.context)
    assert any("an import is already running" in e for e in result.errors)
    with bed.runtime.session_factory.begin() as session:
        session.execute(update(SyncRun).values(state=RunState.DONE))
        sync_runs.begin_run(session, RunKind.REFRESH)
    with pytest.raises(Conflict, match="a refresh is already running"), \
            session_scope(bed.runtime.session_factory) as session:
        sync_runs.begin_run(session, RunKind.IMPORT)
    with make_client(bed.server) as client:  # ``callnotes import accounts`` is refused too
        with pytest.raises(Conflict, match="a refresh is already running"):
            run_recorded_import(client, bed.runtime.session_factory)
        with bed.runtime.session_factory.begin() as session:
            session.execute(update(SyncRun).values(state=RunState.DONE))
        run_recorded_import(client, bed.runtime.session_factory)
    assert [r.state for r in bed.runs(RunKind.IMPORT)][-1] is RunState.DONE


def test_callnotes_sync_refreshes_incrementally_and_says_when_msx_is_unreachable(bed) -> None:
    assert run_sync(bed.context).exit_code == EXIT_OK
    with bed.runtime.session_factory() as session:
        customers = len(list(session.scalars(select(Customer.id))))
    assert customers == 6
    result = run_sync(bed.context)
    assert result.exit_code == EXIT_OK and result.lines[0] == "refreshed: 0 change(s), 1 HTTP requests"
    bed.server.configure(vpn_blocked=True)
    try:
        blocked = run_sync(bed.context)
    finally:
        bed.server.configure(vpn_blocked=False)
    assert blocked.exit_code == EXIT_UNREACHABLE and "VPN" in blocked.errors[0]
    last = bed.runs()[-1]
    assert last.state is RunState.FAILED and last.error.startswith("VPN seems down")
