"""Migrations: an empty database upgrades to the model schema; downgrade / upgrade round trips."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from callnotes.store import CustomerInput, NoteInput, create_customer, create_note, list_notes
from callnotes.store.db import (
    current_revision,
    downgrade_database,
    make_engine,
    make_session_factory,
    session_scope,
    upgrade_database,
)
from callnotes.store.models import Base, Note
from callnotes.store.search import search


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


def _note_indexes(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("notes")}
    finally:
        engine.dispose()


def _customer_page_plan(url: str, customer_id: int) -> str:
    """The plan of the customer page's notes query (newest first), as text."""
    engine = make_engine(url)
    query = (select(Note.id).where(Note.customer_id == customer_id)
             .order_by(Note.call_date.desc(), Note.created_at.desc(), Note.id.desc()).limit(50))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            connection.exec_driver_sql("ANALYZE notes")
            connection.exec_driver_sql("SET enable_seqscan = off")  # a small table: no full scan
            return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
    finally:
        engine.dispose()


def test_0002_upgrade_keeps_notes_and_serves_the_customer_page_from_an_index(empty_database_url: str) -> None:
    upgrade_database(empty_database_url, "0001")
    assert "ix_notes_customer_id" in _note_indexes(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            customer = create_customer(session, CustomerInput(name="Contoso"))
            create_note(session, NoteInput(body="kept across 0002", call_date=date(2026, 1, 2),
                                           customer_id=customer.id))
            others = [create_customer(session, CustomerInput(name=f"Other {i}")).id for i in range(20)]
            session.add_all(Note(body="filler", call_date=date(2025, 1, 1 + i % 28),
                                 customer_id=others[i % 20]) for i in range(400))
            customer_id = customer.id
    finally:
        engine.dispose()

    upgrade_database(empty_database_url)
    indexes = _note_indexes(empty_database_url)
    assert indexes["ix_notes_customer_id_call_date"] == ["customer_id", "call_date", "created_at", "id"]
    assert indexes["ix_notes_call_date_created_at"] == ["call_date", "created_at", "id"]
    assert "ix_notes_customer_id" not in indexes and "ix_notes_call_date" not in indexes
    plan = _customer_page_plan(empty_database_url, customer_id)
    assert "ix_notes_customer_id_call_date" in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    engine = make_engine(empty_database_url)
    try:
        with make_session_factory(engine)() as session:
            assert [n.body for n in list_notes(session, customer_id=customer_id)] == ["kept across 0002"]
            assert len(list_notes(session, limit=None)) == 401
            assert any(h.kind == "note" for h in search(session, "across"))  # FTS triggers intact
    finally:
        engine.dispose()


def test_0002_downgrade_restores_the_0001_indexes(database_url: str) -> None:
    downgrade_database(database_url, "0001")
    indexes = _note_indexes(database_url)
    assert indexes["ix_notes_customer_id"] == ["customer_id"]
    assert indexes["ix_notes_call_date"] == ["call_date"]
    assert "ix_notes_customer_id_call_date" not in indexes and "ix_notes_call_date_created_at" not in indexes
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()
    upgrade_database(database_url)
    assert "ix_notes_customer_id_call_date" in _note_indexes(database_url)
