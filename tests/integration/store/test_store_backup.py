"""Export / import: lossless JSON round trip, CSV with bad rows, malformed files leave the store unchanged."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store import (
    Customer,
    CustomerRecord,
    ImportFileError,
    MilestoneRecord,
    MsxKind,
    Note,
    NoteInput,
    SellerRecord,
    SellerType,
    TaskRecord,
    TerritoryRecord,
    create_note,
    downgrade_database,
    mark_gone,
    upgrade_database,
    upsert_records,
)
from callnotes.store.backup import SECTION_NAMES, export_store, import_store
from callnotes.store.demo import seed_demo
from callnotes.store.import_files import import_file
from callnotes.store.models import Milestone
from callnotes.store.repo.milestone_tracker import set_favourite
from callnotes.store.search import search


def _populate(session: Session) -> None:
    seed_demo(session, today=date(2026, 11, 20))
    upsert_records(
        session,
        [
            TerritoryRecord("t-1", "West.ENT.X.1203"),
            SellerRecord("u-1", "Sam", SellerType.GROWTH, "sam@example.com"),
            CustomerRecord("a-1", "Ünïcode GmbH", tpid="42", territory_msx_id="t-1", seller_msx_ids=["u-1"]),
            MilestoneRecord(
                "m-1",
                "Go live",
                status=1,
                status_label="At Risk",
                milestone_date=date(2027, 1, 5),
                monthly_use=12.25,
                customer_msx_id="a-1",
                on_my_team=False,
            ),
            TaskRecord(
                "k-1",
                "Demo",
                category_code=861980002,
                is_hok=True,
                duration_minutes=30,
                milestone_msx_id="m-1",
            ),
            CustomerRecord("a-2", "Gone Corp"),
        ],
    )
    mark_gone(session, MsxKind.CUSTOMERS, seen_ids=["a-1"], among=["a-2"])
    create_note(
        session,
        NoteInput(
            body="Line 1\n\n* emoji ✅ and <b>html</b>",
            call_date=date(2026, 2, 29 - 1),
            attendees=["Ann", "Bo"],
            topics=["Ünïcode"],
        ),
    )
    session.commit()


def _without_stamp(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_export_wipe_import_round_trip_is_lossless(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        _populate(session)
        before = export_store(session)
    assert [k for k in SECTION_NAMES if not before[k]] == []  # every kind takes part
    engine.dispose()
    downgrade_database(database_url)  # wipe
    upgrade_database(database_url)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 0
        report = import_store(session, json.loads(json.dumps(before)))
        session.commit()
        assert report.errors == []
        after = export_store(session)
        assert _without_stamp(after) == _without_stamp(before)
        assert any(h.kind == "note" for h in search(session, "savings"))  # index rebuilt by triggers


def test_importing_the_same_export_twice_duplicates_nothing(session: Session) -> None:
    _populate(session)
    document = export_store(session)
    report = import_store(session, document)
    session.commit()
    assert report.errors == [] and report.created == {}
    assert _without_stamp(export_store(session)) == _without_stamp(document)


def test_bad_json_items_are_reported_and_good_ones_kept(session: Session) -> None:
    document = {
        "customers": [
            {"uid": "c-1", "name": "Good One"},
            {"uid": "c-2", "name": ""},
            {"uid": "c-3", "name": "Bad Territory", "territory": "nope"},
            "not an object",
            {"uid": "c-5", "name": "Good Two", "created_at": "2026-01-01T10:00:00"},
        ],
        "notes": [
            {"uid": "n-1", "body": "ok", "call_date": "2026-01-02", "customer": "c-1", "topics": ["x"]},
            {"uid": "n-2", "body": "bad date", "call_date": "02/01/2026"},
            {"uid": "n-3", "body": "bad topics", "call_date": "2026-01-02", "topics": "x"},
        ],
    }
    report = import_store(session, document)
    session.commit()
    assert [(e.section, e.line) for e in report.errors] == [
        ("customers", 2),
        ("customers", 3),
        ("customers", 4),
        ("customers", 5),
        ("notes", 2),
        ("notes", 3),
    ]
    assert "time zone" in str(report.errors[3]) and "customers #5" in str(report.errors[3])
    assert sorted(session.scalars(select(Customer.name))) == ["Good One"]
    assert [n.body for n in session.scalars(select(Note))] == ["ok"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must contain an object"),
        ('{"customers": {"a": 1}}', "'customers' must be a list"),
        ('{"format": "other"}', "not a callnotes export"),
        ('{"hello": []}', "no known lists"),
        ('{"version": 99, "customers": []}', "newer"),
    ],
)
def test_malformed_json_changes_nothing(session: Session, tmp_path: Path, content: str, message: str) -> None:
    _populate(session)
    before = export_store(session)
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        import_file(session, path)
    session.rollback()
    assert _without_stamp(export_store(session)) == _without_stamp(before)


def test_customers_csv_with_bad_rows(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "Name,TPID,Website,Notes\n"
        "Contoso,100,contoso.com,likes Teams\n"
        ",200,,missing name\n"
        '"Multi, Line",300,,"first line\nsecond line"\n'
        "Too,Many,Fields,Here,Extra\n"
        "Fabrikam,400,,\n",
        encoding="utf-8",
    )
    report = import_file(session, path)
    session.commit()
    assert [(e.line, e.section) for e in report.errors] == [(3, None), (6, None)]
    assert "name is required" in str(report.errors[0]) and str(report.errors[0]).startswith("line 3")
    assert sorted(session.scalars(select(Customer.name))) == ["Contoso", "Fabrikam", "Multi, Line"]
    assert report.created == {"customers": 3}
    again = import_file(session, path)  # same file: matched by name + TPID, updated not duplicated
    assert again.created == {} and again.updated == {"customers": 3}


def test_notes_csv_with_bad_rows(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("customer,tpid-less\n", encoding="utf-8")
    path.write_text(
        "call_date,customer,topics,attendees,body\n"
        "2026-03-01,,AKS;Cost,Ann;Bo,first note\n"
        "yesterday,,,,bad date\n"
        "2026-03-02,Nobody Inc,,,unknown customer\n"
        "2026-03-03,,,,\n"
        "2026-03-04,,Cost,,second note\n",
        encoding="utf-8",
    )
    report = import_file(session, path)
    session.commit()
    assert [e.line for e in report.errors] == [3, 4, 5]
    notes = session.scalars(select(Note).order_by(Note.call_date)).all()
    assert [n.body for n in notes] == ["first note", "second note"]
    assert sorted(t.name for t in notes[0].topics) == ["AKS", "Cost"] and notes[0].attendees == ["Ann", "Bo"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"foo,bar\n1,2\n", "expected a 'name' column"),
        (b"name,name\nA,B\n", "duplicate column"),
        (b"name,colour\nA,red\n", "unknown column"),
        (b"body,title\nx,y\n", "call_date"),
    ],
)
def test_malformed_csv_changes_nothing(
    session: Session, tmp_path: Path, content: bytes, message: str
) -> None:
    _populate(session)
    before = export_store(session)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        import_file(session, path)
    session.rollback()
    assert _without_stamp(export_store(session)) == _without_stamp(before)


def test_missing_file_is_a_clear_error(session: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        import_file(session, tmp_path / "nope.json")


def test_csv_without_tpid_matches_by_name_and_json_with_bom(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("name,website\nSolo Corp,solo.example\n", encoding="utf-8")
    import_file(session, path)
    again = import_file(session, path)
    assert again.created == {} and again.updated == {"customers": 1}
    document = tmp_path / "export.json"
    document.write_bytes(b"\xef\xbb\xbf" + json.dumps({"topics": [{"name": "BOM ok"}]}).encode())
    assert import_file(session, document).created == {"topics": 1}


def test_export_and_import_raise_no_deprecation_warnings(session: Session) -> None:
    """SQLAlchemy 2.1 deprecates ``Result.tuples()`` and friends: the file paths must stay clean."""
    import warnings

    _populate(session)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        document = export_store(session)
        report = import_store(session, document)
    assert report.errors == []


def test_starred_milestones_come_back_after_a_wipe_and_bad_ones_are_reported(
    database_url: str, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        _populate(session)
        milestone_ids = list(session.scalars(select(Milestone.id).order_by(Milestone.id)))[:2]
        for milestone_id in milestone_ids:
            set_favourite(session, milestone_id, True)
        session.commit()
        before = export_store(session)
        starred_uids = {m["uid"] for m in before["milestones"] if m["uid"]} & {
            f["milestone"] for f in before["milestone_favourites"]}
    assert len(before["milestone_favourites"]) == 2 and len(starred_uids) == 2
    engine.dispose()
    downgrade_database(database_url)
    upgrade_database(database_url)
    with session_factory() as session:
        report = import_store(session, json.loads(json.dumps(before)))
        session.commit()
        assert report.errors == [] and report.created["milestone_favourites"] == 2
        assert _without_stamp(export_store(session)) == _without_stamp(before)
        again = import_store(session, {**before, "milestone_favourites": [
            *before["milestone_favourites"], {"milestone": "no-such-uid"}, "x",
            {"milestone": before["milestones"][0]["uid"], "created_at": "2026-01-01T10:00:00"}]})
        session.commit()
    assert [(e.section, e.line) for e in again.errors] == [
        ("milestone_favourites", 3), ("milestone_favourites", 4), ("milestone_favourites", 5)]
    assert "time zone" in again.errors[2].message and again.updated["milestone_favourites"] == 2
    with pytest.raises(ImportFileError, match="'milestone_favourites' must be a list"):
        import_store(session_factory(), {"milestone_favourites": {"a": 1}})
