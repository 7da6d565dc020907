"""HoK coverage: for each open milestone on my team, the last note and the last hands-on-keyboard task;
the engagements without a HoK task, with task drafts prefilled from their notes; my HoK of a quarter.

An *engagement* is a note linked to a milestone. It *has a HoK task* when the milestone has a HoK task
(in the mirror, or one of mine in the outbox that was not discarded) logged from that note or dated on
the note's call date. A draft is what the editor's task controls would queue: subject = the note's
title, a HoK category, the call date as the task's date; approving it goes through
``outbox.queue_note_tasks`` (so write-back off / ask / auto is honoured as in the editor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.domain import TASK_SUBJECT_MAX_LENGTH, FiscalQuarter, HokCategory, WritebackMode
from callnotes.store.errors import ValidationError
from callnotes.store.models import Milestone, Note, OutboxItem, OutboxKind, OutboxState, Task, note_milestones
from callnotes.store.repo._common import page_count
from callnotes.store.repo.milestones import open_condition
from callnotes.store.repo.outbox import TaskRequest, queue_note_tasks
from callnotes.store.repo.report import Count, hok_counts

#: The HoK category a draft starts with (the seller may pick another before approving).
DEFAULT_CATEGORY = HokCategory.ARCHITECTURE_DESIGN_SESSION
DEFAULT_DURATION = 60
#: The most drafts one "approve all" queues (the page lists the newest this many).
MAX_DRAFTS = 200
#: Milestones on one page of the coverage table.
MILESTONES_PER_PAGE = 50


@dataclass(frozen=True)
class HokMark:
    """A HoK task as coverage sees it: from the mirror or my outbox (``queued``: not landed yet)."""

    milestone_id: int
    note_id: int | None
    day: date | None
    subject: str
    category: int | None
    queued: bool = False


@dataclass(frozen=True)
class MilestoneCoverage:
    milestone: Milestone
    last_note: Note | None
    last_hok: HokMark | None


@dataclass(frozen=True)
class TaskDraft:
    """A HoK task to log for one engagement (a note and one of its milestones), prefilled from the note."""

    note: Note
    milestone: Milestone
    subject: str
    category: int
    due: date

    @property
    def key(self) -> str:
        return f"{self.note.id}-{self.milestone.id}"


@dataclass(frozen=True)
class Coverage:
    """One page of milestones (``milestones_total`` in all), the newest drafts (``drafts_total`` in all,
    at most :data:`MAX_DRAFTS` listed) and my HoK of the quarter."""

    quarter: FiscalQuarter
    milestones: list[MilestoneCoverage]
    drafts: list[TaskDraft]
    hok_by_category: list[Count]
    hok_by_milestone: list[Count]
    milestones_total: int = 0
    drafts_total: int = 0
    page: int = 1
    per_page: int = MILESTONES_PER_PAGE

    @property
    def pages(self) -> int:
        return page_count(self.milestones_total, self.per_page)


def _my_team_milestones(session: Session) -> list[Milestone]:
    stmt = (select(Milestone).options(selectinload(Milestone.customer))
            .where(Milestone.on_my_team.is_(True), Milestone.gone_from_msx_at.is_(None), open_condition())
            .order_by(Milestone.milestone_date.is_(None), Milestone.milestone_date, Milestone.name,
                      Milestone.id))
    return list(session.scalars(stmt))


def _is_hok(code: object) -> bool:
    return isinstance(code, int) and code in HokCategory._value2member_map_ and HokCategory(code).is_hok


def _marks(session: Session, milestone_ids: list[int]) -> list[HokMark]:
    """Every HoK task on the milestones: the mirror's, then my writes not discarded nor landed."""
    marks = [HokMark(t.milestone_id or 0, t.note_id, t.task_date, t.subject, t.category_code)
             for t in session.scalars(select(Task).where(Task.milestone_id.in_(milestone_ids),
                                                         Task.is_hok.is_(True)))]
    queued = session.scalars(select(OutboxItem).where(
        OutboxItem.kind == OutboxKind.CREATE_TASK, OutboxItem.milestone_id.in_(milestone_ids),
        OutboxItem.state.not_in([OutboxState.DISCARDED, OutboxState.SENT])))
    for item in queued:
        payload = item.payload or {}
        if _is_hok(payload.get("category")):
            due = payload.get("due")
            marks.append(HokMark(item.milestone_id or 0, item.note_id,
                                 date.fromisoformat(due) if isinstance(due, str) else None,
                                 str(payload.get("subject", "")), payload.get("category"), queued=True))
    return marks


