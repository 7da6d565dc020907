"""Migrations: an empty database upgrades to the model schema; downgrade / upgrade round trips."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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


def _not_search_index(obj, name, type_, reflected, compare_to) -> bool:
    """Leave out what the migration adds for full-text search on purpose (not in the ORM metadata)."""
    return not (
        (name or "").startswith(tuple(f"{t}_fts" for t in Base.metadata.tables))
        or name in ("search_vector",)
        or (name or "").endswith("_search_vector")
    )


def test_migrated_schema_matches_the_models_exactly(database_url: str) -> None:
    """Alembic's own comparison (types, nullability, indexes, constraints) finds nothing to change."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _not_search_index}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
