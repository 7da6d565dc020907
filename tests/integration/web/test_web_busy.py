"""A database that stays locked longer than SQLite's busy timeout (another program holding the write
lock): the store says ``DatabaseBusy`` and the web answers 503 with ``Retry-After`` in the one error
shape — never a 500 — and nothing is half-written. Reads are not blocked meanwhile (WAL)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.store import (
    NoteInput,
    create_note,
    list_notes,
    make_engine,
    make_session_factory,
    session_scope,
    upgrade_database,
)
from callnotes.store.errors import DatabaseBusy
from callnotes.web.app import create_app

from .conftest import error_text


def _locked(path: Path) -> sqlite3.Connection:
    """Another program's connection, in the middle of a write transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_store_says_busy_when_the_lock_never_comes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    upgrade_database(url)
    engine = make_engine(url, busy_timeout_ms=100)
    try:
        with session_scope(make_session_factory(engine)) as session:
            create_note(session, NoteInput(body="before", call_date=date(2026, 1, 1)))
        other = _locked(tmp_path / "busy.db")
        with pytest.raises(DatabaseBusy), session_scope(make_session_factory(engine)) as session:
            create_note(session, NoteInput(body="blocked", call_date=date(2026, 1, 1)))
        with make_session_factory(engine, read_only=True)() as session:  # reading is not blocked
            assert [n.body for n in list_notes(session)] == ["before"]
        other.rollback()
        other.close()
    finally:
        engine.dispose()


def test_web_answers_503_with_retry_after(tmp_path: Path) -> None:
    path = tmp_path / "busy-web.db"
    settings = Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path / "data", crm_url=None)
    with TestClient(create_app(settings, worker=False), raise_server_exceptions=False) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        client.headers["X-CSRF-Token"] = token
        impatient = make_engine(settings.resolved_database_url(), busy_timeout_ms=100)
        client.app.state.session_factory = make_session_factory(impatient)  # type: ignore[attr-defined]
        other = _locked(path)
        try:
            refused = client.post("/api/notes", json={"body": "x", "call_date": "2026-11-20"})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert "busy" in error_text(refused) and refused.json()["detail"][0]["type"] == "busy"
            assert client.get("/api/notes").status_code == 200  # readers pass
        finally:
            other.rollback()
            other.close()
        assert client.post("/api/notes", json={"body": "x", "call_date": "2026-11-20"}).status_code == 201
        assert len(client.get("/api/notes").json()) == 1
        impatient.dispose()
