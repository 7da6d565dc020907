"""Many new notes at once (file imports): the rules of :func:`~callnotes.store.repo.notes.create_note`,
in a few statements per thousand notes instead of a dozen per note.

Every note passes the same checks as one made in the editor — :func:`clean_note_fields` (limits, the
number of action items), :func:`check_note_counts`, topic names (:func:`normalise_topic_name`), an
existing customer, the template's name as title — and a note that fails them is refused alone, with
the reason. A note that links milestones or opportunities goes through ``create_note`` itself (their
rules need the records). Valid notes are inserted a chunk at a time inside a savepoint; if the
database refuses a chunk, its notes are stored one by one, so only the bad one is lost.

The triggers that index each inserted note are set aside while the notes go in, inside the
caller's transaction (a failure rolls them back with everything else). SQLite (migrations 0001 /
0007): the new notes are indexed once at the end (search context, FTS5 rows, attendee rows) by the
same SQL the triggers use. PostgreSQL: the search context is written with each row (customer, topics,
attendees: what ``callnotes_note_context()`` computes), so the per-link context updates of
``note_topics`` are not needed; ``ALTER TABLE … DISABLE TRIGGER`` locks ``notes`` and ``note_topics``
until the import commits (pages wait, nothing fails).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, func, insert, select, text
from sqlalchemy import column as sa_column
from sqlalchemy import exc as sa_exc
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from callnotes.store.column_types import new_uid, utcnow
from callnotes.store.errors import StoreError, ValidationError
from callnotes.store.migrations.fts_0007 import attendee_rows_sql, context_sql, sqlite_note_triggers
from callnotes.store.models import ActionItem, Customer, Note, NoteTemplate, Topic, note_topics
from callnotes.store.repo.action_items import item_rows
from callnotes.store.repo.notes import NoteInput, check_note_counts, clean_note_fields, create_note
from callnotes.store.repo.topics import get_or_create_topics, normalise_topic_name

_CHUNK = 1000
#: SQLite page cache during a bulk import (KiB).
_CACHE_KIB = 256 * 1024
_TRIGGERS = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN :names").bindparams(
    bindparam("names", expanding=True))


@dataclass(frozen=True)
class NoteIdentity:
    """What a restore keeps of a note made elsewhere: its uid and its timestamps."""

    uid: str
    created_at: datetime
    updated_at: datetime


@dataclass
class _Ready:
    """A checked note: its column values, its topics (key → name as written) and, for a restored
    note, the identity it keeps."""

    position: int
    values: dict[str, Any]
    topics: dict[str, str]
    identity: NoteIdentity | None = None


@dataclass
class _Lookups:
    """What the checks need, read once: customer ids, topic ids by key, template names."""

    customers: dict[int, str]
    topics: dict[str, int]
    templates: dict[int, str]

    @classmethod
    def load(cls, session: Session) -> _Lookups:
        return cls(dict(session.execute(select(Customer.id, Customer.name)).all()), _topic_ids(session),
                   dict(session.execute(select(NoteTemplate.id, NoteTemplate.name)).all()))


def _topic_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Topic.name_key, Topic.id)).all())


def _check(data: NoteInput, position: int, lookups: _Lookups, identity: NoteIdentity | None) -> _Ready:
    """``data`` checked as ``create_note`` checks it; :class:`ValidationError` otherwise."""
    values = clean_note_fields({f.name: getattr(data, f.name) for f in fields(data)})
    topics: dict[str, str] = {}
    for name in values.pop("topics"):
        display, key = normalise_topic_name(name)
        topics.setdefault(key, display)
    check_note_counts(len(topics), len(values["attendees"]), 0)
    if values["customer_id"] is not None and values["customer_id"] not in lookups.customers:
        raise ValidationError(f"customer {values['customer_id']!r} not found", field="customer_id")
    template_id = values.pop("template_id")
    if template_id is not None and not values["title"]:
        if template_id not in lookups.templates:
            raise ValidationError(f"template {template_id!r} not found", field="template_id")
        values["title"] = lookups.templates[template_id]
    del values["milestone_ids"], values["opportunity_ids"]
    return _Ready(position, values, topics, identity)


def _reserve_ids(session: Session, count: int) -> list[int]:
    """``count`` new note ids: PostgreSQL takes them from the table's sequence; on SQLite the
    transaction holds the write lock (``BEGIN IMMEDIATE``), so the ids after the largest are free."""
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence('notes', 'id')) FROM generate_series(1, :n)"
        return list(session.scalars(text(sql), {"n": count}))
    last = session.scalar(select(func.coalesce(func.max(Note.id), 0))) or 0
    return list(range(last + 1, last + 1 + count))


class _Rows:
    """Rows for a table as the driver takes them: each value through the column type's own bind
    processor (so the stored format is exactly the ORM's), a repeated value (a date, the timestamp)
    processed once, then inserted through untyped columns so nothing is processed twice. JSON
    columns stay typed (each driver adapts them its own way)."""

    def __init__(self, session: Session, table: Any) -> None:
        dialect = session.get_bind().dialect
        self.names = [c.name for c in table.columns]
        self.processors = {c.name: None if isinstance(c.type, JSON) else c.type.bind_processor(dialect)
                           for c in table.columns}
        self.raw = sa_table(table.name, *(sa_column(c.name, c.type if isinstance(c.type, JSON) else None)
                                          for c in table.columns))
        self.cache: dict[tuple[str, Any], Any] = {}

    def value(self, name: str, value: Any) -> Any:
        processor = self.processors[name]
        if processor is None or value is None:
            return value
        key = (name, value)
        if key not in self.cache:
            self.cache[key] = processor(value)
        return self.cache[key]

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        if rows:
            names = [name for name in self.names if name in rows[0]]  # e.g. no id: the database's
            prepared = [{name: self.value(name, row[name]) for name in names} for row in rows]
            session.connection().execute(insert(self.raw), prepared)


@dataclass
class _Writers:
    notes: _Rows
    items: _Rows

    @classmethod
    def make(cls, session: Session) -> _Writers:
        return cls(_Rows(session, Note.__table__), _Rows(session, ActionItem.__table__))


def _insert(session: Session, ready: list[_Ready], lookups: _Lookups, writers: _Writers) -> None:
    """Insert checked notes (creating the topics they name that do not exist yet)."""
    missing = {key: name for note in ready for key, name in note.topics.items() if key not in lookups.topics}
    for topic in get_or_create_topics(session, list(missing.values())):
        lookups.topics[topic.name_key] = topic.id
    now = utcnow()
    ids = _reserve_ids(session, len(ready))
    postgres = session.get_bind().dialect.name == "postgresql"
    writers.notes.insert(session, [
        {**note.values, "id": note_id, **_stamps(note.identity, now),
         "search_context": _context(note, lookups) if postgres else ""}
        for note_id, note in zip(ids, ready, strict=True)])
    links = [{"note_id": note_id, "topic_id": lookups.topics[key]}
             for note_id, note in zip(ids, ready, strict=True) for key in note.topics]
    if links:
        session.connection().execute(insert(note_topics), links)
    writers.items.insert(session, [row for note_id, note in zip(ids, ready, strict=True)
                                   for row in item_rows(note_id, note.values["body"], now)])


def _stamps(identity: NoteIdentity | None, now: datetime) -> dict[str, Any]:
    if identity is None:
        return {"uid": new_uid(), "created_at": now, "updated_at": now}
    return {"uid": identity.uid, "created_at": identity.created_at, "updated_at": identity.updated_at}


def _context(note: _Ready, lookups: _Lookups) -> str:
    """The search context PostgreSQL's trigger would compute: customer, topics (by key), attendees."""
    customer = lookups.customers.get(note.values["customer_id"], "") if note.values["customer_id"] else ""
    topics = " ".join(note.topics[key] for key in sorted(note.topics))
    return f"{customer} {topics} {' '.join(note.values['attendees'])}".strip()


_Batch = list[tuple[int, NoteInput, NoteIdentity | None]]


def _one_by_one(session: Session, batch: _Batch, refused: list[str | None]) -> None:
    for position, data, identity in batch:
        savepoint = session.begin_nested()
        try:
            note = create_note(session, data)
            if identity is not None:
                note.uid, note.created_at, note.updated_at = (identity.uid, identity.created_at,
                                                              identity.updated_at)
                session.flush()
        except (StoreError, ValueError, sa_exc.IntegrityError) as exc:
            savepoint.rollback()
            refused[position] = ("conflicts with a stored record" if isinstance(exc, sa_exc.IntegrityError)
                                 else str(exc))
            continue
        savepoint.commit()


def _store_chunk(session: Session, batch: _Batch, lookups: _Lookups, writers: _Writers,
                 refused: list[str | None]) -> None:
    ready: list[_Ready] = []
    singles = [entry for entry in batch if entry[1].milestone_ids or entry[1].opportunity_ids]
    for position, data, identity in batch:
        if data.milestone_ids or data.opportunity_ids:
            continue
        try:
            ready.append(_check(data, position, lookups, identity))
        except (StoreError, ValueError) as exc:
            refused[position] = str(exc)
    savepoint = session.begin_nested()
    try:
        _insert(session, ready, lookups, writers)
    except (StoreError, sa_exc.IntegrityError):
        savepoint.rollback()
        lookups.topics = _topic_ids(session)
        inputs = {entry[0]: entry for entry in batch}
        singles += [inputs[note.position] for note in ready]
    else:
        savepoint.commit()
    _one_by_one(session, sorted(singles, key=lambda entry: entry[0]), refused)


def create_notes_in_bulk(session: Session, notes: Sequence[NoteInput],
                         identities: Sequence[NoteIdentity | None] | None = None) -> list[str | None]:
    """Store ``notes``; for each, None (stored) or the sentence why it was refused. ``identities``
    (a restore): per note, the uid and timestamps it keeps (None: new ones). Does not commit."""
    refused: list[str | None] = [None] * len(notes)
    kept = list(identities) if identities is not None else [None] * len(notes)
    if len(kept) != len(notes):
        raise ValueError("one identity (or None) per note")
    lookups, writers = _Lookups.load(session), _Writers.make(session)
    with _index_once(session):
        for start in range(0, len(notes), _CHUNK):
            batch = [(position, notes[position], kept[position])
                     for position in range(start, min(start + _CHUNK, len(notes)))]
            _store_chunk(session, batch, lookups, writers, refused)
    return refused


@contextmanager
def _index_once(session: Session) -> Iterator[None]:
    """Set the notes' indexing triggers aside, then index the notes added meanwhile at once."""
    if session.get_bind().dialect.name == "postgresql":
        with _postgres_context_once(session):
            yield
        return
    session.flush()
    start = session.scalar(select(func.coalesce(func.max(Note.id), 0))) or 0
    names = list(sqlite_note_triggers())
    saved = list(session.scalars(_TRIGGERS, {"names": names}))
    connection = session.connection()
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    # A page cache that holds the notes' indexes: the random uids would otherwise make each insert
    # read index pages back from disk once the table outgrows the default 2 MB.
    connection.exec_driver_sql(f"PRAGMA cache_size = -{_CACHE_KIB}")
    for name in names:
        connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    yield
    session.flush()
    for statement in _index_statements():
        session.execute(text(statement), {"start": start})
    for sql in saved:
        connection.exec_driver_sql(sql)
    connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


_PG_TRIGGERS = (("notes", "notes_context"), ("note_topics", "note_topics_touch"))


@contextmanager
def _postgres_context_once(session: Session) -> Iterator[None]:
    """PostgreSQL: no per-row context trigger while the notes (which carry their context) go in; notes
    stored one by one meanwhile (through ``create_note``) get theirs computed at the end."""
    session.flush()
    start = session.scalar(select(func.coalesce(func.max(Note.id), 0))) or 0
    connection = session.connection()
    for table, trigger in _PG_TRIGGERS:
        connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    yield
    session.flush()
    for table, trigger in _PG_TRIGGERS:
        connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
    session.execute(text("UPDATE notes SET search_context = search_context "
                         "WHERE id > :start AND search_context = ''"), {"start": start})


def _index_statements() -> list[str]:
    """Index the notes with ``id > :start`` as the triggers would have, one statement each."""
    context = context_sql("notes.id")
    return [
        f"UPDATE notes SET search_context = {context} WHERE id > :start",  # noqa: S608 - constant SQL
        "INSERT INTO notes_fts(rowid, title, search_context, body) "
        "SELECT id, title, search_context, body FROM notes WHERE id > :start",
        attendee_rows_sql("n.id", "n.attendees", "notes n, ") + " AND n.id > :start",
        "INSERT INTO action_items_fts(rowid, text) SELECT id, text FROM action_items WHERE note_id > :start",
    ]
