"""The quarter report on SQLite and PostgreSQL: fiscal quarter boundaries (1 July), HoK tasks from the
notes only, milestones touched, closed action items, and exports a spreadsheet cannot be tricked by."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy.orm import Session

from callnotes.domain import FiscalQuarter, HokCategory
from callnotes.store import CustomerInput, NoteInput, create_customer, create_note
from callnotes.store.models import Milestone, Task
from callnotes.store.repo.report import quarter_report, report_csv, report_markdown

Q1 = FiscalQuarter.parse("FY27-Q1")  # 1 July to 30 September 2026


def _data(session: Session) -> None:
    contoso = create_customer(session, CustomerInput(name="Contoso | Labs"))
    evil = create_customer(session, CustomerInput(name="=HYPERLINK(\"http://x\")"))
    milestone = Milestone(name="Go live", customer_id=contoso.id, msx_id="m1", status_label="At Risk")
    quiet = Milestone(name="Untouched", customer_id=contoso.id, msx_id="m2")
    session.add_all([milestone, quiet])
    session.flush()
    first = create_note(session, NoteInput(body="- [x] arrived done", call_date=date(2026, 7, 1),
                                           customer_id=contoso.id, milestone_ids=[milestone.id]))
    create_note(session, NoteInput(body="last day of FY26", call_date=date(2026, 6, 30),
                                   customer_id=contoso.id))
    create_note(session, NoteInput(body="x", call_date=date(2026, 9, 30), customer_id=evil.id))
    create_note(session, NoteInput(body="no customer", call_date=date(2026, 8, 15)))
    session.add_all([
        Task(subject="ADS", category_code=int(HokCategory.ARCHITECTURE_DESIGN_SESSION), is_hok=True,
             duration_minutes=60, milestone_id=milestone.id, note_id=first.id),
        Task(subject="Demo", category_code=int(HokCategory.DEMO), is_hok=True, duration_minutes=30,
             milestone_id=milestone.id, note_id=first.id),
        Task(subject="Internal", category_code=int(HokCategory.INTERNAL), is_hok=False, duration_minutes=30,
             milestone_id=milestone.id, note_id=first.id),
        Task(subject="Imported, no note", category_code=int(HokCategory.DEMO), is_hok=True,
             milestone_id=quiet.id),
    ])
    session.commit()


def test_report_counts_the_quarter_only(session: Session) -> None:
    _data(session)
    report = quarter_report(session, Q1)
    assert report.notes_total == 3
    assert sorted((c.label, c.count) for c in report.notes_by_customer) == [
        ("=HYPERLINK(\"http://x\")", 1), ("Contoso | Labs", 1), ("No customer", 1)]
    assert [(c.label, c.count) for c in report.notes_by_month] == [("July 2026", 1), ("August 2026", 1),
                                                                   ("September 2026", 1)]
    assert [(c.label, c.count, c.minutes) for c in report.hok_by_category] == [
        ("Architecture Design Session", 1, 60), ("Demo", 1, 30)]
    assert [(c.label, c.count, c.detail) for c in report.hok_by_milestone] == [
        ("Go live", 2, "Contoso | Labs")]
    assert [(c.label, c.count, c.tasks) for c in report.milestones_touched] == [("Go live", 1, 2)]
    assert [i.text for i in report.action_items_closed] == []  # ticked when written: closed now, not in Q1
    previous = quarter_report(session, Q1.previous())
    assert previous.notes_total == 1 and previous.hok_total == 0


def test_exports_escape_what_a_spreadsheet_or_markdown_would_run(session: Session) -> None:
    _data(session)
    report = quarter_report(session, Q1)
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    labels = [row[2] for row in rows if row[1] == "notes per customer"]
    assert "'=HYPERLINK(\"http://x\")" in labels and all(not label.startswith("=") for label in labels)
    markdown = report_markdown(report, date(2026, 10, 1))
    assert "| Contoso \\| Labs | 1 |" in markdown and markdown.startswith("# FY27 Q1 self-review (2026-07-01")
    assert "- HoK tasks: 2" in markdown and "_Written by callnotes on 2026-10-01._" in markdown
