"""A JSON restore of many notes: new notes go in a chunk at a time (not one statement set per note),
keep their uids and timestamps, pass the same rules, and are searchable afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store import (
    CustomerRecord,
    MilestoneRecord,
    Note,
    downgrade_database,
    upgrade_database,
    upsert_records,
)
from callnotes.store.backup import export_store, import_store
from callnotes.store.models import ActionItem
from callnotes.store.search import search

_NOTES = 2_500  # more than one chunk


def _document() -> dict:
    start = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    notes = []
    for n in range(_NOTES):
        made = start + timedelta(minutes=n)
        notes.append({
            "uid": f"00000000-0000-4000-8000-{n:012d}", "title": f"Call {n}",
            "body": f"Talked about quota{n} and kubernetes\n\n- [ ] send deck {n} due: 2026-12-10\n",
            "call_date": (date(2025, 1, 1) + timedelta(days=n % 700)).isoformat(),
            "customer": "c-1" if n % 2 else None, "topics": ["AKS", "Cost"][: n % 3],
            "attendees": ["Ann Lee"] if n % 5 == 0 else [],
            "created_at": made.isoformat(), "updated_at": (made + timedelta(hours=1)).isoformat(),
        })
    return {"customers": [{"uid": "c-1", "name": "Contoso"}], "notes": notes}


@contextmanager
def _note_inserts(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTES"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_many_new_notes_go_in_by_chunks_and_keep_their_identity(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    document = _document()
    with _note_inserts(engine) as inserts, session_factory() as session:
        report = import_store(session, json.loads(json.dumps(document)))
        session.commit()
    assert report.errors == [] and report.created["notes"] == _NOTES
    assert len(inserts) <= 5, f"{len(inserts)} INSERTs for {_NOTES} notes: not in bulk"
    with session_factory() as session:
        exported = {item["uid"]: item for item in export_store(session)["notes"]}
        for item in document["notes"][::97]:
            back = exported[item["uid"]]
            for key in ("title", "body", "call_date", "customer", "attendees", "created_at", "updated_at"):
                assert back[key] == item[key], key
            assert back["topics"] == sorted(item["topics"])
        assert session.scalar(select(func.count()).select_from(ActionItem)) == _NOTES
        assert [h.title for h in search(session, "quota1234") if h.kind == "note"] == ["Call 1234"]


def test_bulk_restore_round_trip_with_linked_notes_is_lossless(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    """Notes that link milestones go one by one, the rest in bulk: the export comes back the same
    (notes in creation order, whatever ids they got)."""
    document = _document()
    with session_factory() as session:
        import_store(session, document)
        upsert_records(session, [CustomerRecord("a-1", "Linked Ltd"),
                                 MilestoneRecord("m-1", "Go live", status=1, status_label="On Track",
                                                 customer_msx_id="a-1")])
        session.commit()
        first = export_store(session)
        customer_uid = next(c["uid"] for c in first["customers"] if c["name"] == "Linked Ltd")
        milestone_uid = first["milestones"][0]["uid"]
        for item in first["notes"][::50]:  # every 50th note now links the milestone
            item["customer"], item["milestones"] = customer_uid, [milestone_uid]
        session.rollback()
    engine.dispose()
    downgrade_database(database_url)
    upgrade_database(database_url)
    with session_factory() as session:
        report = import_store(session, json.loads(json.dumps(first)))
        session.commit()
        assert report.errors == []
        again = export_store(session)
    assert again["notes"] == first["notes"]


def test_bad_notes_in_a_bulk_restore_are_refused_alone(session: Session) -> None:
    document = _document()
    notes = document["notes"]
    notes[10]["topics"] = [f"t{n}" for n in range(500)]  # over the per-note topic limit
    notes[20]["customer"] = "nobody"  # a customer neither in the file nor the store
    notes[30]["call_date"] = "30/01/2026"
    notes[40]["created_at"] = "2026-01-01T10:00:00"  # no time zone
    notes.append({**notes[5], "title": "Call 5, edited"})  # the same uid again: an update
    report = import_store(session, document)
    session.commit()
    assert sorted((e.section, e.line) for e in report.errors) == [
        ("notes", 11), ("notes", 21), ("notes", 31), ("notes", 41)]
    assert "topics" in report.errors[0].message or any("topic" in e.message for e in report.errors)
    assert report.created["notes"] == _NOTES - 4 and report.updated["notes"] == 1
    assert session.scalar(select(func.count()).select_from(Note)) == _NOTES - 4
    assert session.scalar(select(Note.title).where(Note.uid == notes[5]["uid"])) == "Call 5, edited"
