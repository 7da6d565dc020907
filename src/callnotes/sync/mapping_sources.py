"""The callnotes fields a mapping can read, per kind of record: name, value type, how to read it.

Names are the store's (``title``, ``call_date``…); related records are reached with a dot
(``customer.tpid``). A note's ``title`` is its display title (the first line of the body when it has
no title of its own); ``topics`` and ``attendees`` are comma-separated text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import Any

from callnotes.store.repo.push_sources import PushSource


class ValueType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class SourceField:
    name: str
    type: ValueType
    read: Callable[[Any], object]


def _attr(name: str) -> Callable[[Any], object]:
    return attrgetter(name)


def _via(relation: str, read: Callable[[Any], object]) -> Callable[[Any], object]:
    related_of = attrgetter(relation)

    def through(record: Any) -> object:
        related = related_of(record)
        return None if related is None else read(related)

    return through


def _fields(*specs: tuple[str, ValueType, Callable[[Any], object]]) -> dict[str, SourceField]:
    return {name: SourceField(name, kind, read) for name, kind, read in specs}


T, INT, N, D, DT, B = (ValueType.TEXT, ValueType.INTEGER, ValueType.NUMBER, ValueType.DATE,
                       ValueType.DATETIME, ValueType.BOOLEAN)
_MSX = (("uid", T), ("id", INT), ("msx_id", T), ("created_at", DT), ("updated_at", DT))
_CUSTOMER = (("name", T), ("tpid", T), ("website", T), ("account_notes", T))


def _plain(names: tuple[tuple[str, ValueType], ...], prefix: str = "",
           relation: str | None = None) -> list[tuple[str, ValueType, Callable[[Any], object]]]:
    return [(f"{prefix}{name}", kind, _via(relation, _attr(name)) if relation else _attr(name))
            for name, kind in names]


def _note_extras() -> list[tuple[str, ValueType, Callable[[Any], object]]]:
    return [
        ("title", T, lambda note: note.display_title),
        ("body", T, _attr("body")),
        ("call_date", D, _attr("call_date")),
        ("topics", T, lambda note: ", ".join(topic.name for topic in note.topics)),
        ("attendees", T, lambda note: ", ".join(note.attendees or [])),
    ]


SOURCE_FIELDS: Mapping[PushSource, Mapping[str, SourceField]] = {
    PushSource.CUSTOMERS: _fields(
        *_plain((*_MSX, *_CUSTOMER)), ("territory.name", T, _via("territory", _attr("name")))),
    PushSource.NOTES: _fields(
        *_plain((("uid", T), ("id", INT), ("created_at", DT), ("updated_at", DT))), *_note_extras(),
        *_plain((("uid", T), ("msx_id", T), *_CUSTOMER), "customer.", "customer")),
    PushSource.TASKS: _fields(
        *_plain((*_MSX, ("subject", T), ("category_code", INT), ("duration_minutes", INT), ("state", T),
                 ("is_hok", B))),
        *_plain((("msx_id", T), ("name", T), ("number", T)), "milestone.", "milestone")),
    PushSource.MILESTONES: _fields(
        *_plain((*_MSX, ("name", T), ("number", T), ("status", INT), ("status_label", T),
                 ("milestone_date", D), ("monthly_use", N), ("workload", T))),
        *_plain((("uid", T), ("msx_id", T), *_CUSTOMER), "customer.", "customer"),
        *_plain((("msx_id", T), ("name", T), ("number", T)), "opportunity.", "opportunity")),
}
