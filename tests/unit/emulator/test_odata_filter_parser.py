"""The $filter parser and compiler, checked on hand-made rows.

Grammar and operators follow powerapps-docs/developer/data-platform/webapi/query/filter-rows.md
(comparison and logical operators, parentheses, startswith/endswith/contains, the
Microsoft.Dynamics.CRM.In query function); string comparison is case-insensitive as in Dataverse.
"""

from __future__ import annotations

import pytest

from callnotes.emulator.errors import PROPERTY_NOT_FOUND, QUERY_SYNTAX, DataverseFault
from callnotes.emulator.odata_filter import compile_filter, tokenize
from callnotes.emulator.table_definitions import build_schema

SCHEMA = build_schema()
TEAM = SCHEMA["msp_accountteam"]
ACCOUNT = SCHEMA["account"]
GUID_A = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
GUID_B = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"


def _team_row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {c.name: None for c in TEAM.columns.values()}
    row.update(values)
    return row


ROWS = [
    _team_row(
        msp_accountteamid="1",
        msp_accountid=GUID_A,
        msp_qualifier1="Corporate",
        msp_qualifier2="Cloud & AI",
        msp_standardtitle="Specialists IC",
        statecode=0,
    ),
    _team_row(
        msp_accountteamid="2",
        msp_accountid=GUID_A,
        msp_qualifier1="Area",
        msp_qualifier2="Cloud & AI Data",
        msp_standardtitle="Area Manager",
        statecode=1,
    ),
    _team_row(
        msp_accountteamid="3",
        msp_accountid=GUID_B,
        msp_qualifier1="Corporate",
        msp_qualifier2="Modern Work",
        msp_standardtitle=None,
        statecode=0,
    ),
    _team_row(
        msp_accountteamid="4",
        msp_accountid=GUID_B,
        msp_qualifier1="corporate",
        msp_qualifier2="CloudOps",
        msp_standardtitle="O'Brien's Title",
        statecode=0,
    ),
]


def _ids(source: str) -> list[str]:
    predicate = compile_filter(source, TEAM).predicate
    return [str(row["msp_accountteamid"]) for row in ROWS if predicate(row)]


def test_string_equality_is_case_insensitive() -> None:
    assert _ids("msp_qualifier1 eq 'CORPORATE'") == ["1", "3", "4"]


def test_guide_query_filters_corporate_cloud_roles() -> None:
    # msx-integration-guide.md "The Solution: Server-Side Filtering".
    source = (
        f"(_msp_accountid_value eq {GUID_A} or _msp_accountid_value eq {GUID_B}) "
        "and msp_qualifier1 eq 'Corporate' and startswith(msp_qualifier2,'Cloud ')"
    )
    assert _ids(source) == ["1"]


def test_and_binds_tighter_than_or() -> None:
    assert _ids("statecode eq 1 or msp_qualifier1 eq 'Area' and statecode eq 0") == ["2"]
    assert _ids("(statecode eq 1 or msp_qualifier1 eq 'Corporate') and statecode eq 0") == ["1", "3", "4"]


@pytest.mark.parametrize("literal", [GUID_A, f"'{GUID_A}'", f"guid'{GUID_A}'", GUID_A.upper()])
def test_guid_literal_forms_are_equivalent(literal: str) -> None:
    assert _ids(f"_msp_accountid_value eq {literal}") == ["1", "2"]


def test_not_and_ne_and_null() -> None:
    assert _ids("not startswith(msp_qualifier2,'Cloud ')") == ["3", "4"]
    assert _ids("msp_standardtitle eq null") == ["3"]
    assert _ids("msp_standardtitle ne null and statecode ne 1") == ["1", "4"]


def test_string_functions_and_escaped_quote() -> None:
    assert _ids("contains(msp_standardtitle,'specialists')") == ["1"]
    assert _ids("endswith(msp_qualifier2,'data')") == ["2"]
    assert _ids("msp_standardtitle eq 'O''Brien''s Title'") == ["4"]


def test_in_query_function() -> None:
    source = (
        "Microsoft.Dynamics.CRM.In(PropertyName='msp_qualifier2',PropertyValues=['Cloud & AI','Modern Work'])"
    )
    assert _ids(source) == ["1", "3"]


