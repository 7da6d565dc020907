"""Typed store errors; the CLI and HTTP edges turn them into messages a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field


class StoreError(Exception):
    """Base class of every error raised by ``callnotes.store``."""


class NotFound(StoreError):
    """No record of ``kind`` with that key."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class ValidationError(StoreError, ValueError):
    """Input that cannot be stored as given (empty name, unknown enum value, …)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Conflict(StoreError):
    """The write would break a uniqueness rule (duplicate name, MSX id already used, …)."""


class DatabaseBusy(StoreError):
    """The database could not take the change in time (another writer held it); nothing changed and
    the same request may simply be sent again."""


class NaiveDatetimeError(StoreError, ValueError):
    """A datetime without a time zone was given to a UTC column."""


@dataclass(frozen=True)
class RowError:
    """One bad row of an import file: where it is and what is wrong with it.

    CSV: ``line`` is the file line where the row starts (header = line 1), ``section`` None.
    JSON: ``section`` is the list (``customers``) and ``line`` the item's position in it (from 1).
    """

    line: int
    message: str
    section: str | None = None

    def __str__(self) -> str:
        where = f"{self.section} #{self.line}" if self.section else f"line {self.line}"
        return f"{where}: {self.message}"


class ImportFileError(StoreError):
    """The import file as a whole cannot be read (bad JSON, unknown CSV header, …); nothing was changed."""


@dataclass
class ImportReport:
    """Outcome of an import: counts per kind and the rows that were rejected."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1

    @property
    def ok(self) -> bool:
        return not self.errors
