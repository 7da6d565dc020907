"""Action items (``- [ ] …`` lines) and attendees, on SQLite and PostgreSQL: read from every way a note
comes in, kept across edits, ticked off in the Markdown, listed by due date, searchable."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from callnotes.store import (
    CustomerInput,
    NoteInput,
    NoteUpdate,
    ValidationError,
    create_customer,
    create_note,
    get_note,
    update_note,
)
from callnotes.store.backup import export_store, import_store
from callnotes.store.import_files import import_file
from callnotes.store.limits import NOTE_ACTION_ITEMS_MAX, NOTE_ATTENDEE_MAX
from callnotes.store.models import ActionItem
from callnotes.store.repo.action_items import (
    closed_action_items,
    open_action_items,
    parse_action_items,
    set_action_item_done,
)
from callnotes.store.search import SearchFilters, search

TODAY = date(2026, 12, 2)  # a Wednesday
BODY = """# Kick-off
- [ ] Send the quote due: 2026-11-30
- [ ] Book the workshop due 2026-12-04
* [x] Share the deck
1. [ ] Ask about quota
- [ ]
```
- [ ] not an item: code
```
"""


def _items(session: Session, note_id: int) -> list[ActionItem]:
    return list(session.scalars(select(ActionItem).where(ActionItem.note_id == note_id)
                                .order_by(ActionItem.position)))


def test_parser_reads_checkboxes_dates_and_skips_code() -> None:
    items = parse_action_items(BODY)
    assert [(i.text, i.due, i.done, i.line) for i in items] == [
        ("Send the quote", date(2026, 11, 30), False, 1),
        ("Book the workshop", date(2026, 12, 4), False, 2),
        ("Share the deck", None, True, 3),
        ("Ask about quota", None, False, 4),
    ]
    assert parse_action_items("- [ ] call back due: 2026-13-45")[0].due is None  # not a date: kept as text


def test_items_follow_the_body_and_keep_their_identity(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    note = create_note(session, NoteInput(body=BODY, call_date=TODAY, customer_id=customer.id))
    session.commit()
    first = {i.text: i.id for i in _items(session, note.id)}
    assert list(first) == ["Send the quote", "Book the workshop", "Share the deck", "Ask about quota"]
    update_note(session, note.id, NoteUpdate(body="Intro line\n" + BODY.replace("- [ ] Ask about quota", "")
                                             .replace("1. [ ] Ask about quota", "- [ ] New one")))
    session.commit()
    after = {i.text: i.id for i in _items(session, note.id)}
    assert after["Send the quote"] == first["Send the quote"]  # moved a line down, same item
    assert "Ask about quota" not in after and "New one" in after
    assert _items(session, note.id)[0].line == 2


def test_ticking_off_rewrites_the_markdown_and_records_when(session: Session) -> None:
    note = create_note(session, NoteInput(body=BODY, call_date=TODAY))
    session.commit()
    item = _items(session, note.id)[1]
    set_action_item_done(session, item.id)
    session.commit()
    body = get_note(session, note.id).body
    assert "- [x] Book the workshop due 2026-12-04" in body and body.count("[x]") == 2
    ticked = session.get(ActionItem, item.id)
    assert ticked.done and ticked.done_at is not None and ticked.done_at.tzinfo is not None
    set_action_item_done(session, item.id, done=False)
    session.commit()
    assert "- [ ] Book the workshop" in get_note(session, note.id).body
    assert session.get(ActionItem, item.id).done_at is None


def test_ticking_an_item_whose_line_changed_is_refused(session: Session) -> None:
    note = create_note(session, NoteInput(body="- [ ] one\n- [ ] two", call_date=TODAY))
    session.commit()
    stale = _items(session, note.id)[0]
    session.execute(text("UPDATE action_items SET line = 1 WHERE id = :id"), {"id": stale.id})
    session.commit()
    session.expire_all()
    with pytest.raises(ValidationError, match="changed"):
        set_action_item_done(session, stale.id)
    session.rollback()
    assert get_note(session, note.id).body == "- [ ] one\n- [ ] two"


def test_open_items_grouped_overdue_this_week_later(session: Session) -> None:
    a = create_customer(session, CustomerInput(name="Contoso"))
    b = create_customer(session, CustomerInput(name="Fabrikam"))
    create_note(session, NoteInput(body=BODY, call_date=TODAY, customer_id=a.id))
    create_note(session, NoteInput(body="- [ ] Fabrikam follow-up due: 2027-01-15", call_date=TODAY,
                                   customer_id=b.id))
    session.commit()
    buckets = open_action_items(session, TODAY)
    assert [i.text for i in buckets.overdue] == ["Send the quote"]
    assert [i.text for i in buckets.this_week] == ["Book the workshop"]
    assert [i.text for i in buckets.later] == ["Fabrikam follow-up", "Ask about quota"]  # dated first
    assert buckets.later[0].note.customer.name == "Fabrikam"
    assert open_action_items(session, TODAY, customer_id=b.id).count == 1


def test_closed_items_by_period(session: Session, tmp_path: Path) -> None:
    """Ticked here: counted on the day it was ticked; arrived ticked (a file): on its note's date."""
    path = tmp_path / "old.csv"
    path.write_text('call_date,body\n2020-08-01,"- [ ] a\n- [x] arrived ticked"\n', encoding="utf-8")
    import_file(session, path)
    session.commit()
    first = session.scalars(select(ActionItem).order_by(ActionItem.position)).first()
    set_action_item_done(session, first.id)
    session.commit()
    today = date.today()
    around_today = closed_action_items(session, today - timedelta(days=1), today + timedelta(days=1))
    assert [i.text for i in around_today] == ["a"]
    assert [i.text for i in closed_action_items(session, date(2020, 7, 1), date(2020, 9, 30))] == \
        ["arrived ticked"]


