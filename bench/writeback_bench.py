"""Write-back: N HoK tasks drained from the outbox vs one POST per task, in the same run.

The emulator adds a fixed latency to every Web API request (default 100 ms, like a VPN to MSX). The
drain sends the tasks as callnotes does (one ``$batch`` per round: change sets of creates with fixed
ids, after one WhoAmI); the baseline creates the same number of tasks with one ``POST /tasks`` each
through the same client. Requests are counted by the emulator (``/_emulator/stats``).

Run: ``.venv/bin/python bench/writeback_bench.py [--tasks 500] [--latency-ms 100] [--baseline-tasks N]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from callnotes.config import Settings
from callnotes.domain import HokCategory, WritebackMode
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.msx.tasks import NewTask, create_task
from callnotes.store import NoteInput, create_note, session_scope
from callnotes.store.models import Milestone
from callnotes.store.repo.outbox import TaskRequest, queue_note_tasks
from callnotes.sync.connection import open_client
from callnotes.sync.importing import run_import
from callnotes.sync.outbox import drain
from callnotes.sync.runtime import open_runtime


def _queue(runtime, count: int) -> Milestone:
    with session_scope(runtime.session_factory) as session:
        milestone = session.scalars(select(Milestone).where(Milestone.customer_id.is_not(None))).first()
        assert milestone is not None
        for start in range(0, count, 10):  # ten tasks per note, like a busy week of calls
            note = create_note(session, NoteInput(body="bench", call_date=dt.date(2026, 12, 1),
                                                  customer_id=milestone.customer_id, title=f"Call {start}"))
            requests = [TaskRequest(milestone.id, int(HokCategory.WORKSHOP), subject=f"Workshop {start + i}")
                        for i in range(min(10, count - start))]
            queue_note_tasks(session, note, requests, WritebackMode.AUTO)
        return milestone


def _baseline(
    server: EmulatorServer, settings: Settings, milestone: Milestone, count: int
) -> tuple[int, float]:
    server.reset_stats()
    started = time.perf_counter()
    with open_client(settings) as client:
        me = client.whoami()["UserId"]
        for i in range(count):
            create_task(client, NewTask(milestone_id=str(milestone.msx_id), owner_id=me, subject=f"One {i}",
                                        category=HokCategory.WORKSHOP))
    return server.stats()["requests"], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--baseline-tasks", type=int, default=None, help="default: --tasks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    baseline_count = args.baseline_tasks or args.tasks
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(EmulatorConfig(accounts=5, seed=3)) as server:
        settings = Settings(crm_url=server.url, auth="emulator", data_dir=Path(tmp),
                            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        with open_runtime(settings) as runtime:
            with open_client(settings) as client:
                run_import(client, runtime.session_factory)
            milestone = _queue(runtime, args.tasks)
            server.configure(latency_ms=args.latency_ms)
            server.reset_stats()
            started = time.perf_counter()
            report = drain(runtime.queue.context)
            drain_s, drain_requests = time.perf_counter() - started, server.stats()["requests"]
            base_requests, base_s = _baseline(server, settings, milestone, baseline_count)
    scale = args.tasks / baseline_count
    print(f"{args.tasks} HoK tasks at {args.latency_ms} ms latency "
          f"(sent {report.sent}, failed {report.failed})")
    print(f"  outbox drain     : {drain_requests:>5} HTTP requests  {drain_s:7.2f} s")
    print(f"  one POST per task: {base_requests:>5} HTTP requests  {base_s:7.2f} s  "
          f"({baseline_count} tasks)")
    fewer, faster = base_requests * scale / drain_requests, base_s * scale / drain_s
    print(f"  ratio (baseline scaled to {args.tasks} / drain): {fewer:.0f}x fewer requests, "
          f"{faster:.0f}x faster")


if __name__ == "__main__":
    main()
