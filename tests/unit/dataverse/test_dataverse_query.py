"""ODataFilter escaping and composition, query encoding, URL-budget chunking.

Literal rules: powerapps-docs/developer/data-platform/webapi/query/filter-rows.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from callnotes.dataverse import ODataFilter
from callnotes.dataverse.query import (
    BATCH_URL_BUDGET,
    GET_URL_BUDGET,
    as_guid,
    chunk_in_filters,
    encode_query,
    literal,
)

F = ODataFilter


def test_string_literal_doubles_quotes() -> None:
    assert str(F.eq("name", "O'Brien's")) == "name eq 'O''Brien''s'"


def test_injection_attempt_stays_inside_the_literal() -> None:
    evil = "x' or name ne 'y"
    assert str(F.eq("name", evil)) == "name eq 'x'' or name ne ''y'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-1.5, "-1.5"),
        (Decimal("1234.50"), "1234.50"),
        (uuid.UUID("00000000-0000-0000-0000-0000000000ab"), "00000000-0000-0000-0000-0000000000ab"),
        (date(2024, 1, 31), "2024-01-31"),
        (datetime(2024, 1, 31, 9, 0, tzinfo=UTC), "2024-01-31T09:00:00Z"),
        (datetime(2024, 1, 31, 10, 0, tzinfo=timezone(timedelta(hours=1))), "2024-01-31T09:00:00Z"),
    ],
)
def test_literals(value: object, expected: str) -> None:
    assert literal(value) == expected  # type: ignore[arg-type]


def test_naive_datetime_and_nan_and_unknown_types_are_refused() -> None:
    with pytest.raises(ValueError):
        literal(datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        literal(float("nan"))
    with pytest.raises(TypeError):
        literal(object())  # type: ignore[arg-type]


def test_field_names_are_validated() -> None:
    with pytest.raises(ValueError):
        F.eq("name eq 'x' or 1", "y")
    assert str(F.eq("parentaccountid/name", "x")) == "parentaccountid/name eq 'x'"


def test_functions_and_composition() -> None:
    flt = (F.startswith("name", "Con'") | F.contains("name", "a&b")) & ~F.is_null("tpid")
    assert str(flt) == "((startswith(name,'Con''')) or (contains(name,'a&b'))) and (not (tpid eq null))"
    assert str(F.not_null("x")) == "x ne null"


def test_in_builds_an_or_of_eq_and_refuses_empty() -> None:
    ids = [uuid.UUID(int=1), uuid.UUID(int=2)]
    assert str(F.in_("accountid", ids)) == (
        "(accountid eq 00000000-0000-0000-0000-000000000001) or "
        "(accountid eq 00000000-0000-0000-0000-000000000002)"
    )
    assert str(F.in_("x", ["only"])) == "x eq 'only'"
    with pytest.raises(ValueError):
        F.in_("x", [])


def test_composition_refuses_plain_strings() -> None:
    with pytest.raises(TypeError):
        F.all_of(F.eq("a", 1), "b eq 2")  # type: ignore[arg-type]


def test_as_guid_accepts_braces_and_rejects_junk() -> None:
    assert str(as_guid("{AB4A7E57-0000-0000-0000-000000000001}")) == "ab4a7e57-0000-0000-0000-000000000001"
    with pytest.raises(ValueError):
        as_guid("1 or 1")


def test_encode_query_escapes_every_dangerous_character_and_round_trips() -> None:
    value = str(F.eq("name", "a&b#c+d%e f'g"))
    query = encode_query({"$filter": value, "$top": 5, "$select": None})
    assert "&" not in query.split("&$top")[0].split("=", 1)[1]
    assert "#" not in query and "+" not in query and " " not in query
    assert parse_qs(query, keep_blank_values=True)["$filter"] == [value]
    assert "$select" not in query


def test_chunking_respects_the_budget_and_keeps_every_value_once() -> None:
    base = "https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name"
    ids = [uuid.UUID(int=i) for i in range(3000)]
    chunks = chunk_in_filters("accountid", ids, url_without_filter=base, budget=GET_URL_BUDGET)
    assert len(chunks) > 1
    seen = []
    for flt in chunks:
        url = f"{base}&{encode_query({'$filter': str(flt)})}"
        assert len(url) <= GET_URL_BUDGET
        seen += [part.split(" eq ")[1].rstrip(")") for part in str(flt).split(" or ")]
    assert seen == [str(i) for i in ids]
    bigger = chunk_in_filters("accountid", ids, url_without_filter=base, budget=BATCH_URL_BUDGET)
    assert len(bigger) < len(chunks)  # 64 KB in $batch holds about twice as many


def test_chunking_with_extra_condition_and_value_too_large() -> None:
    base = "https://x/api/data/v9.2/accounts"
    chunks = chunk_in_filters("name", ["a", "b"], url_without_filter=base, extra=F.eq("statecode", 0))
    assert str(chunks[0]).startswith("(statecode eq 0) and (")
    with pytest.raises(ValueError):
        chunk_in_filters("name", ["x" * 40000], url_without_filter=base)
    assert urlsplit(base).path.endswith("accounts")
