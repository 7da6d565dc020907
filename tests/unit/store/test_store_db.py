"""Engine factory: SQLite pragmas, URL normalisation, savepoints nest inside the outer transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from callnotes.store.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, normalise_url


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("postgres://u:p%40ss@h:5/db") == "postgresql+psycopg://u:p%40ss@h:5/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_connections_get_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")  # parent dir created
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert connection.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 0
    engine.dispose()


def test_sqlite_savepoint_rolls_back_with_the_outer_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as connection:
        savepoint = connection.begin_nested()  # first statement of the transaction
        connection.execute(text("INSERT INTO t VALUES (1)"))
        savepoint.commit()
        connection.rollback()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()
