"""The note rules live in the store and hold on every way in: the repository (which the editor's form
and the JSON API call), the JSON backup import and the CSV import — on SQLite and PostgreSQL.

Rules: a note's milestones belong to its customer (so a note without a customer has none), and the
limits of ``store.limits`` (title, body, topics, attendees, milestones per note).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store import (
    CustomerInput,
    ImportFileError,
    Milestone,
    Note,
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
from callnotes.store.limits import (
    NOTE_ATTENDEES_MAX,
    NOTE_BODY_MAX,
    NOTE_MILESTONES_MAX,
    NOTE_TITLE_MAX,
    NOTE_TOPICS_MAX,
)

DAY = date(2026, 11, 20)


@dataclass
class _Accounts:
    contoso: int
    fabrikam: int
    contoso_milestone: int
    fabrikam_milestone: int


def _accounts(session: Session) -> _Accounts:
    contoso = create_customer(session, CustomerInput(name="Contoso"))
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam"))
    ours, theirs = Milestone(name="Go live", customer_id=contoso.id), Milestone(name="Pilot",
                                                                                customer_id=fabrikam.id)
    session.add_all([ours, theirs])
    session.flush()
    return _Accounts(contoso.id, fabrikam.id, ours.id, theirs.id)


def _note_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Note)) or 0


# ---------------------------------------------------------------- repository (form and JSON API)


def test_a_note_links_only_its_customers_milestones(session: Session) -> None:
    a = _accounts(session)
    note = create_note(session, NoteInput(body="ok", call_date=DAY, customer_id=a.contoso,
                                          milestone_ids=[a.contoso_milestone]))
    assert [m.id for m in note.milestones] == [a.contoso_milestone]
    with pytest.raises(ValidationError, match=f"milestone\\(s\\) {a.fabrikam_milestone} do not belong"):
        create_note(session, NoteInput(body="x", call_date=DAY, customer_id=a.contoso,
                                       milestone_ids=[a.contoso_milestone, a.fabrikam_milestone]))
    with pytest.raises(ValidationError, match="only be linked to a note with a customer"):
        create_note(session, NoteInput(body="x", call_date=DAY, milestone_ids=[a.contoso_milestone]))


def test_changing_customer_or_milestones_is_checked_again(session: Session) -> None:
    a = _accounts(session)
    note_id = create_note(session, NoteInput(body="ok", call_date=DAY, customer_id=a.contoso,
                                             milestone_ids=[a.contoso_milestone])).id
    session.commit()
    for change in (NoteUpdate(customer_id=a.fabrikam), NoteUpdate(milestone_ids=[a.fabrikam_milestone]),
                   NoteUpdate(customer_id=None)):
        with pytest.raises(ValidationError, match=r"belong|with a customer"):
            update_note(session, note_id, change)
        session.rollback()
    note = get_note(session, note_id)
    assert note.customer_id == a.contoso and [m.id for m in note.milestones] == [a.contoso_milestone]
    moved = update_note(session, note_id, NoteUpdate(customer_id=a.fabrikam, milestone_ids=[]))
    assert moved.customer_id == a.fabrikam and moved.milestones == []


def test_an_edit_that_leaves_the_links_alone_is_not_refused(session: Session) -> None:
    """A milestone that moved to another account in MSX does not lock its notes' other fields."""
    a = _accounts(session)
    note_id = create_note(session, NoteInput(body="ok", call_date=DAY, customer_id=a.contoso,
                                             milestone_ids=[a.contoso_milestone])).id
    session.get(Milestone, a.contoso_milestone).customer_id = a.fabrikam  # what an MSX import may do
    session.flush()
    assert update_note(session, note_id, NoteUpdate(title="Renamed")).title == "Renamed"
    with pytest.raises(ValidationError, match="do not belong"):
        update_note(session, note_id, NoteUpdate(topics=["AKS"]))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("title", "t" * (NOTE_TITLE_MAX + 1), f"longer than {NOTE_TITLE_MAX}"),
    ("body", "b" * (NOTE_BODY_MAX + 1), f"longer than {NOTE_BODY_MAX}"),
    ("topics", [f"topic {i}" for i in range(NOTE_TOPICS_MAX + 1)], f"at most {NOTE_TOPICS_MAX} topics"),
    ("attendees", [f"person {i}" for i in range(NOTE_ATTENDEES_MAX + 1)],
     f"at most {NOTE_ATTENDEES_MAX} attendees"),
])
def test_note_limits(session: Session, field: str, value: object, message: str) -> None:
    base = NoteInput(body="x", call_date=DAY)
    with pytest.raises(ValidationError, match=message):
        create_note(session, replace(base, **{field: value}))
    session.rollback()
    assert _note_count(session) == 0
    at_the_limit = value[:-1] if isinstance(value, (str, list)) else value
    create_note(session, replace(base, **{field: at_the_limit}))


