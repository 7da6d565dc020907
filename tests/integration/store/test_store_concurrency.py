"""Two writers at once (the web app and an import): both finish, nothing lost (busy timeout, WAL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store import Note, NoteInput, create_note, session_scope
from callnotes.store.search import search


def _write(factory: sessionmaker[Session], writer: int) -> None:
    for i in range(25):
        with session_scope(factory) as session:
            create_note(
                session,
                NoteInput(
                    body=f"writer{writer} note {i} concurrency",
                    call_date=date(2026, 1, 1),
                    topics=[f"w{writer}", "shared"],
                ),
            )


def test_concurrent_writers_lose_nothing(session_factory: sessionmaker[Session]) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda w: _write(session_factory, w), range(3)))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 75
        assert len(search(session, "concurrency", limit=100)) == 75 + 0
        assert len([h for h in search(session, "shared", limit=200) if h.kind == "note"]) == 75
