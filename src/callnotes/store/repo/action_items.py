"""Action items: the ``- [ ] …`` lines of notes, as one list of follow-ups across customers.

The note's Markdown is the truth. Whenever a body is stored (editor, JSON API, file imports) the store
re-reads its checkbox lines (:func:`sync_action_items`): an item whose text is unchanged keeps its id
and ``done_at``, new lines become items, removed lines go. A due date is written in the line
(``due: 2026-12-10``, or ``due 2026-12-10``). Ticking an item off (:func:`set_action_item_done`)
rewrites ``[ ]`` as ``[x]`` in the note's Markdown, so the note and the list never disagree.
Lines inside fenced code blocks are not items; a checkbox with no text is not one either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, func, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ValidationError
from callnotes.store.limits import ACTION_ITEM_TEXT_MAX, NOTE_ACTION_ITEMS_MAX
from callnotes.store.models import ActionItem, Note
from callnotes.store.repo._common import get_or_raise, in_chunks

_CHECKBOX = re.compile(
    r"^(?P<lead>\s{0,12}(?:[-*+]|\d{1,9}[.)])\s+\[)(?P<mark>[ xX])(?P<rest>\]\s+(?P<text>.*))$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_DUE = re.compile(r"\(?\bdue:?\s*(\d{4}-\d{2}-\d{2})\)?", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedItem:
    """One checkbox line: its place (``position`` among the note's items, ``line`` in the body),
    its text without the due marker, the due date and whether it is ticked."""

    position: int
    line: int
    text: str
    due: date | None
    done: bool

    @property
    def key(self) -> str:
        """What makes two readings of a body the same item: the text, any case and spacing."""
        return _SPACES.sub(" ", self.text).strip().casefold()


def _due(text: str) -> tuple[str, date | None]:
    for match in _DUE.finditer(text):
        try:
            due = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        cleaned = _SPACES.sub(" ", text[:match.start()] + text[match.end():]).strip(" ,;\u2013-")
        return cleaned or text.strip(), due
    return text.strip(), None


def parse_action_items(body: str) -> list[ParsedItem]:
    """The action items of a Markdown body, in order."""
    items: list[ParsedItem] = []
    fenced = False
    for number, line in enumerate((body or "").splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _CHECKBOX.match(line)
        if match is None or not match.group("text").strip():
            continue
        text, due = _due(match.group("text"))
        items.append(ParsedItem(len(items), number, text[:ACTION_ITEM_TEXT_MAX], due,
                                match.group("mark") != " "))
    return items


def check_action_item_count(body: str) -> None:
    """:class:`ValidationError` when ``body`` holds more than :data:`NOTE_ACTION_ITEMS_MAX` items."""
    if body.count("[") <= NOTE_ACTION_ITEMS_MAX:
        return
    count = len(parse_action_items(body))
    if count > NOTE_ACTION_ITEMS_MAX:
        raise ValidationError(f"a note has at most {NOTE_ACTION_ITEMS_MAX} action items, not {count}",
                              field="body")


def _match(existing: list[ActionItem],
           parsed: list[ParsedItem]) -> list[tuple[ParsedItem, ActionItem | None]]:
    """Pair each parsed item with a stored one of the same text (first come, first served)."""
    by_key: dict[str, list[ActionItem]] = {}
    for item in existing:
        by_key.setdefault(ParsedItem(0, 0, item.text, None, False).key, []).append(item)
    return [(p, by_key[p.key].pop(0) if by_key.get(p.key) else None) for p in parsed]


def sync_action_items(session: Session, note: Note, *, ticked_at: datetime | None) -> None:
    """Make the note's stored action items match its body. ``ticked_at``: the time to record for
    items that are (newly) ticked — now for the editor and the API, None for file imports (the item
    was closed some time before)."""
    parsed = parse_action_items(note.body)
    existing: list[ActionItem] = []
    if note.id is not None:
        existing = list(session.scalars(
            select(ActionItem).where(ActionItem.note_id == note.id).order_by(ActionItem.position)))
    kept: set[int] = set()
    for item, stored in _match(existing, parsed):
        if stored is None:
            session.add(ActionItem(note=note, position=item.position, line=item.line, text=item.text,
                                   due=item.due, done=item.done, done_at=ticked_at if item.done else None))
            continue
        kept.add(stored.id)
        if stored.done != item.done:
            stored.done_at = ticked_at if item.done else None
        for name in ("position", "line", "text", "due", "done"):
            if getattr(stored, name) != getattr(item, name):
                setattr(stored, name, getattr(item, name))
    for stored in existing:
        if stored.id not in kept:
            session.delete(stored)


def item_rows(note_id: int, body: str, now: datetime) -> list[dict[str, Any]]:
    """``action_items`` rows for a note stored in bulk (file imports: ticked ones get no ``done_at``)."""
    return [{"note_id": note_id, "position": p.position, "line": p.line, "text": p.text, "due": p.due,
             "done": p.done, "done_at": None, "created_at": now, "updated_at": now}
            for p in parse_action_items(body)]


def backfill_action_items(connection: Connection) -> None:
    """Read the action items of every stored note (migration 0007)."""
    now = utcnow()
    notes = connection.execute(select(Note.id, Note.body).where(
        or_(Note.body.contains("[ ]"), Note.body.contains("[x]"), Note.body.contains("[X]")))).all()
    rows = [row for note_id, body in notes for row in item_rows(note_id, body, now)]
    for chunk in in_chunks(rows, 1000):
        connection.execute(insert(ActionItem), chunk)


@dataclass(frozen=True)
class ActionItemBuckets:
    """Open items in the follow-ups list's three groups (each by due date, then note date)."""

    overdue: list[ActionItem]
    this_week: list[ActionItem]
    later: list[ActionItem]

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.this_week) + len(self.later)