def test_items_from_file_imports_and_the_count_limit(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('call_date,body\n2026-12-01,"- [ ] from csv due: 2026-12-24\n- [x] done in csv"\n',
                    encoding="utf-8")
    import_file(session, path)
    session.commit()
    rows = session.scalars(select(ActionItem).order_by(ActionItem.position)).all()
    assert [(r.text, r.due, r.done, r.done_at) for r in rows] == [
        ("from csv", date(2026, 12, 24), False, None), ("done in csv", None, True, None)]
    document = export_store(session)
    document["notes"][0]["body"] += "\n- [ ] added in json"
    import_store(session, document)
    session.commit()
    assert [r.text for r in session.scalars(select(ActionItem).order_by(ActionItem.position))][-1] == \
        "added in json"
    too_many = "\n".join(f"- [ ] item {n}" for n in range(NOTE_ACTION_ITEMS_MAX + 1))
    with pytest.raises(ValidationError, match="action items"):
        create_note(session, NoteInput(body=too_many, call_date=TODAY))


def test_action_items_are_searchable_and_filtered_by_customer(session: Session) -> None:
    a = create_customer(session, CustomerInput(name="Contoso"))
    b = create_customer(session, CustomerInput(name="Fabrikam"))
    create_note(session, NoteInput(body="- [ ] Send the pricing sheet", call_date=TODAY, customer_id=a.id))
    create_note(session, NoteInput(body="- [ ] pricing for Fabrikam", call_date=TODAY, customer_id=b.id))
    session.commit()
    hits = [h for h in search(session, "pricing") if h.kind == "action_item"]
    assert {h.customer for h in hits} == {"Contoso", "Fabrikam"} and all(h.note_id for h in hits)
    assert "<mark>" in hits[0].snippet
    only_a = search(session, "pricing", SearchFilters(customer_id=a.id, kinds=frozenset({"action_item"})))
    assert [h.title for h in only_a] == ["Send the pricing sheet"]


def test_attendees_are_rows_searchable_and_a_filter(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    one = create_note(session, NoteInput(body="plan", call_date=TODAY, customer_id=customer.id,
                                         attendees=["Ann Lee", "bob@contoso.com"]))
    two = create_note(session, NoteInput(body="review", call_date=TODAY - timedelta(days=3),
                                         attendees=["ann lee"]))
    session.commit()
    rows = session.execute(text("SELECT note_id, name, name_key FROM note_attendees "
                                "ORDER BY note_id, position"))
    assert [tuple(r) for r in rows] == [(one.id, "Ann Lee", "ann lee"), (one.id, "bob@contoso.com",
                                        "bob@contoso.com"), (two.id, "ann lee", "ann lee")]
    assert {h.id for h in search(session, "lee") if h.kind == "note"} == {one.id, two.id}
    assert [h.id for h in search(session, "", SearchFilters(attendee="ANN LEE"))] == [one.id, two.id]
    update_note(session, one.id, NoteUpdate(attendees=["Casey"]))
    session.commit()
    assert [h.id for h in search(session, "", SearchFilters(attendee="Ann Lee"))] == [two.id]
    assert [h.id for h in search(session, "casey") if h.kind == "note"] == [one.id]
    with pytest.raises(ValidationError, match="attendee"):
        create_note(session, NoteInput(body="x", call_date=TODAY, attendees=["x" * (NOTE_ATTENDEE_MAX + 1)]))


def test_0007_reads_existing_notes_and_downgrades_cleanly(empty_database_url: str) -> None:
    """Notes written before 0007 get their attendee rows, action items and a search context with the
    attendees; going back to 0006 restores the old triggers and search still works."""
    from callnotes.store.db import downgrade_database, make_engine, make_session_factory, upgrade_database

    upgrade_database(empty_database_url, "0006")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO notes (uid, title, body, call_date, attendees, created_at, updated_at) VALUES "
                "('u-1', 'Old', '- [ ] call Zoe back due: 2026-12-24\n- [x] sent deck', '2026-11-02', "
                "'[\"Quentin Blake\"]', '2026-11-02 10:00:00', '2026-11-02 10:00:00')"))
        upgrade_database(empty_database_url)
        with make_session_factory(engine)() as session:
            items = session.scalars(select(ActionItem).order_by(ActionItem.id))
            assert [(i.text, i.due, i.done) for i in items] == [
                ("call Zoe back", date(2026, 12, 24), False), ("sent deck", None, True)]
            assert len(search(session, "quentin")) == 1
            assert len(search(session, "", SearchFilters(attendee="quentin blake"))) == 1
            assert [h.kind for h in search(session, "zoe")] == ["note", "action_item"]
        downgrade_database(empty_database_url, "0006")
        with make_session_factory(engine)() as session:
            session.execute(text(
                "INSERT INTO notes (uid, title, body, call_date, attendees, created_at, updated_at) VALUES "
                "('u-2', 'Newer', 'kangaroo', '2026-11-03', '[]', '2026-11-03 10:00:00', "
                "'2026-11-03 10:00:00')"))
            session.commit()
            with_attendee = text("SELECT count(*) FROM notes WHERE search_context LIKE '%Quentin%'")
            assert session.scalar(with_attendee) == 0
        upgrade_database(empty_database_url)
        with make_session_factory(engine)() as session:
            assert len(search(session, "kangaroo")) == 1 and len(search(session, "quentin")) == 1
    finally:
        engine.dispose()
