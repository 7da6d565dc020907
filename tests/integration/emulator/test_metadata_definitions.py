"""The metadata API over real HTTP, compared with Microsoft's documented requests and responses:
powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md,
retrieve-metadata-name-metadataid.md, web-api-service-documents.md, web-api-entitytypes.md and
web-api-navigation-properties.md. Values come from the emulator's table definitions (the single source).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from callnotes.emulator.table_definitions import ACTIVE_STATE, MILESTONE_STATUS, PRIORITY, STATUS_STATES
from tests.fixtures.emulator import web_api_client

JSON = "application/json; odata.metadata=minimal"
CRM = "Microsoft.Dynamics.CRM"
LABEL_KEYS = {"Label", "LanguageCode", "IsManaged", "MetadataId", "HasChanged"}
OPTION_KEYS = {
    "Value",
    "Color",
    "IsManaged",
    "ExternalValue",
    "ParentValues",
    "Tag",
    "IsHidden",
    "MetadataId",
    "HasChanged",
    "Label",
    "Description",
}
LOOKUPS = f"AttributeType eq {CRM}.AttributeTypeCode'Lookup'"
EDM = {"e": "http://docs.oasis-open.org/odata/ns/edm"}


@pytest.fixture(scope="module")
def api(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with web_api_client(emulator) as client:
        yield client


def _ok(answer: httpx.Response) -> dict:
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == JSON and answer.headers["OData-Version"] == "4.0"
    return answer.json()


def _labels(option: dict) -> str:
    label = option["Label"]
    assert (
        set(label["LocalizedLabels"][0]) == LABEL_KEYS and label["UserLocalizedLabel"]["LanguageCode"] == 1033
    )
    return label["UserLocalizedLabel"]["Label"]


def test_the_sdk_table_lookup_answers_like_the_service(api: httpx.Client, emulator: EmulatorServer) -> None:
    body = _ok(
        api.get(
            "EntityDefinitions",
            params={
                "$select": "LogicalName,EntitySetName,PrimaryIdAttribute",
                "$filter": "LogicalName eq 'account'",
            },
        )
    )
    assert body["@odata.context"] == (
        f"{emulator.api_url}/$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute)"
    )
    (account,) = body["value"]
    assert set(account) == {
        "MetadataId",
        "LogicalName",
        "EntitySetName",
        "PrimaryIdAttribute",
    }  # MetadataId always
    assert (account["EntitySetName"], account["PrimaryIdAttribute"]) == ("accounts", "accountid")
    assert (
        _ok(api.get("EntityDefinitions", params={"$filter": "LogicalName eq 'nosuchtable'"}))["value"] == []
    )


def test_every_table_is_listed_with_a_stable_metadata_id(api: httpx.Client, emulator: EmulatorServer) -> None:
    listed = _ok(api.get("EntityDefinitions", params={"$select": "LogicalName,EntitySetName"}))["value"]
    assert {e["EntitySetName"] for e in listed} == set(emulator.service.database.by_set)  # type: ignore[attr-defined]
    account = next(e for e in listed if e["LogicalName"] == "account")
    by_id = _ok(api.get(f"EntityDefinitions({account['MetadataId']})", params={"$select": "LogicalName"}))
    assert by_id["LogicalName"] == "account" and by_id["@odata.context"].endswith(
        "EntityDefinitions(LogicalName)/$entity"
    )
    by_name = _ok(api.get("EntityDefinitions(LogicalName='account')"))
    assert (
        by_name["MetadataId"] == account["MetadataId"]
        and by_name["DisplayName"]["UserLocalizedLabel"]["Label"] == "Account"
    )
    assert by_name["ObjectTypeCode"] == 1 and by_name["OwnershipType"] == "UserOwned"


def test_picklist_by_name_with_option_set_and_global_option_set(api: httpx.Client) -> None:
    # retrieve-metadata-name-metadataid.md "Retrieve schema definitions by name" (request and response).
    body = _ok(
        api.get(
            f"EntityDefinitions(LogicalName='task')/Attributes(LogicalName='prioritycode')/{CRM}.PicklistAttributeMetadata",
            params={
                "$select": "LogicalName",
                "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)",
            },
        )
    )
    assert set(body) == {"@odata.context", "MetadataId", "LogicalName", "OptionSet", "GlobalOptionSet"}
    assert body["@odata.context"].endswith(
        f"/Attributes/{CRM}.PicklistAttributeMetadata(LogicalName,OptionSet(Options),GlobalOptionSet(Options))/$entity"
    )
    for option_set in (body["OptionSet"], body["GlobalOptionSet"]):
        assert set(option_set) == {"MetadataId", "Options"}
        assert all(set(option) == OPTION_KEYS for option in option_set["Options"])
        assert {o["Value"]: _labels(o) for o in option_set["Options"]} == dict(PRIORITY)


def test_by_metadata_id_step_by_step_with_the_type_of_each_attribute(api: httpx.Client) -> None:
    # retrieve-metadata-name-metadataid.md "Retrieve schema definitions by MetadataId".
    (entity,) = _ok(
        api.get("EntityDefinitions", params={"$filter": "LogicalName eq 'account'", "$select": "MetadataId"})
    )["value"]
    attributes = _ok(
        api.get(
            f"EntityDefinitions({entity['MetadataId']})/Attributes",
            params={"$filter": "LogicalName eq 'statecode'", "$select": "MetadataId"},
        )
    )
    assert attributes["@odata.context"].endswith(
        f"EntityDefinitions({entity['MetadataId']})/Attributes(MetadataId)"
    )
    (state,) = attributes["value"]
    assert (
        set(state) == {"@odata.type", "MetadataId"}
        and state["@odata.type"] == f"#{CRM}.StateAttributeMetadata"
    )
    options = _ok(
        api.get(
            f"EntityDefinitions({entity['MetadataId']})/Attributes({state['MetadataId']})/{CRM}.StateAttributeMetadata/OptionSet",
            params={"$select": "Options"},
        )
    )
    assert {o["Value"]: _labels(o) for o in options["Options"]} == dict(ACTIVE_STATE)
    assert all(o["@odata.type"] == f"#{CRM}.StateOptionMetadata" for o in options["Options"])


def test_casts_narrow_the_attributes_to_one_type(api: httpx.Client) -> None:
    base = "EntityDefinitions(LogicalName='opportunity')/Attributes"
    picklists = _ok(api.get(f"{base}/{CRM}.PicklistAttributeMetadata", params={"$select": "LogicalName"}))[
        "value"
    ]
    # salesstage is the one Picklist: statecode and statuscode are State/Status attributes, not Picklist ones
    assert [a["LogicalName"] for a in picklists] == ["salesstage"]
    (status,) = _ok(
        api.get(
            f"{base}/{CRM}.StatusAttributeMetadata", params={"$select": "LogicalName", "$expand": "OptionSet"}
        )
    )["value"]
    assert status["LogicalName"] == "statuscode" and "@odata.type" not in status
    assert {o["Value"]: o["State"] for o in status["OptionSet"]["Options"]} == dict(
        STATUS_STATES["opportunity"]
    )
    lookups = _ok(
        api.get(f"{base}/{CRM}.LookupAttributeMetadata", params={"$select": "LogicalName,Targets"})
    )["value"]
    assert {a["LogicalName"]: a["Targets"] for a in lookups} == {
        "parentaccountid": ["account"],
        "ownerid": ["systemuser", "team"],
    }
    strings = _ok(
        api.get(f"{base}/{CRM}.StringAttributeMetadata", params={"$select": "LogicalName,MaxLength"})
    )["value"]
    assert {a["LogicalName"] for a in strings} == {"name", "msp_opportunitynumber"} and all(
        a["MaxLength"] for a in strings
    )


def test_filters_on_enum_and_complex_properties_as_documented(api: httpx.Client) -> None:
    # query-metadata-web-api.md "Use enum types in $filter operations", "Use complex types …",
    # "Querying EntityMetadata attributes" and "Filtering by required level".
    owned = _ok(
        api.get(
            "EntityDefinitions",
            params={"$select": "LogicalName", "$filter": f"OwnershipType eq {CRM}.OwnershipTypes'UserOwned'"},
        )
    )
    assert {e["LogicalName"] for e in owned["value"]} == {
        "account",
        "opportunity",
        "msp_engagementmilestone",
        "task",
        "phonecall",  # phonecall.md / annotation.md: OwnershipType UserOwned
        "annotation",
    }
    custom = _ok(
        api.get(
            "EntityDefinitions",
            params={
                "$select": "LogicalName",
                "$filter": "CanCreateAttributes/Value eq true and IsCustomEntity eq true",
            },
        )
    )
    assert all(e["LogicalName"].startswith("msp_") for e in custom["value"]) and len(custom["value"]) == 4
    expanded = _ok(
        api.get(
            "EntityDefinitions(LogicalName='account')",
            params={
                "$select": "LogicalName",
                "$expand": f"Attributes($select=LogicalName;$filter={LOOKUPS})",
            },
        )
    )
    assert [a["LogicalName"] for a in expanded["Attributes"]] == ["territoryid"]
    required = _ok(
        api.get(
            "EntityDefinitions(LogicalName='account')/Attributes",
            params={
                "$select": "SchemaName",
                "$filter": f"RequiredLevel/Value eq {CRM}.AttributeRequiredLevel'SystemRequired'",
            },
        )
    )
    assert [a["SchemaName"] for a in required["value"]] == ["Accountid"]


def test_keys_and_global_option_sets(api: httpx.Client) -> None:
    (key,) = _ok(api.get("EntityDefinitions(LogicalName='account')/Keys"))["value"]
    assert key["KeyAttributes"] == ["accountnumber"] and key["EntityKeyIndexStatus"] == "Active"
    assert (
        _ok(api.get(f"EntityDefinitions(LogicalName='account')/Keys(LogicalName='{key['LogicalName']}')"))[
            "MetadataId"
        ]
        == key["MetadataId"]
    )
    assert _ok(api.get("EntityDefinitions(LogicalName='task')/Keys"))["value"] == []
    status = _ok(api.get("GlobalOptionSetDefinitions(Name='msp_milestonestatus')"))
    assert (
        status["@odata.context"].endswith("#GlobalOptionSetDefinitions/$entity")
        and status["IsGlobal"] is True
    )
    assert {o["Value"]: _labels(o) for o in status["Options"]} == dict(MILESTONE_STATUS)
    assert (
        _ok(api.get(f"GlobalOptionSetDefinitions({status['MetadataId']})"))["Name"] == "msp_milestonestatus"
    )
    names = {
        o["Name"] for o in _ok(api.get("GlobalOptionSetDefinitions", params={"$select": "Name"}))["value"]
    }
    assert "msp_milestonestatus" in names and not any(n.endswith("_statecode") for n in names)


def test_csdl_document_describes_the_entity_sets_keys_and_lookups(
    api: httpx.Client, emulator: EmulatorServer
) -> None:
    answer = api.get("$metadata")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(answer.content)
    schema = root.find(".//e:Schema", EDM)
    assert schema is not None and (schema.get("Namespace"), schema.get("Alias")) == (CRM, "mscrm")
    sets = {s.get("Name") for s in root.findall(".//e:EntityContainer/e:EntitySet", EDM)}
    assert sets == set(emulator.service.database.by_set)  # type: ignore[attr-defined]
    opportunity = root.find(".//e:EntityType[@Name='opportunity']", EDM)
    assert (
        opportunity is not None
        and opportunity.find("e:Key/e:PropertyRef", EDM).get("Name") == "opportunityid"
    )  # type: ignore[union-attr]
    nav = opportunity.find("e:NavigationProperty[@Name='parentaccountid']", EDM)
    constraint = nav.find("e:ReferentialConstraint", EDM)  # type: ignore[union-attr]
    assert nav.get("Type") == "mscrm.account" and constraint.get("Property") == "_parentaccountid_value"  # type: ignore[union-attr]
    account = root.find(".//e:EntityType[@Name='account']", EDM)
    alias = account.find(
        ".//e:Annotation[@Term='OData.Community.Keys.V1.AlternateKeys']//e:PropertyValue[@Property='Name']",
        EDM,
    )  # type: ignore[union-attr]
    assert alias is not None and alias.get("PropertyPath") == "accountnumber"
    assert root.find(".//e:FunctionImport[@Name='WhoAmI']", EDM) is not None


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("EntityDefinitions", {"$filter": "LogicalName eq"}, 400, "0x80060888"),
        ("EntityDefinitions", {"$filter": "OwnershipType eq 'UserOwned'"}, 400, "0x80060888"),
        (
            "EntityDefinitions",
            {"$filter": f"OwnershipType eq {CRM}.AttributeTypeCode'Lookup'"},
            400,
            "0x80060888",
        ),
        ("EntityDefinitions", {"$filter": "DisplayName eq 'Account'"}, 400, "0x0"),
        ("EntityDefinitions", {"$select": "LogicalName,Nope"}, 400, "0x0"),
        ("EntityDefinitions", {"$top": "1"}, 400, "0x80060888"),
        ("EntityDefinitions", {"$expand": "Attributes($top=1)"}, 400, "0x80060888"),
        ("EntityDefinitions", {"$expand": "Nope"}, 400, "0x0"),
        ("EntityDefinitions(LogicalName='nosuchtable')", {}, 404, "0x80040217"),
        ("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='nope')", {}, 404, "0x80040217"),
        (
            f"EntityDefinitions(LogicalName='task')/Attributes/{CRM}.EnumAttributeMetadata",
            {},
            404,
            "0x8006088a",
        ),
        (
            f"EntityDefinitions(LogicalName='task')/Attributes/{CRM}.NoSuchAttributeMetadata",
            {},
            404,
            "0x8006088a",
        ),
        (
            f"EntityDefinitions(LogicalName='task')/Attributes(LogicalName='subject')/{CRM}.PicklistAttributeMetadata",
            {},
            404,
            "0x8006088a",
        ),
        ("EntityDefinitions(LogicalName='task')/Attributes", {"$expand": "OptionSet"}, 400, "0x0"),
        ("EntityDefinitions(LogicalName='task')/Nope", {}, 404, "0x8006088a"),
        ("EntityDefinitions(LogicalName=)", {}, 400, "0x80060888"),
        ("EntityDefinitions(LogicalName='account'", {}, 400, "0x80060888"),
        ("EntityDefinitions(Name='account')", {}, 400, "0x80060888"),
        ("EntityDefinitions(LogicalName='account')", {"$filter": "IsActivity eq true"}, 400, "0x80060888"),
        ("GlobalOptionSetDefinitions", {"$filter": "Name eq 'msp_milestonestatus'"}, 400, "0x80060888"),
        ("GlobalOptionSetDefinitions(Name='task_prioritycode')", {}, 404, "0x80040217"),
    ],
)
def test_bad_metadata_requests_get_the_dataverse_error_shape(
    api: httpx.Client, path: str, params: dict[str, str], status: int, code: str
) -> None:
    answer = api.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == JSON
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]


def test_metadata_is_read_only(api: httpx.Client) -> None:
    answer = api.post("EntityDefinitions", json={"SchemaName": "new_thing"})
    assert answer.status_code == 405 and answer.json()["error"]["message"]