def _engagements(session: Session, milestone_ids: list[int]) -> list[tuple[Note, int]]:
    """(note, milestone id) for every note linked to the milestones, newest first."""
    stmt = (select(Note, note_milestones.c.milestone_id)
            .join(note_milestones, note_milestones.c.note_id == Note.id)
            .where(note_milestones.c.milestone_id.in_(milestone_ids))
            .order_by(Note.call_date.desc(), Note.id.desc()))
    return [(note, milestone_id) for note, milestone_id in session.execute(stmt)]


def _covered(note: Note, milestone_id: int, by_note: set[tuple[int, int]],
             by_day: set[tuple[int, date]]) -> bool:
    return (milestone_id, note.id) in by_note or (milestone_id, note.call_date) in by_day


def _latest(marks: list[HokMark]) -> HokMark | None:
    return max(marks, key=lambda m: (m.day or date.min, not m.queued), default=None)


def hok_coverage(session: Session, quarter: FiscalQuarter, *, page: int = 1,
                 per_page: int = MILESTONES_PER_PAGE) -> Coverage:
    """The HoK coverage page: the open milestones on my team (page ``page``, soonest first; a page past
    the last is the last) with their last note and last HoK task; drafts for the engagements of
    ``quarter`` without a HoK task, on any of those milestones (newest first); my HoK of ``quarter``."""
    if page < 1 or per_page < 1:
        raise ValidationError("a page is 1 or more", field="page")
    milestones = _my_team_milestones(session)
    ids = [m.id for m in milestones]
    marks = _marks(session, ids) if ids else []
    engagements = _engagements(session, ids) if ids else []
    by_id = {m.id: m for m in milestones}
    last_note: dict[int, Note] = {}
    for note, milestone_id in engagements:  # newest first: the first one seen is the last note
        last_note.setdefault(milestone_id, note)
    marks_of: dict[int, list[HokMark]] = {}
    for mark in marks:
        marks_of.setdefault(mark.milestone_id, []).append(mark)
    page = min(page, page_count(len(milestones), per_page))
    shown = milestones[(page - 1) * per_page:page * per_page]
    rows = [MilestoneCoverage(m, last_note.get(m.id), _latest(marks_of.get(m.id, []))) for m in shown]
    by_note = {(m.milestone_id, m.note_id) for m in marks if m.note_id is not None}
    by_day = {(m.milestone_id, m.day) for m in marks if m.day is not None}
    drafts = [_draft(note, by_id[milestone_id]) for note, milestone_id in engagements
              if quarter.start <= note.call_date <= quarter.end and by_id[milestone_id].msx_id
              and not _covered(note, milestone_id, by_note, by_day)]
    by_category, by_milestone = hok_counts(session, quarter)
    return Coverage(quarter, rows, drafts[:MAX_DRAFTS], by_category, by_milestone,
                    milestones_total=len(milestones), drafts_total=len(drafts), page=page, per_page=per_page)


def _draft(note: Note, milestone: Milestone) -> TaskDraft:
    subject = note.display_title[:TASK_SUBJECT_MAX_LENGTH]
    return TaskDraft(note, milestone, subject, int(DEFAULT_CATEGORY), note.call_date)


def approve_drafts(
    session: Session, picks: Sequence[tuple[int, int, int]], mode: WritebackMode
) -> list[OutboxItem]:
    """Queue one HoK task per (note id, milestone id, category) through the editor's store code
    (``queue_note_tasks``: the same checks, write-back ``off`` refuses with ``WritebackOff``). Every
    pick is checked before any row is added; a note not linked to that milestone, or a category that
    is not HoK, is a :class:`ValidationError` (raised before any row for a bad pick; the caller's
    transaction drops the rows of the picks before it)."""
    picks = list(dict.fromkeys(picks))  # the same draft twice is one task
    if not picks:
        raise ValidationError("pick at least one engagement to log a HoK task for", field="drafts")
    if len(picks) > MAX_DRAFTS:
        raise ValidationError(f"at most {MAX_DRAFTS} tasks at once", field="drafts")
    notes = {n.id: n for n in session.scalars(select(Note).options(selectinload(Note.milestones))
                                              .where(Note.id.in_({p[0] for p in picks})))}
    requests: list[tuple[Note, TaskRequest]] = []
    for note_id, milestone_id, category in picks:
        note = notes.get(note_id)
        if note is None or milestone_id not in {m.id for m in note.milestones}:
            raise ValidationError(f"note {note_id} is not linked to milestone {milestone_id}", field="drafts")
        if not _is_hok(category):
            raise ValidationError(f"{category!r} is not a HoK task category", field="category")
        subject = note.display_title[:TASK_SUBJECT_MAX_LENGTH]
        requests.append((note, TaskRequest(milestone_id=milestone_id, category=category,
                                           duration_minutes=DEFAULT_DURATION, subject=subject,
                                           due=note.call_date)))
    items: list[OutboxItem] = []
    for note, request in requests:
        items += queue_note_tasks(session, note, [request], mode)
    return items