def _list_query(customer_id: int | None, note_id: int | None, item_ids: Iterable[int] | None) -> Select[Any]:
    stmt = (select(ActionItem).join(Note, Note.id == ActionItem.note_id)
            .options(selectinload(ActionItem.note).selectinload(Note.customer)))
    if customer_id is not None:
        stmt = stmt.where(Note.customer_id == customer_id)
    if note_id is not None:
        stmt = stmt.where(ActionItem.note_id == note_id)
    if item_ids is not None:
        stmt = stmt.where(ActionItem.id.in_(list(item_ids)))
    return stmt.order_by(ActionItem.due.is_(None), ActionItem.due, Note.call_date.desc(), ActionItem.note_id,
                         ActionItem.position)


def list_action_items(session: Session, *, done: bool | None = False, customer_id: int | None = None,
                      note_id: int | None = None, item_ids: Iterable[int] | None = None,
                      limit: int | None = 500) -> list[ActionItem]:
    """Action items (open ones by default; ``done=None``: all) with their note and customer: those
    with a due date first, by date. A note's own items come in the order they are written."""
    stmt = _list_query(customer_id, note_id, item_ids)
    if note_id is not None:
        stmt = stmt.order_by(None).order_by(ActionItem.position)
    if done is not None:
        stmt = stmt.where(ActionItem.done.is_(done))
    return list(session.scalars(stmt.limit(limit)))


def open_action_items(session: Session, today: date, *, customer_id: int | None = None,
                      item_ids: Iterable[int] | None = None) -> ActionItemBuckets:
    """Open items as overdue (due before ``today``), this week (due by Sunday) and later (or undated)."""
    week_end = today + timedelta(days=6 - today.weekday())
    overdue, this_week, later = [], [], []
    for item in list_action_items(session, customer_id=customer_id, item_ids=item_ids):
        if item.due is not None and item.due < today:
            overdue.append(item)
        elif item.due is not None and item.due <= week_end:
            this_week.append(item)
        else:
            later.append(item)
    return ActionItemBuckets(overdue, this_week, later)


def count_open_action_items(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ActionItem).where(ActionItem.done.is_(False))) or 0


def _rewrite_line(body: str, item: ActionItem, done: bool) -> str:
    """``body`` with the item's checkbox set; :class:`ValidationError` when the line moved meanwhile."""
    lines = body.splitlines(keepends=True)
    match = _CHECKBOX.match(lines[item.line].rstrip("\r\n")) if item.line < len(lines) else None
    if match is None or _due(match.group("text"))[0][:ACTION_ITEM_TEXT_MAX] != item.text:
        raise ValidationError("the note changed since this list was shown; reload and try again",
                              field="action_item")
    ending = lines[item.line][len(lines[item.line].rstrip("\r\n")):]
    lines[item.line] = f"{match.group('lead')}{'x' if done else ' '}{match.group('rest')}{ending}"
    return "".join(lines)


def set_action_item_done(session: Session, item_id: int, done: bool = True) -> ActionItem:
    """Tick an item off (or on again): the note's Markdown line changes, then the items are re-read."""
    item = get_or_raise(session, ActionItem, item_id, "action item")
    note = item.note
    if item.done != done:
        note.body = _rewrite_line(note.body, item, done)
        sync_action_items(session, note, ticked_at=utcnow())
        session.flush()
    return item


def closed_action_items(session: Session, start: date, end: date) -> list[ActionItem]:
    """Items ticked off between ``start`` and ``end`` (inclusive): by ``done_at``, or — for items that
    arrived ticked — by their note's call date."""
    first = datetime.combine(start, time(), UTC)
    after = datetime.combine(end + timedelta(days=1), time(), UTC)
    stmt = (select(ActionItem).join(Note, Note.id == ActionItem.note_id)
            .options(selectinload(ActionItem.note).selectinload(Note.customer))
            .where(ActionItem.done.is_(True),
                   or_(and_(ActionItem.done_at.is_not(None), ActionItem.done_at >= first,
                            ActionItem.done_at < after),
                       and_(ActionItem.done_at.is_(None), Note.call_date >= start, Note.call_date <= end)))
            .order_by(Note.call_date, ActionItem.id))
    return list(session.scalars(stmt))
