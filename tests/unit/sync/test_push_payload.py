"""What a record sends under a mapping: conversions, blanks left out, create-only fields, fingerprints."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from callnotes.sync.mappings import parse_mappings
from callnotes.sync.push_payload import build_payload, new_record_id
from callnotes.sync.push_plan import Action, Work, first_action, request_for

MAPPING = """
[[mapping]]
name = "calls"
source = "notes"
table = "phonecalls"
key = { column = "cn_callnotesid", source = "uid" }
[[mapping.field]]
target = "subject"
source = "title"
type = "String"
max_length = 10
[[mapping.field]]
target = "description"
source = "body"
type = "Memo"
[[mapping.field]]
target = "actualend"
source = "call_date"
type = "DateTime"
[[mapping.field]]
target = "prioritycode"
value = "high"
type = "OptionSet"
[[mapping.field]]
target = "actualdurationminutes"
value = "45"
type = "Integer"
[[mapping.field]]
target = "regardingobjectid_account_phonecall"
source = "customer.tpid"
type = "Lookup"
lookup = { table = "accounts", key = "accountnumber" }
[[mapping.field]]
target = "category"
value = "callnotes"
type = "String"
direction = "create"
"""
OPTIONS = {"prioritycode": {"Low": 0, "Normal": 1, "High": 2}}


def _note(**changes: object) -> SimpleNamespace:
    values = {
        "id": 7,
        "uid": "u-7",
        "display_title": "A long title indeed",
        "body": "Body",
        "call_date": dt.date(2026, 11, 6),
        "topics": [],
        "attendees": [],
        "customer": SimpleNamespace(tpid="O'Neil 1"),
    }
    values.update(changes)
    return SimpleNamespace(**values)


def _mapping():
    return parse_mappings(MAPPING).mappings[0]


def test_values_are_converted_by_type_and_create_only_fields_are_not_updated() -> None:
    payload = build_payload(_mapping(), _note(), OPTIONS)
    assert (
        payload.problem is None
        and payload.key_value == "u-7"
        and payload.label == "note 7 'A long title indeed'"
    )
    assert payload.update_body == {
        "cn_callnotesid": "u-7",
        "subject": "A long ti…",
        "description": "Body",
        "actualend": "2026-11-06T12:00:00Z",
        "prioritycode": 2,
        "actualdurationminutes": 45,
        "regardingobjectid_account_phonecall@odata.bind": "/accounts(accountnumber='O''Neil 1')",
    }
    assert payload.create_body == {**payload.update_body, "category": "callnotes"}


def test_blank_values_are_left_out_and_the_fingerprint_follows_what_is_sent() -> None:
    mapping = _mapping()
    full = build_payload(mapping, _note(), OPTIONS)
    blank = build_payload(mapping, _note(body="   ", customer=None), OPTIONS)
    assert "description" not in blank.update_body and not any("@odata.bind" in k for k in blank.update_body)
    assert blank.fingerprint != full.fingerprint
    assert build_payload(mapping, _note(), OPTIONS).fingerprint == full.fingerprint  # stable
    assert build_payload(mapping, _note(uid=""), OPTIONS).key_value is None  # no key: not sent at all


def test_values_that_cannot_be_sent_are_a_problem_for_that_record_only() -> None:
    mapping = _mapping()
    assert "no option labelled 'high'" not in (build_payload(mapping, _note(), OPTIONS).problem or "")
    unknown = build_payload(mapping, _note(), {"prioritycode": {"Low": 0}})
    assert unknown.problem == "prioritycode: no option labelled 'high' (options: Low)"
    unsafe = build_payload(mapping, _note(customer=SimpleNamespace(tpid="A/B")), OPTIONS)
    assert "cannot take it in a URL" in (unsafe.problem or "")
    naive = build_payload(mapping, _note(call_date=dt.datetime(2026, 11, 6, 9, 0)), OPTIONS)
    assert "without a time zone" in (naive.problem or "")


def test_ids_callnotes_gives_are_stable_and_requests_are_conditional_patches() -> None:
    mapping = _mapping()
    payload = build_payload(mapping, _note(), OPTIONS)
    assert new_record_id(mapping, "u-7") == new_record_id(mapping, "u-7") != new_record_id(mapping, "u-8")
    assert (
        first_action(mapping, payload, None) is Action.FIND
        and first_action(mapping, payload, "x") is Action.UPDATE
    )
    create = request_for(mapping, Work(payload, Action.CREATE))
    assert (create.method, create.path, create.headers) == (
        "PATCH",
        f"phonecalls({new_record_id(mapping, 'u-7')})",
        {"If-None-Match": "*"},
    )
    update = request_for(
        mapping, Work(payload, Action.UPDATE, target_id="6d81597f-0f9f-e711-8122-000d3aa2331c")
    )
    assert update.headers == {"If-Match": "*"} and "category" not in (update.body or {})
