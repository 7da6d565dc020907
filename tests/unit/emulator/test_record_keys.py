"""Key segments of resource paths (record_keys), without a server: primary keys, alternate keys and the
documented errors (powerapps-docs/developer/data-platform/use-alternate-key-reference-record.md)."""

from __future__ import annotations

import pytest

from callnotes.emulator.errors import DataverseFault
from callnotes.emulator.record_keys import RecordKey, parse_key_text, record_key
from callnotes.emulator.table_definitions import build_schema

SCHEMA = build_schema()
GUID = "5B0B2D3E-0000-4000-8000-00000000000A"


def test_bare_and_named_primary_keys_are_lower_case_guids() -> None:
    assert record_key(GUID, SCHEMA["account"]) == RecordKey(primary=GUID.lower())
    assert record_key(f"accountid={GUID}", SCHEMA["account"]) == RecordKey(primary=GUID.lower())


def test_alternate_key_values_keep_quotes_and_spaces() -> None:
    key = record_key("accountnumber='O''Brien, Ltd'", SCHEMA["account"])
    assert key.primary is None and key.values() == {"accountnumber": "O'Brien, Ltd"}


def test_key_pairs_parse_every_literal_kind() -> None:
    assert parse_key_text(f"a='x',b=5,c=true,d={GUID}") == {"a": "x", "b": 5, "c": True, "d": GUID.lower()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name='x'", "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'"),
        ("accountnumber=7", "not a valid Edm.String literal"),
        ("accountid='abc'", "not a valid Edm.Guid key"),
        ("accountnumber='x", "not a valid key"),
        ("accountnumber='x',", "not a valid key"),
        ("a='1',a='2'", "not a valid key"),
        ("", "not a valid key"),
        ("not a key", "not a valid key"),
    ],
)
def test_bad_keys_are_400_with_a_message_that_says_why(text: str, message: str) -> None:
    with pytest.raises(DataverseFault) as caught:
        record_key(text, SCHEMA["account"])
    assert caught.value.status == 400 and caught.value.code == "0x80060888"
    assert message in caught.value.message


def test_a_table_without_alternate_keys_accepts_only_its_primary_key() -> None:
    with pytest.raises(DataverseFault, match=r"Microsoft\.Dynamics\.CRM\.task"):
        record_key("accountnumber='A0000001'", SCHEMA["task"])
