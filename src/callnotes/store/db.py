"""Engines, sessions and schema upgrades for SQLite and PostgreSQL.

No module-level state: callers build an engine with :func:`make_engine` and a session factory with
:func:`make_session_factory`, and keep them (the web app on its ``app.state``).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store.errors import Conflict, DatabaseBusy, StoreError

_log = logging.getLogger(__name__)

#: How long SQLite waits for the write lock held by another connection (another process, a worker
#: thread) before giving up with "database is locked" (ms). Writers of one web process never wait
#: here for each other: they queue in order before they touch the database (``web/deps.py``).
SQLITE_BUSY_TIMEOUT_MS = 5_000
#: Connections per engine (file SQLite and PostgreSQL): the web app admits fewer requests than
#: :data:`POOL_CAPACITY` to the database at once (``web/deps.py``), so no request thread waits for a
#: connection and the job queue's threads always find one free.
POOL_SIZE = 5
POOL_OVERFLOW = 15
POOL_CAPACITY = POOL_SIZE + POOL_OVERFLOW
#: Execution option set on the engine behind :func:`make_session_factory`'s read-only sessions.
_READ_ONLY = "callnotes_read_only"
#: PostgreSQL SQLSTATEs that mean "busy, try again": lock_not_available, serialization_failure,
#: deadlock_detected, query_canceled (a statement or lock timeout).
_PG_RETRYABLE = frozenset({"55P03", "40001", "40P01", "57014"})


def _sqlite_connect_listener(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_on_connect(dbapi_connection, record, busy_timeout_ms)

    return on_connect


def _sqlite_on_connect(dbapi_connection: Any, _record: Any, busy_timeout_ms: int) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: otherwise SAVEPOINTs
    # (used by file imports, one per row) do not nest inside the outer transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA recursive_triggers=OFF")  # the FTS triggers rely on it (fts_0001)
    finally:
        cursor.close()


def _sqlite_begin_listener(busy_timeout_ms: int) -> Any:
    def on_begin(connection: Any) -> None:
        _sqlite_on_begin(connection, busy_timeout_ms)

    return on_begin


def _sqlite_on_begin(connection: Any, busy_timeout_ms: int) -> None:
    # IMMEDIATE: a writing session takes the write lock at the start. A deferred transaction that
    # reads first and writes later fails at once with "database is locked" when another writer got
    # in between (WAL cannot upgrade a stale read snapshot), so two writers — the web app and an
    # import — would break each other.
    # A read-only session (``make_session_factory(engine, read_only=True)``) begins DEFERRED: in WAL
    # mode readers never wait for the writer nor make it wait, so a page view is never queued
    # behind an autosave (https://sqlite.org/wal.html, "Concurrency"; https://sqlite.org/lang_transaction.html).
    if connection.get_execution_options().get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        _begin_immediate(connection, busy_timeout_ms)


def _begin_immediate(connection: Any, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock up to the busy timeout in short steps.

    SQLite's own busy handler (``sqlite3_busy_timeout``) sleeps longer and longer between tries — up
    to 100 ms (https://sqlite.org/c3ref/busy_timeout.html; ``sqliteDefaultBusyCallback``) — so a
    writer that waits for another process's short transactions keeps missing the moments the lock is
    free: seconds of waiting, then "database is locked". Here the wait is polled every 1-10 ms (with
    jitter), the handler is off while we poll, and the connection's timeout is put back after."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = 0.001
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not is_busy_error(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, 0.01)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def normalise_url(url: str) -> str:
    """Map plain ``postgresql://``/``postgres://`` URLs to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite_file(Path(database))
            _pool_defaults(kwargs)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_connect_listener(busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_begin_listener(busy_timeout_ms))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    _pool_defaults(kwargs)
    return create_engine(url, **kwargs)


