"""The job queue: huey, with SQLite storage in the data dir (one machine, one or more processes) or
Redis when ``CALLNOTES_REDIS_URL`` is set (several ``callnotes worker`` processes).

`JobQueue` owns a huey instance and registers the app's tasks on it, each a closure over this
process's `SyncContext` (settings, database): no module-level huey, and a task message carries only
ids, never a setting or a secret. ``callnotes serve`` runs `InProcessConsumer` threads;
``callnotes worker`` runs huey's consumer in the foreground.
"""

from __future__ import annotations

import logging

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from callnotes.config import Settings
from callnotes.store.db import private_sqlite_file
from callnotes.sync.context import SyncContext
from callnotes.sync.jobs import run_import_job
from callnotes.sync.push_job import push_due, run_scheduled_push
from callnotes.sync.refresh_job import run_refresh_job, run_scheduled_refresh
from callnotes.sync.sync_run import run_sync
from callnotes.sync.token_warmup import TokenWarmer
from callnotes.sync.webhooks import prune as prune_webhook_deliveries
from callnotes.sync.writeback import drain_now

_log = logging.getLogger(__name__)

QUEUE_FILE = "queue.db"
#: How often an idle consumer looks at SQLite storage at most (Redis blocks on the queue instead).
MAX_POLL_SECONDS = 0.5


def make_huey(settings: Settings) -> Huey:
    """Redis when configured, else SQLite storage in the data dir. Task results are not kept."""
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, results=False)
    path = settings.resolved_data_dir() / QUEUE_FILE
    private_sqlite_file(path)  # the queue holds note ids and run ids: the owner's eyes only (0600)
    return SqliteHuey(settings.queue_name, filename=str(path), results=False)


class InProcessConsumer(Consumer):
    """huey's consumer as threads inside a process that owns its signals (uvicorn, tests)."""

    def _set_signal_handlers(self) -> None:
        """The host process handles SIGINT/SIGTERM; it calls `stop` on its way out."""


class JobQueue:
    """The app's tasks on one huey instance. Build one per process with that process's context."""

    def __init__(self, context: SyncContext, huey: Huey | None = None) -> None:
        self.context = context
        self.huey = huey or make_huey(context.settings)
        self._import = self.huey.task(name="import_accounts")(
            lambda run_id: run_import_job(self.context, run_id))
        self._drain = self.huey.task(name="drain_outbox")(self._drain_outbox)
        self._sync = self.huey.task(name="sync")(lambda: run_sync(self.context))
        # A safety net: rows whose retry came due while nothing else woke a drain.
        self.huey.periodic_task(crontab(minute="*"), name="drain_outbox_every_minute")(self._drain_outbox)
        self._add_push_tasks()
        self._add_refresh_tasks()
        self._add_token_warmup()

    def enqueue_import(self, run_id: int) -> None:
        self._import(run_id)

    def enqueue_drain(self, *, delay: float | None = None) -> None:
        """Send due outbox rows soon (after ``delay`` seconds). Drains may overlap: leases keep
        them from sending one row twice."""
        if delay:
            self._drain.schedule(delay=delay)
        else:
            self._drain()

    def enqueue_sync(self) -> None:
        """``callnotes sync`` on the queue: refresh the mirror, then drain (``POST /api/sync``)."""
        self._sync()

    def _drain_outbox(self) -> None:
        next_in = drain_now(self.context)
        if next_in is not None:
            self.enqueue_drain(delay=max(0.1, next_in))

    # -- generic sync: scheduled pushes (sync/push_job.py), webhook bookkeeping -----------------------
    def _add_push_tasks(self) -> None:
        self._push = self.huey.task(name="push_mappings")(lambda: run_scheduled_push(self.context))
        self.huey.periodic_task(crontab(minute="*"), name="push_when_due")(self._push_when_due)
        self.huey.periodic_task(crontab(hour="4", minute="17"), name="prune_webhook_deliveries")(
            lambda: prune_webhook_deliveries(self.context))

    def enqueue_push(self) -> None:
        """Push the configured mapping files now (on a worker)."""
        self._push()

    def _push_when_due(self) -> None:
        if push_due(self.context):
            run_scheduled_push(self.context)

    # -- the mirror's incremental refresh (sync/refresh_job.py) ---------------------------------------
    def _add_refresh_tasks(self) -> None:
        self._refresh = self.huey.task(name="refresh_mirror")(
            lambda run_id: run_refresh_job(self.context, run_id))
        # looks every minute; runs when refresh_minutes (read then: no restart) have passed
        self._refresh_when_due = self.huey.periodic_task(crontab(minute="*"), name="refresh_when_due")(
            lambda: run_scheduled_refresh(self.context))

    def enqueue_refresh(self, run_id: int) -> None:
        self._refresh(run_id)

    def enqueue_refresh_check(self) -> None:
        """The scheduled check now, on a worker, instead of at the next minute."""
        self._refresh_when_due()

    # -- sign-in: keep the token warm (issue 10) ------------------------------------------------------
    def _add_token_warmup(self) -> None:
        self.token_warmer = TokenWarmer()
        self.huey.periodic_task(crontab(minute="*"), name="warm_up_token")(self.warm_up_token)

    def warm_up_token(self) -> None:
        """Every minute: a token with < 10 minutes left is refreshed silently (sync/token_warmup.py)."""
        self.token_warmer.warm(self.context.settings)

    def consumer(self, *, workers: int = 2, in_process: bool = True) -> Consumer:
        """A consumer of this queue; `InProcessConsumer` unless it runs the process (``worker``)."""
        kind = InProcessConsumer if in_process else Consumer
        return kind(self.huey, workers=workers, worker_type="thread", initial_delay=0.05,
                    max_delay=MAX_POLL_SECONDS, periodic=True)

    def close(self) -> None:
        self.token_warmer.close()
        self.huey.storage.close()
