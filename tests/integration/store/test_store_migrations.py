"""Migrations: an empty database upgrades to the model schema; downgrade / upgrade round trips."""

from __future__ import annotations

from sqlalchemy import inspect

from callnotes.store.db import downgrade_database, make_engine, upgrade_database
from callnotes.store.models import Base


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {
            t
            for t in inspect(engine).get_table_names()
            if not t.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config"))
        }
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_every_model_table(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    upgrade_database(empty_database_url)
    assert _tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_model_columns_match_migrated_columns(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for name, table in Base.metadata.tables.items():
            migrated = {c["name"] for c in inspector.get_columns(name)} - {"search_vector"}
            assert migrated == set(table.columns.keys()), name
    finally:
        engine.dispose()


def test_downgrade_then_upgrade_again(database_url: str) -> None:
    downgrade_database(database_url)
    assert _tables(database_url) <= {"alembic_version"}
    upgrade_database(database_url)
    assert _tables(database_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade_database(database_url)
    assert "notes" in _tables(database_url)
