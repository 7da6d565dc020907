"""Engines, sessions and schema upgrades for SQLite and PostgreSQL.

No module-level state: callers build an engine with :func:`make_engine` and a session factory with
:func:`make_session_factory`, and keep them (the web app on its ``app.state``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store.errors import Conflict

_log = logging.getLogger(__name__)

#: How long SQLite waits for a lock held by another connection before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: otherwise SAVEPOINTs
    # (used by file imports, one per row) do not nest inside the outer transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA recursive_triggers=OFF")  # the FTS triggers rely on it (fts_0001)
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock at the start, waiting up to the busy timeout. A deferred
    # transaction that reads first and writes later fails at once with "database is locked" when
    # another writer got in between (WAL cannot upgrade a stale read snapshot), so two writers —
    # the web app and an import — would break each other. Short transactions keep the wait short.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def normalise_url(url: str) -> str:
    """Map plain ``postgresql://``/``postgres://`` URLs to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (handy for templates and JSON)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


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


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception. A write the database refuses
    as breaking a uniqueness rule (a race the repositories' own checks could not see) becomes
    :class:`Conflict`."""
    session = factory()
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        _log.warning("integrity error, rolled back: %s", exc.orig)
        raise Conflict("That change conflicts with data already stored; nothing changed.") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
