"""Alternate-key URLs built with escaping, and the RemoteExecutionContext a webhook posts, parsed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callnotes.dataverse import (
    EntityReference,
    MalformedContext,
    Money,
    OptionSetValue,
    OtherValue,
    UnsafeKeyValue,
    key_path,
    key_reference,
    parse_remote_context,
    record_path,
)

_ID = "6d81597f-0f9f-e711-8122-000d3aa2331c"
_USER = "75c2dd85-e89e-e711-8122-000d3aa2331c"
_XRM = "http://schemas.microsoft.com/xrm/2011/Contracts"


def test_key_values_are_escaped_and_encoded() -> None:
    assert key_reference("accounts", {"accountnumber": "O'Brien"}) == "/accounts(accountnumber='O''Brien')"
    assert key_path("accounts", {"accountnumber": "A 1#é"}) == "accounts(accountnumber='A%201%23%C3%A9')"
    assert key_path("contacts", {"firstname": "Jo", "age": 3}) == "contacts(firstname='Jo',age=3)"
    assert record_path("accounts", "{" + _ID.upper() + "}") == f"accounts({_ID})"


@pytest.mark.parametrize("value", ["A/1", "50%", "a&b", "x:y", "a?b", "<b>", "a*", "back\\slash"])
def test_key_values_dataverse_cannot_address_are_refused(value: str) -> None:
    with pytest.raises(UnsafeKeyValue, match="cannot take it in a URL"):
        key_path("accounts", {"accountnumber": value})


@pytest.mark.parametrize("bad", [{"account number": "x"}, {"accountnumber": ""}, {"accountnumber": None}, {}])
def test_bad_key_columns_or_empty_values_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        key_path("accounts", bad)
    with pytest.raises(ValueError):
        key_path("accounts)", {"a": "b"})


def _context(**overrides: object) -> dict:
    document = {
        "MessageName": "Update",
        "PrimaryEntityName": "msp_engagementmilestone",
        "PrimaryEntityId": _ID,
        "OperationCreatedOn": "/Date(1506409448000-0700)/",
        "OperationId": "4af10637-4ea2-e711-8122-000d3aa2331c",
        "CorrelationId": "b374239d-4233-41a9-8b17-a86cb4f737b5",
        "RequestId": None,
        "Stage": 40,
        "Mode": 1,
        "Depth": 1,
        "InputParameters": [{"key": "Target", "value": {
            "__type": f"Entity:{_XRM}",
            "Attributes": [
                {"key": "msp_name", "value": "Renamed"},
                {"key": "msp_milestonestatus", "value": {
                    "__type": f"OptionSetValue:{_XRM}", "Value": 861980001}},
                {"key": "msp_monthlyuse", "value": {
                    "__type": f"Money:{_XRM}", "Value": 1250.5}},
                {"key": "modifiedon", "value": "/Date(1506384247000)/"},
                {"key": "ownerid", "value": {
                    "__type": f"EntityReference:{_XRM}",
                    "Id": _USER, "KeyAttributes": [], "LogicalName": "systemuser",
                    "Name": "Dana", "RowVersion": None}},
                {"key": "msp_forecastcomments", "value": None},
            ],
            "FormattedValues": [{"key": "msp_milestonestatus", "value": "At Risk"}],
            "Id": _ID, "KeyAttributes": [], "LogicalName": "msp_engagementmilestone", "RelatedEntities": [],
        }}],
        "PostEntityImages": [{"key": "AsynchronousStepPrimaryName", "value": {
            "Attributes": [{"key": "msp_name", "value": "Old name"},
                           {"key": "msp_milestonenumber", "value": "7"}],
            "FormattedValues": [], "Id": _ID, "LogicalName": "msp_engagementmilestone"}}],
        "PreEntityImages": [],
    }
    document.update(overrides)
    return document


def test_a_documented_update_context_is_read_with_typed_values() -> None:
    context = parse_remote_context(_context())
    assert (context.message, context.entity, context.record_id) == ("Update", "msp_engagementmilestone", _ID)
    assert context.created_on == datetime(2017, 9, 26, 7, 4, 8, tzinfo=UTC)  # the offset is not added
    after = context.after()
    assert after["msp_name"] == "Renamed" and after["msp_milestonenumber"] == "7"  # Target over the image
    assert after["msp_milestonestatus"] == OptionSetValue(861980001)
    assert after["msp_monthlyuse"] == Money(1250.5)
    assert after["ownerid"] == EntityReference("systemuser", _USER, "Dana")
    assert after["modifiedon"] == datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)
    assert context.formatted_after() == {"msp_milestonestatus": "At Risk"}
    row = context.target.as_row() if context.target else {}
    assert row["_ownerid_value"] == _USER
    assert row["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "systemuser"
    assert row["msp_milestonestatus"] == 861980001
    assert row["msp_milestonestatus@OData.Community.Display.V1.FormattedValue"] == "At Risk"


def test_values_of_other_types_do_not_spoil_the_context() -> None:
    parties = {"__type": f"EntityCollection:{_XRM}", "Entities": [], "EntityName": "activityparty"}
    context = parse_remote_context(_context(InputParameters=[{"key": "Target", "value": {
        "LogicalName": "phonecall", "Id": _ID, "Attributes": [
            {"key": "to", "value": parties}, {"key": "tags", "value": [1, 2]},
            {"key": "subject", "value": "Hi"}],
    }}], PostEntityImages=[]))
    after = context.after()
    assert after == {"to": OtherValue("EntityCollection"), "tags": OtherValue("list"), "subject": "Hi"}
    assert context.target is not None and context.target.as_row()["to"] is None


def test_a_delete_names_its_record_by_reference() -> None:
    reference = {"__type": f"EntityReference:{_XRM}",
                 "Id": _ID, "LogicalName": "msp_engagementmilestone", "Name": None}
    context = parse_remote_context(_context(MessageName="Delete", PostEntityImages=[],
                                            InputParameters=[{"key": "Target", "value": reference}]))
    assert context.target is None and context.after() == {} and context.record_id == _ID


@pytest.mark.parametrize(("change", "says"), [
    ({"MessageName": None}, "MessageName"),
    ({"PrimaryEntityId": "not-a-guid"}, "PrimaryEntityId"),
    ({"OperationCreatedOn": "2017-09-26"}, "OperationCreatedOn"),
    ({"InputParameters": {"Target": {}}}, "InputParameters"),
    ({"PostEntityImages": [{"value": {}}]}, "PostEntityImages"),
    ({"InputParameters": [{"key": "Target", "value": {"Attributes": []}}]}, "not an Entity"),
    ({"InputParameters": [{"key": "Target", "value": {"LogicalName": "x", "Attributes": [
        {"key": "a", "value": {"__type": "OptionSetValue:x", "Value": "1"}}]}}]}, "OptionSetValue without"),
    ({"Stage": "40"}, "Stage"),
])
def test_malformed_contexts_name_what_is_wrong(change: dict, says: str) -> None:
    with pytest.raises(MalformedContext, match=says):
        parse_remote_context(_context(**change))
    with pytest.raises(MalformedContext, match="not a JSON object"):
        parse_remote_context([1, 2])
