"""UTCDateTime: naive datetimes refused, aware ones normalised to UTC on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from callnotes.store.column_types import UTCDateTime
from callnotes.store.errors import NaiveDatetimeError
from callnotes.store.models import Note

PLUS_TWO = timezone(timedelta(hours=2))


def test_naive_refused_on_bind() -> None:
    with pytest.raises(NaiveDatetimeError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())


def test_naive_refused_on_model_assignment() -> None:
    with pytest.raises(NaiveDatetimeError):
        Note(created_at=datetime(2026, 1, 1))


def test_aware_value_stored_as_utc() -> None:
    local = datetime(2026, 1, 1, 14, 0, tzinfo=PLUS_TWO)
    assert UTCDateTime().process_bind_param(local, sqlite.dialect()) == datetime(2026, 1, 1, 12, 0)
    assert UTCDateTime().process_bind_param(local, postgresql.dialect()) == datetime(
        2026, 1, 1, 12, 0, tzinfo=UTC
    )


def test_results_are_utc_aware() -> None:
    column = UTCDateTime()
    assert column.process_result_value(datetime(2026, 1, 1, 12), sqlite.dialect()).tzinfo is UTC
    assert column.process_result_value("2026-01-01 12:00:00.000000", sqlite.dialect()) == datetime(
        2026, 1, 1, 12, tzinfo=UTC
    )
    back = column.process_result_value(datetime(2026, 1, 1, 14, tzinfo=PLUS_TWO), postgresql.dialect())
    assert back == datetime(2026, 1, 1, 12, tzinfo=UTC) and back.tzinfo is UTC
