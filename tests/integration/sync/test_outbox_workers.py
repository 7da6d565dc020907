"""Real ``callnotes worker`` processes draining the outbox: killed with SIGKILL at random moments over
many rounds (SQLite), and two of them sharing a PostgreSQL database and a Redis queue."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from callnotes.store.models import OutboxState
from tests.fixtures.database import _postgres_schema
from tests.fixtures.writeback import WritebackBed, open_bed

pytestmark = pytest.mark.slow
_WORKER = [sys.executable, "-c", "from callnotes.cli import main; main()", "worker", "--workers", "2"]


def _env(bed: WritebackBed, **extra: str) -> dict[str, str]:
    settings = bed.settings
    env = {**os.environ, "CALLNOTES_CRM_URL": str(settings.crm_url), "CALLNOTES_AUTH": "emulator",
           "CALLNOTES_DATABASE_URL": settings.resolved_database_url(),
           "CALLNOTES_DATA_DIR": str(settings.data_dir), "CALLNOTES_QUEUE_NAME": settings.queue_name,
           "CALLNOTES_OUTBOX_LEASE_SECONDS": "1", "CALLNOTES_LOG_LEVEL": "WARNING", **extra}
    env.pop("CALLNOTES_WRITEBACK", None)
    return env


@contextmanager
def _worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(_WORKER, env=env, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_kill_9_at_random_moments_never_loses_or_duplicates(writeback_emulator, tmp_path) -> None:
    with open_bed(writeback_emulator, tmp_path, f"sqlite:///{tmp_path / 'kill.db'}") as bed:
        rng, ids = random.Random(20261201), []
        before = len(bed.msx_tasks())
        bed.server.configure(latency_ms=150, jitter_ms=100)
        log = tmp_path / "worker.log"
        for cycle in range(8):
            ids += bed.queue_tasks(6, notes=3)
            with _worker(_env(bed), log) as process:
                bed.runtime.queue.enqueue_drain()
                time.sleep(rng.uniform(0.2, 1.6))
                process.kill()  # SIGKILL: no clean-up of any kind
                process.wait()
            assert process.returncode == -signal.SIGKILL, f"cycle {cycle}: the worker ended on its own"
        bed.server.configure(latency_ms=0, jitter_ms=0)
        with _worker(_env(bed), log):
            bed.runtime.queue.enqueue_drain()
            bed.wait_until(lambda: bed.settled() and bed.states() == {"sent": len(ids)}, timeout=120)
        tasks = bed.msx_tasks()
        assert set(ids) <= set(tasks) and len(tasks) - before == len(ids) == 48


@pytest.fixture()
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    with _postgres_schema(postgres_url) as url:
        yield url


def test_two_workers_on_postgresql_and_redis_send_each_row_once(
    writeback_emulator, tmp_path, postgres_schema_url, redis_url
) -> None:
    with open_bed(writeback_emulator, tmp_path, postgres_schema_url, redis_url=redis_url) as bed:
        before = len(bed.msx_tasks())
        bed.server.configure(latency_ms=80)
        env = _env(bed, CALLNOTES_REDIS_URL=redis_url, CALLNOTES_OUTBOX_LEASE_SECONDS="60")
        queue = bed.runtime.queue  # this process only enqueues; the two workers consume
        ids: list[str] = []
        with _worker(env, tmp_path / "a.log"), _worker(env, tmp_path / "b.log"):
            for _ in range(15):
                ids += bed.queue_tasks(4, notes=2)
                queue.enqueue_drain()
                time.sleep(0.05)
            bed.wait_until(lambda: bed.settled() and len(bed.rows()) == len(ids), timeout=120)
        rows = bed.rows()
        assert all(row.state is OutboxState.SENT for row in rows)
        assert {row.attempts for row in rows} == {1}  # no row was claimed (sent) twice
        tasks = bed.msx_tasks()
        assert set(ids) <= set(tasks) and len(tasks) - before == len(ids) == 60
