"""The quarter report for a seller's self-review: what was done in one fiscal quarter.

* notes per customer (and per month);
* HoK tasks by category and by milestone — the hands-on-keyboard tasks logged from the notes
  (``Task.note_id``), dated by their note's call date;
* milestones touched — linked to a note of the quarter, or given a task from one;
* action items closed — ticked off in the quarter (or, when they arrived ticked from a file, on a
  note of the quarter).

:func:`report_markdown` and :func:`report_csv` export it (the web page offers both as downloads).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from callnotes.domain import FiscalQuarter, HokCategory
from callnotes.store.models import ActionItem, Customer, Milestone, Note, Task, note_milestones
from callnotes.store.repo.action_items import closed_action_items


@dataclass(frozen=True)
class Count:
    """One bar of a chart: a label, how many, the record it links to (if any), the HoK minutes, a
    detail (customer · status) and — for milestones touched — the HoK tasks logged on it."""

    label: str
    count: int
    ref: int | None = None
    minutes: int = 0
    detail: str = ""
    tasks: int = 0


@dataclass(frozen=True)
class QuarterReport:
    quarter: FiscalQuarter
    notes_total: int
    notes_by_customer: list[Count]
    notes_by_month: list[Count]
    hok_by_category: list[Count]
    hok_by_milestone: list[Count]
    milestones_touched: list[Count]
    action_items_closed: list[ActionItem]

    @property
    def hok_total(self) -> int:
        return sum(c.count for c in self.hok_by_category)


def _notes(session: Session, quarter: FiscalQuarter) -> tuple[int, list[Count], list[Count]]:
    in_quarter = (Note.call_date >= quarter.start, Note.call_date <= quarter.end)
    rows = session.execute(
        select(Customer.id, Customer.name, func.count(Note.id)).select_from(Note)
        .outerjoin(Customer, Customer.id == Note.customer_id).where(*in_quarter)
        .group_by(Customer.id, Customer.name).order_by(func.count(Note.id).desc(), Customer.name))
    by_customer = [Count(name or "No customer", count, customer_id) for customer_id, name, count in rows]
    dates = Counter(day.replace(day=1) for day in session.scalars(select(Note.call_date).where(*in_quarter)))
    by_month = [Count(month.strftime("%B %Y"), dates[month]) for month in quarter.months()]
    return sum(c.count for c in by_customer), by_customer, by_month


def _hok_tasks(session: Session, quarter: FiscalQuarter) -> list[tuple[Task, Note]]:
    stmt = (select(Task, Note).join(Note, Note.id == Task.note_id)
            .options(selectinload(Task.milestone).selectinload(Milestone.customer))
            .where(Task.is_hok.is_(True), Note.call_date >= quarter.start, Note.call_date <= quarter.end)
            .order_by(Note.call_date, Task.id))
    return [(task, note) for task, note in session.execute(stmt)]


def _category_label(code: int | None) -> str:
    if code is None or code not in HokCategory._value2member_map_:
        return f"Category {code}" if code is not None else "No category"
    return HokCategory(code).label


def _hok(tasks: list[tuple[Task, Note]]) -> tuple[list[Count], list[Count]]:
    categories: dict[str, list[int]] = {}
    milestones: dict[int | None, tuple[str, str, list[int]]] = {}
    for task, _note in tasks:
        minutes = task.duration_minutes or 0
        categories.setdefault(_category_label(task.category_code), []).append(minutes)
        milestone = task.milestone
        label = milestone.name if milestone else "No milestone"
        customer = milestone.customer.name if milestone and milestone.customer else ""
        milestones.setdefault(task.milestone_id, (label, customer, []))[2].append(minutes)
    by_category = sorted((Count(label, len(m), None, sum(m)) for label, m in categories.items()),
                         key=lambda c: (-c.count, c.label))
    by_milestone = sorted((Count(label, len(m), ref, sum(m), customer)
                           for ref, (label, customer, m) in milestones.items()),
                          key=lambda c: (-c.count, c.label))
    return by_category, by_milestone


def hok_counts(session: Session, quarter: FiscalQuarter) -> tuple[list[Count], list[Count]]:
    """My HoK tasks of ``quarter`` (those logged from my notes, by the note's call date), by category and
    by milestone — the report's figures, for the HoK coverage page."""
    return _hok(_hok_tasks(session, quarter))


def _milestones_touched(session: Session, quarter: FiscalQuarter,
                        tasks: list[tuple[Task, Note]]) -> list[Count]:
    rows = session.execute(
        select(note_milestones.c.milestone_id, func.count()).select_from(note_milestones)
        .join(Note, Note.id == note_milestones.c.note_id)
        .where(Note.call_date >= quarter.start, Note.call_date <= quarter.end)
        .group_by(note_milestones.c.milestone_id))
    notes = {milestone_id: count for milestone_id, count in rows}
    task_counts = Counter(task.milestone_id for task, _ in tasks if task.milestone_id is not None)
    ids = set(notes) | set(task_counts)
    found = list(session.scalars(select(Milestone).where(Milestone.id.in_(ids))
                                 .options(selectinload(Milestone.customer)))) if ids else []
    touched = [Count(m.name, notes.get(m.id, 0), m.id, 0,
                     f"{m.customer.name if m.customer else ''} · {m.status_label or 'no status'}",
                     task_counts.get(m.id, 0)) for m in found]
    return sorted(touched, key=lambda c: (-(c.count + c.tasks), c.label))


def quarter_report(session: Session, quarter: FiscalQuarter) -> QuarterReport:
    """Everything the report page shows for ``quarter``."""
    total, by_customer, by_month = _notes(session, quarter)
    tasks = _hok_tasks(session, quarter)
    by_category, by_milestone = _hok(tasks)
    return QuarterReport(quarter, total, by_customer, by_month, by_category, by_milestone,
                         _milestones_touched(session, quarter, tasks),
                         closed_action_items(session, quarter.start, quarter.end))


def report_markdown(report: QuarterReport, today: date | None = None) -> str:
    """The report as Markdown (for the self-review document)."""
    q = report.quarter
    lines = [f"# {q.label} self-review ({q.start.isoformat()} to {q.end.isoformat()})", "",
             f"- Notes: {report.notes_total}", f"- HoK tasks: {report.hok_total}",
             f"- Milestones touched: {len(report.milestones_touched)}",
             f"- Action items closed: {len(report.action_items_closed)}", ""]
    lines += ["## Notes per customer", "", "| Customer | Notes |", "|---|---:|"]
    lines += [f"| {_cell(c.label)} | {c.count} |" for c in report.notes_by_customer] + [""]
    lines += ["## HoK tasks by category", "", "| Category | Tasks | Minutes |", "|---|---:|---:|"]
    lines += [f"| {_cell(c.label)} | {c.count} | {c.minutes} |" for c in report.hok_by_category] + [""]
    lines += ["## HoK tasks by milestone", "", "| Milestone | Customer | Tasks | Minutes |",
              "|---|---|---:|---:|"]
    lines += [f"| {_cell(c.label)} | {_cell(c.detail)} | {c.count} | {c.minutes} |"
              for c in report.hok_by_milestone] + [""]
    lines += ["## Milestones touched", "", "| Milestone | Customer · status | Notes | HoK tasks |",
              "|---|---|---:|---:|"]
    lines += [f"| {_cell(c.label)} | {_cell(c.detail)} | {c.count} | {c.tasks} |"
              for c in report.milestones_touched] + [""]
    lines += ["## Action items closed", ""]
    lines += [f"- {_closed_line(item)}" for item in report.action_items_closed] or ["- none"]
    if today is not None:
        lines += ["", f"_Written by callnotes on {today.isoformat()}._"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _closed_line(item: ActionItem) -> str:
    customer = item.note.customer.name if item.note.customer else "no customer"
    when = item.done_at.date().isoformat() if item.done_at else item.note.call_date.isoformat()
    return f"{item.text} ({customer}, closed {when})"


def report_csv(report: QuarterReport) -> str:
    """The report as one CSV table: section, label, detail, count, minutes, HoK tasks."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quarter", "section", "label", "detail", "count", "minutes", "hok_tasks"])
    sections = [("notes per customer", report.notes_by_customer),
                ("notes per month", report.notes_by_month),
                ("hok by category", report.hok_by_category), ("hok by milestone", report.hok_by_milestone),
                ("milestones touched", report.milestones_touched)]
    for section, counts in sections:
        for c in counts:
            writer.writerow([report.quarter.slug, section, _safe(c.label), _safe(c.detail), c.count,
                             c.minutes, c.tasks])
    for item in report.action_items_closed:
        writer.writerow([report.quarter.slug, "action item closed", _safe(item.text),
                         _safe(item.note.customer.name if item.note.customer else ""), 1, 0, 0])
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
