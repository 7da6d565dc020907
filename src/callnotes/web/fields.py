"""Strict field types of the JSON API and its query strings, used by every schema and route.

Pydantic's default (lax) mode takes ``"call_date": 0`` as 1970-01-01, ``"2026-11-20T00:00:00"`` as a
date, and ``1.0``, ``"1"`` or ``true`` as the id 1. The API is a contract, so each value must be
written the one way the schema says: dates ``YYYY-MM-DD`` (a string), ids JSON integers in bodies and
plain digits in paths and query strings.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator, Field, StrictInt

from callnotes.store.limits import MAX_ID

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,10}")


def _iso_date(value: Any) -> Any:
    """A ``YYYY-MM-DD`` string (or a ``date``) as a date; None passes (optional fields)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a day of the calendar") from None
    raise ValueError("must be a date written YYYY-MM-DD")


def _digits(value: Any) -> Any:
    """A path or query id: plain digits only (``1.0``, ``+1``, ``1e0`` are refused)."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a record id written in digits")
    return value


#: A date in a body or a query string: ``YYYY-MM-DD`` only.
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(json_schema_extra={"format": "date"})]
#: A record id in a body: a JSON integer (not ``1.0``, ``"1"`` nor ``true``).
RecordId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
#: A record id in a path.
PathId = Annotated[int, BeforeValidator(_digits), Path(ge=1, le=MAX_ID)]
#: An optional record id in a query string.
QueryId = Annotated[int | None, BeforeValidator(_digits), Query(ge=1, le=MAX_ID)]
#: An optional date in a query string.
QueryDate = Annotated[date | None, BeforeValidator(_iso_date), Query()]
