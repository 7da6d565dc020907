"""Property-based tests (Hypothesis) of the import parsers: whatever the bytes, reading an import file
ends in an :class:`ImportFileError` (one line) or a parsed source; whatever the document, an import
reports every item as stored or rejected and raises nothing else. SQLite and PostgreSQL (where a
value longer than its column would be a database error, not a rejected row)."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from callnotes.store.backup import SECTION_NAMES, import_store
from callnotes.store.csv_import import CUSTOMER_COLUMNS, NOTE_COLUMNS, import_csv_text
from callnotes.store.errors import ImportFileError
from callnotes.store.import_files import parse_json, read_import
from callnotes.store.limits import IMPORT_JSON_MAX_DEPTH

_PROPERTY = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_SCALARS = (st.none() | st.booleans() | st.integers(-(10**12), 10**12)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
#: Field names the sections know, and some they do not.
_FIELDS = sorted({"uid", "name", "msx_id", "tpid", "website", "msx_url", "account_notes", "body", "title",
                  "call_date", "topics", "attendees", "customer", "milestones", "status", "monthly_use",
                  "on_my_team", "seller_type", "specialty", "subject", "category_code", "created_at",
                  "updated_at", "gone_from_msx_at", "milestone_date", "pod", "territory", "opportunity"})
_VALUES = (_SCALARS | st.sampled_from(["2026-11-20", "2026-11-20T10:00:00+00:00", "2026-02-30", "x" * 400,
                                       "javascript:alert(1)", "https://contoso.example", "growth"])
           | st.lists(_SCALARS, max_size=3))
_ITEM = st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=6), _VALUES, max_size=6)
_DOCUMENT = st.dictionaries(st.sampled_from(SECTION_NAMES), st.lists(_ITEM | _SCALARS, max_size=4),
                            min_size=1, max_size=4)


@_PROPERTY
@given(st.binary(max_size=300), st.sampled_from(["", ".json", ".csv", ".txt"]))
def test_reading_any_bytes_is_a_source_or_one_line(content: bytes, suffix: str) -> None:
    try:
        source = read_import(content, "upload", suffix)
    except ImportFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("upload")
        return
    if suffix == ".csv":
        assert source.csv_text is not None
    if suffix == ".json":
        assert source.csv_text is None  # parsed as JSON, whatever it holds


@_PROPERTY
@given(_JSON)
def test_bounded_parser_reads_what_json_writes(value: Any) -> None:
    assert parse_json(json.dumps(value), "x.json") == value


@_PROPERTY
@given(st.integers(1, 5_000), st.sampled_from(["[", '{"a":']))
def test_any_nesting_is_parsed_or_refused_in_one_line(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "1" * (opener != "[") + closer * depth
    try:
        parse_json(text, "deep.json")
    except ImportFileError as exc:
        assert depth > IMPORT_JSON_MAX_DEPTH - 1 and "nest deeper" in str(exc)
    else:
        assert depth <= IMPORT_JSON_MAX_DEPTH


@_PROPERTY
@given(_DOCUMENT)
def test_an_import_accounts_for_every_item_and_raises_nothing_else(session: Session, document: dict) -> None:
    try:
        report = import_store(session, document)
    except ImportFileError:
        session.rollback()
        return
    session.rollback()
    for name, items in document.items():
        handled = report.created.get(name, 0) + report.updated.get(name, 0)
        rejected = sum(1 for error in report.errors if error.section == name)
        assert handled + rejected == len(items), (name, report)


_CELL = st.text(alphabet=string.ascii_letters + string.digits + " ,;\"'-:/.\n", max_size=30)


@_PROPERTY
@given(st.lists(st.sampled_from(sorted(CUSTOMER_COLUMNS | NOTE_COLUMNS | {"bogus"})), min_size=1, max_size=5,
                unique=True),
       st.lists(st.lists(_CELL, max_size=6), max_size=5))
def test_any_csv_is_imported_row_by_row_or_refused(session: Session, header: list[str], rows: list) -> None:
    lines = [",".join(header)] + [",".join(json.dumps(cell) if "," in cell else cell for cell in row)
                                  for row in rows]
    try:
        report = import_csv_text(session, "\n".join(lines) + "\n")
    except ImportFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(error.line >= 2 for error in report.errors)
    finally:
        session.rollback()
