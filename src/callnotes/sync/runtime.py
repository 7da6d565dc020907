"""One process's sync runtime: the upgraded database, its session factory and the job queue.

``callnotes serve`` (the web app's lifespan) and ``callnotes worker`` open one each; both then see
the same runs and queue, whichever process does the work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callnotes.config import Settings
from callnotes.store import make_engine, make_session_factory, upgrade_database
from callnotes.sync.context import SyncContext
from callnotes.sync.queue import JobQueue

_log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    queue: JobQueue


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    """Upgrade the database, open it and the job queue; close both on the way out."""
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        factory = make_session_factory(engine)
        queue = JobQueue(SyncContext(settings, factory))
        _log.info("database ready: %s", engine.url.render_as_string(hide_password=True))
        try:
            yield Runtime(settings, engine, factory, queue)
        finally:
            queue.close()
    finally:
        engine.dispose()