def test_numeric_comparisons() -> None:
    assert _ids("statecode gt 0") == ["2"]
    assert _ids("statecode le 0") == ["1", "3", "4"]


def test_index_candidates_for_eq_and_or() -> None:
    from callnotes.emulator.tables import Database

    database = Database(SCHEMA)
    table = database.tables["msp_accountteam"]
    for row in ROWS:
        table.insert(dict(row, versionnumber=1))
    compiled = compile_filter(f"_msp_accountid_value eq {GUID_A} and msp_qualifier1 eq 'Area'", TEAM)
    assert compiled.candidates(table) == {"1", "2"}
    either = compile_filter(f"_msp_accountid_value eq {GUID_A} or _msp_accountid_value eq {GUID_B}", TEAM)
    assert either.candidates(table) == {"1", "2", "3", "4"}
    assert compile_filter("msp_qualifier1 eq 'Area'", TEAM).candidates(table) is None


@pytest.mark.parametrize(
    "source",
    [
        "msp_qualifier1 eq",
        "msp_qualifier1 equals 'x'",
        "(msp_qualifier1 eq 'x'",
        "msp_qualifier1 eq 'x')",
        "msp_qualifier1 eq 'unterminated",
        "and msp_qualifier1 eq 'x'",
        "statecode eq 0 and",
        "startswith(msp_qualifier2)",
    ],
)
def test_malformed_filter_is_a_syntax_error(source: str) -> None:
    with pytest.raises(DataverseFault) as caught:
        compile_filter(source, TEAM)
    assert caught.value.status == 400 and caught.value.code == QUERY_SYNTAX


@pytest.mark.parametrize(
    "source",
    [
        "_msp_accountid_value eq 'not-a-guid'",
        "_msp_accountid_value eq guid'1234'",
        "_msp_accountid_value eq 12345",
    ],
)
def test_bad_guid_literal_is_refused(source: str) -> None:
    with pytest.raises(DataverseFault) as caught:
        compile_filter(source, TEAM)
    assert caught.value.status == 400 and caught.value.code == QUERY_SYNTAX


def test_incompatible_literal_type_is_refused() -> None:
    with pytest.raises(DataverseFault) as caught:
        compile_filter("statecode eq 'zero'", TEAM)
    assert "incompatible types" in caught.value.message


def test_unknown_property_is_the_documented_error() -> None:
    # troubleshoot .../web-api-client-errors "Could not find a property named ...".
    with pytest.raises(DataverseFault) as caught:
        compile_filter("Name eq 'x'", ACCOUNT)
    assert caught.value.code == PROPERTY_NOT_FOUND
    assert (
        caught.value.message
        == "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."
    )


def test_unknown_function_is_refused() -> None:
    with pytest.raises(DataverseFault):
        compile_filter("tolower(name) eq 'x'", ACCOUNT)


def test_tokenizer_keeps_guid_datetime_and_strings_whole() -> None:
    kinds = [t.kind for t in tokenize(f"a eq {GUID_A} or b ge 2026-03-15T10:00:00Z or c eq 'x y'")]
    assert kinds == [
        "ident",
        "ident",
        "guid",
        "ident",
        "ident",
        "ident",
        "datetime",
        "ident",
        "ident",
        "ident",
        "string",
    ]


def test_date_and_datetime_literals() -> None:
    # filter-rows.md: date and DateTimeOffset literals are unquoted.
    milestone = SCHEMA["msp_engagementmilestone"]
    row: dict[str, object] = {"msp_milestonedate": "2026-03-15", "createdon": "2026-03-15T10:30:00Z"}
    assert compile_filter(
        "msp_milestonedate ge 2026-03-01 and msp_milestonedate lt 2026-04-01", milestone
    ).predicate(row)
    assert compile_filter("createdon gt 2026-03-15T10:00:00Z", milestone).predicate(row)
    assert not compile_filter("createdon gt 2026-03-15T12:30:00+01:00", milestone).predicate(row)
    assert compile_filter("createdon le 2026-03-16", milestone).predicate(row)
