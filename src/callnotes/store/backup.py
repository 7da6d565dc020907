"""Export the whole store to JSON and import it back (reading import files: ``import_files``; CSV of
customers / notes: ``csv_import``).

The JSON document (DESIGN.md §Contracts) is an object with the top-level lists ``pods``,
``territories``, ``sellers``, ``solution_engineers``, ``customers``, ``topics``, ``opportunities``,
``milestones``, ``notes``, ``tasks``, ``note_templates`` and ``milestone_favourites`` (see
``backup_favourites``), plus ``format`` / ``version`` / ``exported_at``. Every item carries its
``uid``; references between items are uids (topics of a note: names).
Dates are ``YYYY-MM-DD``, datetimes ISO 8601 with offset (UTC).

Import matches an item to a stored row by ``uid``, then ``msx_id``, then name (pods, topics,
templates) and creates or overwrites it, so export → wipe → import gives the same export back.
Notes and templates pass the repositories' own checks (``clean_note_fields`` / ``check_note``,
``clean_template_fields``): the same limits, and a note's milestones must belong to its customer.
Each item is all-or-nothing (a savepoint); a bad item is reported (:class:`RowError`) and skipped,
the others are kept. Notes new to the store that link no milestone or opportunity (a restore into
an empty store: nearly all of them) go in through ``create_notes_in_bulk``, under the same rules.
A document that is not the expected shape raises :class:`ImportFileError` before anything is written.
Nothing is committed here: the caller commits (or rolls back).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import String, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, selectinload

from callnotes.store.backup_favourites import FAVOURITES, export_favourites, import_favourites
from callnotes.store.column_types import utcnow
from callnotes.store.errors import ImportFileError, ImportReport, NaiveDatetimeError, RowError, StoreError
from callnotes.store.models import (
    Customer,
    Milestone,
    Note,
    NoteTemplate,
    Opportunity,
    Pod,
    Seller,
    SellerType,
    SeSpecialty,
    SolutionEngineer,
    Task,
    Territory,
    Topic,
)
from callnotes.store.repo.action_items import sync_action_items
from callnotes.store.repo.customers import clean_customer_fields
from callnotes.store.repo.notes import NoteInput, check_note, clean_note_fields
from callnotes.store.repo.notes_bulk import NoteIdentity, create_notes_in_bulk
from callnotes.store.repo.templates import clean_template_fields
from callnotes.store.repo.topics import check_topic_count, get_or_create_topics, normalise_topic_name

_T = TypeVar("_T")
FORMAT = "callnotes-export"
VERSION = 1
_MSX_TIMES = ("gone_from_msx_at", "msx_synced_at")
_STAMPS = ("created_at", "updated_at")


@dataclass(frozen=True)
class _Section:
    """How one top-level list maps to a model."""

    name: str
    model: Any
    text: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    other: tuple[str, ...] = ()  # ints, floats, bools, enums, JSON lists (type-checked below)
    dates: tuple[str, ...] = ()
    times: tuple[str, ...] = _STAMPS
    refs: dict[str, tuple[str, Any]] = field(default_factory=dict)  # json key → (fk column, model)
    lists: dict[str, Any] = field(default_factory=dict)  # json key (= relationship) → model
    natural_key: str | None = None
    clean: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # the repository's field checks
    check: Callable[[Any], None] | None = None  # the repository's rules over the whole record
    check_new: Callable[[Session], None] | None = None  # the repository's rule before adding a row


SECTIONS: tuple[_Section, ...] = (
    _Section("pods", Pod, text=("name",), required=("name",), natural_key="name"),
    _Section("territories", Territory, text=("msx_id", "name", "account_team_unit_name"), required=("name",),
             times=_STAMPS + _MSX_TIMES, refs={"pod": ("pod_id", Pod)}),
    _Section("sellers", Seller, text=("msx_id", "name", "email"), required=("name", "seller_type"),
             other=("seller_type",), times=_STAMPS + _MSX_TIMES),
    _Section("solution_engineers", SolutionEngineer, text=("msx_id", "name", "email"),
             required=("name", "specialty"), other=("specialty",), times=_STAMPS + _MSX_TIMES),
    _Section("customers", Customer,
             text=("msx_id", "name", "tpid", "account_notes", "website", "msx_url"), required=("name",),
             times=_STAMPS + _MSX_TIMES, refs={"territory": ("territory_id", Territory)},
             lists={"sellers": Seller, "solution_engineers": SolutionEngineer}, clean=clean_customer_fields),
    _Section("topics", Topic, text=("name",), required=("name",), natural_key="name",
             check_new=check_topic_count),
    _Section("opportunities", Opportunity, text=("msx_id", "name", "number", "state", "stage", "owner_name"),
             required=("name",), other=("estimated_value", "on_my_team"),
             dates=("estimated_close_date",), times=_STAMPS + _MSX_TIMES,
             refs={"customer": ("customer_id", Customer)}),
    _Section("milestones", Milestone,
             text=("msx_id", "name", "number", "status_label", "workload", "commitment"),
             required=("name",), other=("status", "monthly_use", "on_my_team"), dates=("milestone_date",),
             times=_STAMPS + _MSX_TIMES,
             refs={"opportunity": ("opportunity_id", Opportunity), "customer": ("customer_id", Customer)}),
    _Section("notes", Note, text=("title", "body"), required=("call_date",), other=("attendees",),
             dates=("call_date",), refs={"customer": ("customer_id", Customer)},
             lists={"milestones": Milestone, "opportunities": Opportunity},
             clean=clean_note_fields, check=check_note),
    _Section("tasks", Task, text=("msx_id", "subject", "state"), required=("subject",),
             other=("category_code", "is_hok", "duration_minutes"), dates=("task_date",),
             times=_STAMPS + _MSX_TIMES,
             refs={"milestone": ("milestone_id", Milestone), "note": ("note_id", Note)}),
    _Section("note_templates", NoteTemplate, text=("name", "body"), required=("name",), natural_key="name",
             clean=clean_template_fields),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)
_CHECKS: dict[str, Any] = {
    "seller_type": SellerType, "specialty": SeSpecialty, "status": int, "category_code": int,
    "duration_minutes": int, "monthly_use": float, "on_my_team": bool, "is_hok": bool, "attendees": list,
    "estimated_value": float,
}


# ---------------------------------------------------------------- export


def _uids(session: Session, model: Any) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.uid)).all())


def _export_row(section: _Section, row: Any, uid_maps: dict[Any, dict[int, str]]) -> dict[str, Any]:
    item: dict[str, Any] = {"uid": row.uid}
    for name in section.text + section.other:
        value = getattr(row, name)
        item[name] = value.value if isinstance(value, SellerType | SeSpecialty) else value
    for name in section.dates + section.times:
        value = getattr(row, name)
        item[name] = value.isoformat() if value is not None else None
    for key, (column, model) in section.refs.items():
        target = getattr(row, column)
        item[key] = uid_maps[model][target] if target is not None else None
    for key in section.lists:
        item[key] = sorted(target.uid for target in getattr(row, key))
    if section.model is Note:
        item["topics"] = sorted(t.name for t in row.topics)
    return item


def _creation_order(section: _Section) -> tuple[Any, ...]:
    """Rows in the order they were made: by id; notes by their own creation time (then uid), which a
    restore keeps, while their ids may come in another order (new notes go in in bulk)."""
    if section.model is Note:
        return (Note.created_at, Note.uid)
    return (section.model.id,)


def export_store(session: Session) -> dict[str, Any]:
    """Everything in the store as one JSON-ready document (lists ordered by creation)."""
    uid_maps = {s.model: _uids(session, s.model) for s in SECTIONS}
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, "exported_at": utcnow().isoformat()}
    for section in SECTIONS:
        loads = [selectinload(getattr(section.model, key)) for key in section.lists]
        if section.model is Note:
            loads.append(selectinload(Note.topics))
        rows = session.scalars(select(section.model).options(*loads).order_by(*_creation_order(section)))
        document[section.name] = [_export_row(section, row, uid_maps) for row in rows]
    document[FAVOURITES] = export_favourites(session, uid_maps[Milestone])
    return document


def write_export(session: Session, target: Path | Any) -> int:
    """Write the export as JSON to a path or an open text stream; returns the number of items."""
    document = export_store(session)
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if isinstance(target, Path):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(target)
    else:
        target.write(text + "\n")
    return sum(len(document[name]) for name in SECTION_NAMES)


# ---------------------------------------------------------------- import


class _RowProblem(Exception):
    """A reason to reject one item (becomes a RowError)."""


def _text(model: Any, item: dict[str, Any], name: str) -> str | None:
    """A text field, no longer than its column (the widths follow ``store.limits``; PostgreSQL would
    refuse a longer value, SQLite would store it)."""
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise _RowProblem(f"{name} must be text")
    column_type = model.__table__.columns[name].type
    if value is not None and isinstance(column_type, String) and column_type.length is not None \
            and len(value) > column_type.length:
        raise _RowProblem(f"{name} is longer than {column_type.length} characters")
    return value


def _parsed(item: dict[str, Any], name: str, parse: Callable[[str], _T], what: str) -> _T | None:
    value = item.get(name)
    if value is None:
        return None
    try:
        return parse(value)
    except (TypeError, ValueError):
        raise _RowProblem(f"{name} must be {what}, not {value!r}") from None


def _date(item: dict[str, Any], name: str) -> date | None:
    return _parsed(item, name, date.fromisoformat, "a date like 2026-11-22")


def _datetime(item: dict[str, Any], name: str) -> datetime | None:
    parsed = _parsed(item, name, datetime.fromisoformat, "an ISO 8601 date-time")
    if parsed is not None and parsed.tzinfo is None:
        raise _RowProblem(f"{name} has no time zone: {item[name]!r}")
    return parsed


def _other(item: dict[str, Any], name: str) -> Any:
    value, kind = item.get(name), _CHECKS[name]
    if value is None:
        return None
    if kind in (SellerType, SeSpecialty):
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise _RowProblem(f"{name} must be one of {allowed}, not {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _RowProblem(f"{name} must be {kind.__name__}, not {value!r}")
    if kind is list and not all(isinstance(v, str) for v in value):
        raise _RowProblem(f"{name} must be a list of text")
    return value


@dataclass
class _Importer:
    session: Session
    report: ImportReport
    uid_maps: dict[Any, dict[str, int]] = field(default_factory=dict)
    topic_cache: dict[str, Topic] = field(default_factory=dict)

    def topics(self, names: list[str]) -> list[Topic]:
        """Topics by name, from a per-import cache (one query per new name, not per note)."""
        keys = {normalise_topic_name(name)[1]: name for name in names}
        missing = [name for key, name in keys.items() if key not in self.topic_cache]
        for topic in get_or_create_topics(self.session, missing):
            self.topic_cache[topic.name_key] = topic
        return [self.topic_cache[key] for key in keys]

    def uid_map(self, model: Any) -> dict[str, int]:
        if model not in self.uid_maps:
            self.uid_maps[model] = dict(self.session.execute(select(model.uid, model.id)).all())
        return self.uid_maps[model]

    def find(self, section: _Section, item: dict[str, Any]) -> Any:
        model, uid = section.model, item.get("uid")
        if isinstance(uid, str) and uid in self.uid_map(model):
            return self.session.get(model, self.uid_map(model)[uid])
        msx_id = item.get("msx_id")
        if "msx_id" in section.text and isinstance(msx_id, str) and msx_id:
            found = self.session.scalar(select(model).where(model.msx_id == msx_id))
            if found is not None:
                return found
        if section.natural_key and isinstance(item.get(section.natural_key), str):
            if model is Topic:
                return self.session.scalar(select(Topic).where(
                    Topic.name_key == normalise_topic_name(item["name"])[1]))
            return self.session.scalar(select(model).where(model.name == item["name"].strip()))
        return None

    def values(self, section: _Section, item: dict[str, Any]) -> dict[str, Any]:
        for name in section.required:
            if item.get(name) in (None, ""):
                raise _RowProblem(f"{name} is required")
        model = section.model
        values: dict[str, Any] = {name: _text(model, item, name) for name in section.text if name in item}
        values |= {name: _other(item, name) for name in section.other if name in item}
        values |= {name: _date(item, name) for name in section.dates if name in item}
        values |= {name: _datetime(item, name) for name in section.times if name in item}
        for name in ("body", "account_notes", "title"):
            if name in values and values[name] is None:
                values[name] = ""
        if "attendees" in values and values["attendees"] is None:
            values["attendees"] = []
        for key, (column, model) in section.refs.items():
            if key in item:
                values[column] = self.ref(model, item[key], key)
        if item.get("uid") not in (None, ""):
            values["uid"] = _text(section.model, item, "uid")
        if section.model is Topic:
            values["name"], values["name_key"] = normalise_topic_name(values["name"] or "")
        return section.clean(values) if section.clean else values

    def ref(self, model: Any, uid: Any, key: str) -> int | None:
        if uid is None:
            return None
        if not isinstance(uid, str) or uid not in self.uid_map(model):
            raise _RowProblem(f"{key} {uid!r} is not in the file or the store")
        return self.uid_map(model)[uid]

    def apply(self, section: _Section, item: dict[str, Any]) -> bool:
        values = self.values(section, item)
        record = self.find(section, item)
        created = record is None
        if created:
            if section.check_new:
                section.check_new(self.session)
            record = section.model()
            self.session.add(record)
        for name, value in values.items():
            setattr(record, name, value)
        for key, model in section.lists.items():
            if key in item:
                uids = item[key]
                if not isinstance(uids, list):
                    raise _RowProblem(f"{key} must be a list of uids")
                setattr(record, key, [self.session.get(model, self.ref(model, u, key)) for u in uids])
        if section.model is Note and "topics" in item:
            if not isinstance(item["topics"], list) or not all(isinstance(t, str) for t in item["topics"]):
                raise _RowProblem("topics must be a list of names")
            record.topics = self.topics(item["topics"])
        if section.check:
            section.check(record)
        if section.model is Note:
            sync_action_items(self.session, record, ticked_at=None)
        self.session.flush()
        self.uid_map(section.model)[record.uid] = record.id
        return created

    def run(self, section: _Section, items: list[Any]) -> None:
        numbered = list(enumerate(items, start=1))
        if section.model is Note:
            numbered = self.new_notes_in_bulk(section, numbered)
        for position, item in numbered:
            savepoint = self.session.begin_nested()
            try:
                if not isinstance(item, dict):
                    raise _RowProblem("each item must be a JSON object")
                created = self.apply(section, item)
            except (_RowProblem, StoreError, NaiveDatetimeError, ValueError, sa_exc.IntegrityError) as exc:
                savepoint.rollback()
                self.uid_maps.pop(section.model, None)
                self.topic_cache.clear()  # topics created in the rolled-back savepoint are gone
                self.report.errors.append(RowError(position, _reason(exc), section.name))
                continue
            savepoint.commit()
            self.report.count(section.name, created)


    def new_notes_in_bulk(self, section: _Section, numbered: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        """Store the notes new to the store that link no milestone or opportunity with
        :func:`create_notes_in_bulk` (the same rules, a few statements per thousand notes), keeping
        their uids and timestamps; the others are returned, to go one by one."""
        stored, seen = self.uid_map(Note), set()
        rest: list[tuple[int, Any]] = []
        positions: list[int] = []
        notes: list[NoteInput] = []
        identities: list[NoteIdentity | None] = []
        for position, item in numbered:
            uid = item.get("uid") if isinstance(item, dict) else None
            if (not isinstance(uid, str) or uid in stored or uid in seen
                    or item.get("milestones") or item.get("opportunities")):
                rest.append((position, item))
                continue
            seen.add(uid)
            try:
                note, identity = self.restored_note(section, item)
            except (_RowProblem, StoreError, NaiveDatetimeError, ValueError) as exc:
                self.report.errors.append(RowError(position, _reason(exc), section.name))
                continue
            positions.append(position)
            notes.append(note)
            identities.append(identity)
        for position, reason in zip(positions, create_notes_in_bulk(self.session, notes, identities),
                                    strict=True):
            if reason is None:
                self.report.count(section.name, True)
            else:
                self.report.errors.append(RowError(position, reason, section.name))
        self.uid_maps.pop(Note, None)
        self.topic_cache.clear()
        return rest

    def restored_note(self, section: _Section, item: dict[str, Any]) -> tuple[NoteInput, NoteIdentity]:
        values = self.values(section, item)
        topics = item.get("topics", [])
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise _RowProblem("topics must be a list of names")
        now = utcnow()
        note = NoteInput(body=values.get("body") or "", call_date=values["call_date"],
                         customer_id=values.get("customer_id"), title=values.get("title") or "",
                         topics=topics, attendees=values.get("attendees") or [])
        return note, NoteIdentity(values["uid"], values.get("created_at") or now,
                                  values.get("updated_at") or now)


def _reason(exc: Exception) -> str:
    if isinstance(exc, sa_exc.IntegrityError):
        return "conflicts with a stored record (same MSX id, uid or name)"
    return str(exc)


def check_document(document: Any) -> dict[str, list[Any]]:
    """The document's lists by section; :class:`ImportFileError` when it is not an export."""
    if not isinstance(document, dict):
        raise ImportFileError(
            "the JSON file must contain an object with lists such as 'customers' and 'notes'")
    if document.get("format", FORMAT) != FORMAT:
        raise ImportFileError(f"not a callnotes export (format {document.get('format')!r})")
    version = document.get("version", VERSION)
    if not isinstance(version, int) or version > VERSION:
        raise ImportFileError(f"export version {version!r} is newer than this callnotes understands")
    lists: dict[str, list[Any]] = {}
    for name in (*SECTION_NAMES, FAVOURITES):
        value = document.get(name, [])
        if not isinstance(value, list):
            raise ImportFileError(f"'{name}' must be a list, not {type(value).__name__}")
        lists[name] = value
    if not any(lists.values()) and not any(name in document for name in SECTION_NAMES):
        raise ImportFileError("no known lists in the file (expected e.g. 'customers', 'notes')")
    return lists


def import_store(session: Session, document: Any) -> ImportReport:
    """Import an export document (already parsed JSON). Does not commit."""
    lists = check_document(document)
    report = ImportReport()
    importer = _Importer(session, report)
    for section in SECTIONS:
        importer.run(section, lists[section.name])
    import_favourites(session, lists[FAVOURITES], importer.uid_map(Milestone), report)
    return report