def private_sqlite_file(path: Path) -> None:
    """Make sure the SQLite file at ``path`` is readable by its owner only (POSIX: the folder 0700
    when made here, the file 0600; SQLite gives its ``-wal`` / ``-shm`` side files the database
    file's mode). A file left 0644 by an older version is tightened. On Windows the modes mean
    nothing: the file inherits the folder's ACL (the user's profile is private by default)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is an empty database
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if os.name == "posix" and file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _pool_defaults(kwargs: dict[str, Any]) -> None:
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (handy for templates and JSON).

    ``read_only``: for work that only reads (the web app's GET requests). On SQLite these
    transactions begin DEFERRED and so never take nor wait for the write lock; writing in one
    still works but fails at once ("database is locked") when another writer got in first.
    """
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@dataclass(frozen=True)
class DatabaseInfo:
    """What to show a person about a database URL: ``url`` without the password, ``kind`` the backend."""

    url: str
    kind: str


def describe_database(url: str) -> DatabaseInfo:
    """``url`` as it may be shown (password hidden) and its kind (``sqlite``, ``postgresql``)."""
    parsed = make_url(url)
    return DatabaseInfo(parsed.render_as_string(hide_password=True), parsed.get_backend_name())


def check_connection(session: Session) -> None:
    """One round trip to the database (``SELECT 1``); the driver's error when it cannot be reached."""
    session.execute(text("SELECT 1"))


def is_busy_error(exc: BaseException) -> bool:
    """True when ``exc`` is the database saying "busy, try again" (SQLite's lock wait ran out,
    a PostgreSQL lock timeout, serialization failure or deadlock)."""
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _PG_RETRYABLE:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def store_error_of(exc: BaseException) -> StoreError | None:
    """The store's error for a database exception, or None when there is none to give.

    A write refused as breaking a uniqueness rule (a race the repositories' own checks could not
    see) is :class:`Conflict`; a database too busy to answer in time is :class:`DatabaseBusy`."""
    if isinstance(exc, IntegrityError):
        _log.warning("integrity error, rolled back: %s", exc.orig)
        return Conflict("That change conflicts with data already stored; nothing changed.")
    if is_busy_error(exc):
        _log.warning("database busy, rolled back: %s", exc.orig if isinstance(exc, DBAPIError) else exc)
        return DatabaseBusy("The database is busy (another program is writing to it); nothing changed. "
                            "Try again in a moment.")
    return None


def end_session(session: Session, error: BaseException | None = None) -> None:
    """Finish a unit of work: commit when ``error`` is None, else roll back; always close.

    Raises the store's error (:func:`store_error_of`) for a refused commit, or for ``error`` when it
    is a database error that has one; the caller re-raises ``error`` itself otherwise."""
    try:
        if error is None:
            session.commit()
        else:
            session.rollback()
    except DBAPIError as exc:
        translated = store_error_of(exc)
        if translated is None:
            raise
        raise translated from exc
    finally:
        session.close()
    translated = store_error_of(error) if error is not None else None
    if translated is not None:
        raise translated from error


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception (:func:`end_session`)."""
    session = factory()
    try:
        yield session
    except BaseException as exc:
        end_session(session, exc)
        raise
    end_session(session)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``engine``."""
    config = Config()
    script_location = resources.files("callnotes.store") / "migrations"
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest schema revision this version of callnotes knows."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("callnotes.store") / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


@contextmanager
def _engine_of(url_or_engine: str | Engine) -> Iterator[Engine]:
    """``url_or_engine`` as an engine; one made here from a URL is disposed of afterwards."""
    if isinstance(url_or_engine, Engine):
        yield url_or_engine
        return
    engine = make_engine(url_or_engine)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade_database(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the schema at ``url_or_engine`` up to ``revision`` (creates everything on an empty DB).

    Cheap when the schema is already current (one query), so the app calls it on every start.
    """
    with _engine_of(url_or_engine) as engine:
        if revision == "head" and current_revision(engine) == head_revision():
            return
        _log.info("upgrading the database schema to %s", revision)
        command.upgrade(alembic_config(engine), revision)


def downgrade_database(url_or_engine: str | Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (``base`` drops everything the migrations made)."""
    with _engine_of(url_or_engine) as engine:
        command.downgrade(alembic_config(engine), revision)


def is_postgres(session_or_engine: Session | Engine) -> bool:
    """True when the bound database is PostgreSQL."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
