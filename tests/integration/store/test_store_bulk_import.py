"""The bulk path of file imports (``repo.notes_bulk``), on SQLite and PostgreSQL: the same rules as one
note at a time, bad rows refused alone with their line, the search index complete afterwards, and the
triggers it sets aside on SQLite back in place whether the import is committed or rolled back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from callnotes.store import CustomerInput, Milestone, NoteInput, ValidationError, create_customer, create_note
from callnotes.store.import_files import import_file
from callnotes.store.limits import NOTE_TITLE_MAX, NOTE_TOPICS_MAX
from callnotes.store.models import ActionItem, Note
from callnotes.store.repo.notes_bulk import create_notes_in_bulk
from callnotes.store.search import SearchFilters, search

ROWS = 2_500  # more than two chunks


def _triggers(session: Session) -> list[tuple[str, str]]:
    """Every trigger with its definition (SQLite) or whether it is enabled (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return [tuple(r) for r in session.execute(text(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"))]
    return [tuple(r) for r in session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"))]


def _csv(path: Path) -> tuple[Path, list[int]]:
    """The file, and the lines where its three bad rows start."""
    lines = ["call_date,customer,title,topics,attendees,body"]
    for n in range(ROWS):
        body = f'"Call {n} about kubernetes{n % 7}\n- [ ] follow up {n} due: 2026-12-{n % 28 + 1:02d}"'
        lines.append(f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d},Contoso,,AKS;Cost,Ann Lee;Bob,{body}")
    lines[10] = "2026-13-01,Contoso,,,,bad date"
    lines[1500] = f"2026-01-01,Contoso,{'t' * (NOTE_TITLE_MAX + 1)},,,title too long"
    lines[2000] = "2026-01-01,Nobody,,,,unknown customer"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    starts = [1 + sum(line.count("\n") + 1 for line in lines[:k]) for k in (10, 1500, 2000)]
    return path, starts


def test_csv_in_bulk_keeps_good_rows_and_indexes_them(session: Session, tmp_path: Path) -> None:
    create_customer(session, CustomerInput(name="Contoso"))
    session.commit()
    before = _triggers(session)
    path, bad_lines = _csv(tmp_path / "notes.csv")
    report = import_file(session, path)
    session.commit()
    assert [(e.line, e.message.split(" ")[0]) for e in report.errors] == list(zip(
        bad_lines, ["call_date", "title", "customer"], strict=True))
    assert report.created == {"notes": ROWS - 3}
    assert _triggers(session) == before  # set aside on SQLite, put back exactly
    assert session.scalar(select(func.count()).select_from(Note)) == ROWS - 3
    assert {h.title for h in search(session, "kubernetes3", limit=1000)} >= {"Call 3 about kubernetes3"}
    assert {h.kind for h in search(session, "contoso")} >= {"note", "customer"}
    assert len(search(session, "", SearchFilters(attendee="ann lee"), limit=5000)) == ROWS - 3
    assert len(search(session, "", SearchFilters(topic="aks"), limit=5000)) == ROWS - 3
    assert session.scalar(select(func.count()).select_from(ActionItem)) == ROWS - 3
    assert [h.kind for h in search(session, "follow", SearchFilters(kinds=frozenset({"action_item"})),
                                   limit=3)] == ["action_item"] * 3
    later = create_note(session, NoteInput(body="written after the import: zeppelin",
                                           call_date=date(2026, 1, 1), attendees=["Zed"], topics=["Zulu"]))
    session.commit()
    assert [h.id for h in search(session, "zeppelin")] == [later.id]  # the triggers work again
    assert [h.id for h in search(session, "zulu") if h.kind == "note"] == [later.id]  # context: topics
    assert [h.id for h in search(session, "", SearchFilters(attendee="zed"))] == [later.id]


def test_rolled_back_bulk_import_leaves_nothing_and_the_triggers(session: Session, tmp_path: Path) -> None:
    create_customer(session, CustomerInput(name="Contoso"))
    session.commit()
    before = _triggers(session)
    import_file(session, _csv(tmp_path / "notes.csv")[0])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Note)) == 0
    assert _triggers(session) == before
    create_note(session, NoteInput(body="still indexed", call_date=date(2026, 1, 1)))
    session.commit()
    assert len(search(session, "indexed")) == 1


def _refusal(session: Session, data: NoteInput) -> str:
    """What ``create_note`` says about ``data`` (the one-by-one path)."""
    savepoint = session.begin_nested()
    with pytest.raises(ValidationError) as caught:
        create_note(session, data)
    savepoint.rollback()
    return str(caught.value)


def test_bulk_refuses_what_create_note_refuses_with_the_same_words(session: Session) -> None:
    contoso = create_customer(session, CustomerInput(name="Contoso"))
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam"))
    theirs = Milestone(name="Their pilot", customer_id=fabrikam.id)
    ours = Milestone(name="Our go-live", customer_id=contoso.id)
    session.add_all([theirs, ours])
    session.commit()
    day = date(2026, 12, 1)
    bad = [
        NoteInput(body="x", call_date=day, title="t" * (NOTE_TITLE_MAX + 1)),
        NoteInput(body="x", call_date=day, topics=[f"t{n}" for n in range(NOTE_TOPICS_MAX + 1)]),
        NoteInput(body="x", call_date=day, topics=["  "]),
        NoteInput(body="x", call_date=day, customer_id=contoso.id, milestone_ids=[theirs.id]),
    ]
    expected = [_refusal(session, data) for data in bad]
    good = [NoteInput(body="ok", call_date=day, customer_id=contoso.id, milestone_ids=[ours.id]),
            NoteInput(body="ok too", call_date=day, topics=["New Topic"])]
    refused = create_notes_in_bulk(session, [*bad, *good])
    session.commit()
    assert refused == [*expected, None, None]
    stored = session.scalars(select(Note).order_by(Note.body)).all()
    assert [n.body for n in stored] == ["ok", "ok too"]
    assert [m.id for m in stored[0].milestones] == [ours.id]
    assert [t.name for t in stored[1].topics] == ["New Topic"]