def test_milestones_per_note_limit(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    milestones = [Milestone(name=f"M{i}", customer_id=customer.id) for i in range(NOTE_MILESTONES_MAX + 1)]
    session.add_all(milestones)
    session.commit()
    customer_id, ids = customer.id, [m.id for m in milestones]
    with pytest.raises(ValidationError, match=f"at most {NOTE_MILESTONES_MAX} milestones"):
        create_note(session, NoteInput(body="x", call_date=DAY, customer_id=customer_id, milestone_ids=ids))
    session.rollback()
    create_note(session, NoteInput(body="x", call_date=DAY, customer_id=customer_id, milestone_ids=ids[:-1]))


def test_a_list_field_that_is_not_a_list_is_refused(session: Session) -> None:
    note_id = create_note(session, NoteInput(body="x", call_date=DAY, topics=["AKS"])).id
    for name in ("topics", "attendees", "milestone_ids"):
        with pytest.raises(ValidationError, match=f"{name} must be a list"):
            update_note(session, note_id, replace(NoteUpdate(), **{name: None}))


# ---------------------------------------------------------------- JSON backup import


def _document(session: Session, a: _Accounts) -> dict:
    """An export of the two customers and their milestones, with no notes yet."""
    document = export_store(session)
    assert document["notes"] == []
    uids = {m["name"]: m["uid"] for m in document["milestones"]}
    customers = {c["name"]: c["uid"] for c in document["customers"]}
    note = {"call_date": "2026-11-20", "body": "b"}
    document["notes"] = [
        {**note, "uid": "n-1", "customer": customers["Contoso"], "milestones": [uids["Pilot"]]},
        {**note, "uid": "n-2", "milestones": [uids["Go live"]]},
        {**note, "uid": "n-3", "customer": customers["Fabrikam"], "milestones": [uids["Pilot"]]},
        {**note, "uid": "n-4", "title": "t" * (NOTE_TITLE_MAX + 1)},
        {**note, "uid": "n-5", "topics": [f"topic {i}" for i in range(NOTE_TOPICS_MAX + 1)]},
        {**note, "uid": "n-6", "attendees": [f"person {i}" for i in range(NOTE_ATTENDEES_MAX + 1)]},
        {**note, "uid": "n-7", "body": "b" * (NOTE_BODY_MAX + 1)},
        {**note, "uid": "n-8", "title": "  Padded  ", "attendees": [" Ann ", ""]},
    ]
    return document


def test_json_import_applies_the_note_rules(session: Session) -> None:
    a = _accounts(session)
    session.commit()
    report = import_store(session, _document(session, a))
    session.commit()
    problems = {error.line: error.message for error in report.errors}
    assert all(error.section == "notes" for error in report.errors)
    assert sorted(problems) == [1, 2, 4, 5, 6, 7]
    assert "do not belong to this note's customer" in problems[1]
    assert "with a customer" in problems[2]
    assert f"longer than {NOTE_TITLE_MAX}" in problems[4] and f"longer than {NOTE_BODY_MAX}" in problems[7]
    assert f"at most {NOTE_TOPICS_MAX} topics" in problems[5]
    assert f"at most {NOTE_ATTENDEES_MAX} attendees" in problems[6]
    kept = {n.uid: n for n in session.scalars(select(Note))}
    assert sorted(kept) == ["n-3", "n-8"]
    assert [m.id for m in kept["n-3"].milestones] == [a.fabrikam_milestone]
    assert kept["n-8"].title == "Padded" and kept["n-8"].attendees == ["Ann"]  # cleaned like the repo does


def test_json_import_cannot_break_a_stored_note(session: Session) -> None:
    a = _accounts(session)
    note = create_note(session, NoteInput(body="kept", call_date=DAY, customer_id=a.contoso,
                                          milestone_ids=[a.contoso_milestone]))
    session.commit()
    document = export_store(session)
    fabrikam_uid = next(c["uid"] for c in document["customers"] if c["name"] == "Fabrikam")
    document["notes"][0] |= {"customer": fabrikam_uid, "body": "overwritten"}
    report = import_store(session, document)
    session.commit()
    assert [(e.section, e.line) for e in report.errors] == [("notes", 1)]
    session.expire_all()
    stored = get_note(session, note.id)
    assert (stored.body, stored.customer_id) == ("kept", a.contoso)


# ---------------------------------------------------------------- CSV import


def test_csv_import_applies_the_note_limits(session: Session, tmp_path: Path) -> None:
    topics = ";".join(f"topic {i}" for i in range(NOTE_TOPICS_MAX + 1))
    path = tmp_path / "notes.csv"
    path.write_text(
        "call_date,body,title,topics\n"
        f"2026-11-20,too long a title,{'t' * (NOTE_TITLE_MAX + 1)},\n"
        f"2026-11-20,too many topics,,{topics}\n"
        "2026-11-20,fine,Kickoff,AKS;Fabric\n",
        encoding="utf-8",
    )
    report = import_file(session, path)
    session.commit()
    assert [(e.line, f"longer than {NOTE_TITLE_MAX}" in e.message or "at most" in e.message)
            for e in report.errors] == [(2, True), (3, True)]
    assert [n.title for n in session.scalars(select(Note))] == ["Kickoff"]


def test_a_notes_csv_cannot_link_milestones(session: Session, tmp_path: Path) -> None:
    """The CSV has no milestone column: a file that tries is refused whole, so the rule cannot be
    bypassed there (a CSV note has no milestones, which always satisfies it)."""
    path = tmp_path / "notes.csv"
    path.write_text("call_date,body,customer,milestones\n2026-11-20,x,Contoso,Go live\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="unknown column\\(s\\) milestones"):
        import_file(session, path)
    assert _note_count(session) == 0
