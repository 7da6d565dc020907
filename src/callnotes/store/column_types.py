"""Column types: tz-aware UTC datetimes that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from callnotes.store.errors import NaiveDatetimeError


def utcnow() -> datetime:
    """The current time, UTC, tz-aware."""
    return datetime.now(UTC)


def new_uid() -> str:
    """A fresh stable identifier for a local record (survives export / import)."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime column that only accepts tz-aware values and always returns UTC, tz-aware.

    SQLite has no time zone type: values are converted to UTC and stored naive (fixed-width text,
    so ordering stays correct); PostgreSQL stores ``timestamptz``. Either way Python sees
    ``tzinfo=UTC``. A naive datetime raises :class:`NaiveDatetimeError` instead of being guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @staticmethod
    def check(value: object) -> datetime:
        """``value`` if it is a tz-aware datetime; :class:`NaiveDatetimeError` / ``TypeError`` otherwise."""
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        return value

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = self.check(value).astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
