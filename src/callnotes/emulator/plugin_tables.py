"""The tables a webhook is registered in, as Dataverse keeps them.

powerapps-docs/developer/data-platform/register-web-hook.md: a webhook is a ``serviceendpoint`` row with
``contract`` 8 (Webhook), ``url``, ``authtype`` (4 Webhook Key, 5 Http Header, 6 Http Query String) and
``authvalue`` (writable, never readable: reference/entities/serviceendpoint.md "IsValidForRead False");
it fires through ``sdkmessageprocessingstep`` rows whose ``eventhandler`` is the endpoint
(``eventhandler_serviceendpoint@odata.bind``), with an ``sdkmessageid`` (Create, Update, Delete …), an
``sdkmessagefilterid`` (the message on one table: ``primaryobjecttypecode``), ``stage`` (40 =
PostOperation), ``mode`` (1 = Asynchronous) and optional ``filteringattributes``; entity images come
from ``sdkmessageprocessingstepimage`` rows (``imagetype`` 0 PreImage, 1 PostImage, 2 Both,
``entityalias``, ``attributes``). ``sdkmessage`` and ``sdkmessagefilter`` rows exist in every
environment; the emulator makes them at start with fixed ids (UUIDv5 of their names).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from callnotes.emulator.table_definitions import (
    Column,
    EntityType,
    Kind,
    Navigation,
    entity_type,
    lookup_column,
)
from callnotes.emulator.tables import Database, Row

CONTRACTS: Mapping[int, str] = {
    1: "OneWay",
    2: "Queue",
    3: "Rest",
    4: "TwoWay",
    5: "Topic",
    6: "Queue (Persistent)",
    7: "Event Hub",
    8: "Webhook",
    9: "Event Grid",
    10: "Managed Data Lake",
    11: "Container Storage",
}
CONTRACT_WEBHOOK = 8
AUTH_TYPES: Mapping[int, str] = {
    0: "Not Specified",
    1: "ACS",
    2: "SAS Key",
    3: "SAS Token",
    4: "Webhook Key",
    5: "Http Header",
    6: "Http Query String",
    7: "Connection String",
    8: "Access Key",
    9: "Managed Identity",
}
AUTH_WEBHOOK_KEY, AUTH_HTTP_HEADER, AUTH_HTTP_QUERY_STRING = 4, 5, 6
MESSAGE_FORMATS: Mapping[int, str] = {1: "Binary XML", 2: "Json", 3: "Text XML"}
STEP_MODES: Mapping[int, str] = {0: "Synchronous", 1: "Asynchronous"}
MODE_ASYNCHRONOUS = 1
STEP_STAGES: Mapping[int, str] = {10: "Pre-validation", 20: "Pre-operation", 40: "Post-operation"}
STAGE_POST_OPERATION = 40
IMAGE_TYPES: Mapping[int, str] = {0: "PreImage", 1: "PostImage", 2: "Both"}
STEP_STATE: Mapping[int, str] = {0: "Enabled", 1: "Disabled"}
#: The messages the emulator raises events for (the Web API operations it serves).
MESSAGES = ("Create", "Update", "Delete")
_DEPLOYMENTS: Mapping[int, str] = {
    0: "Server Only",
    1: "Microsoft Dynamics 365 Client for Outlook Only",
    2: "Both",
}
_NAMESPACE = uuid.UUID("5a1c0c1e-8d7e-4b55-9a43-6f1e0c2d9b10")


def message_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"sdkmessage:{name}"))


def filter_id(message: str, logical_name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"sdkmessagefilter:{message}:{logical_name}"))


def _string(name: str, *, indexed: bool = False) -> Column:
    return Column(name, Kind.STRING, indexed=indexed)


def plugin_tables() -> list[EntityType]:
    return [*_messages_and_endpoints(), _step(), _step_image()]


def _messages_and_endpoints() -> list[EntityType]:
    return [
        entity_type("sdkmessage", "sdkmessages", "sdkmessageid", "name", _string("name", indexed=True)),
        entity_type(
            "sdkmessagefilter",
            "sdkmessagefilters",
            "sdkmessagefilterid",
            "primaryobjecttypecode",
            lookup_column("sdkmessageid", "sdkmessage"),
            _string("primaryobjecttypecode", indexed=True),
            _string("secondaryobjecttypecode"),
            Column("iscustomprocessingstepallowed", Kind.BOOL),
        ),
        entity_type(
            "serviceendpoint",
            "serviceendpoints",
            "serviceendpointid",
            "name",
            _string("name"),
            _string("url"),
            Column("description", Kind.MEMO),
            Column("contract", Kind.CHOICE, options=CONTRACTS),
            Column("authtype", Kind.CHOICE, options=AUTH_TYPES),
            Column("authvalue", Kind.STRING, readable=False),
            Column("messageformat", Kind.CHOICE, options=MESSAGE_FORMATS),
            Column("userclaim", Kind.CHOICE, options={1: "None", 2: "UserId", 3: "UserInfo"}),
            _string("namespaceaddress"),
            _string("path"),
            _string("solutionnamespace"),
        ),
    ]


def _step() -> EntityType:
    return entity_type(
        "sdkmessageprocessingstep",
        "sdkmessageprocessingsteps",
        "sdkmessageprocessingstepid",
        "name",
        _string("name"),
        Column("description", Kind.MEMO),
        Column("mode", Kind.CHOICE, options=STEP_MODES),
        Column("stage", Kind.CHOICE, options=STEP_STAGES),
        Column("rank", Kind.INT),
        _string("filteringattributes"),
        Column("asyncautodelete", Kind.BOOL),
        Column("supporteddeployment", Kind.CHOICE, options=_DEPLOYMENTS),
        lookup_column("sdkmessageid", "sdkmessage"),
        lookup_column("sdkmessagefilterid", "sdkmessagefilter"),
        lookup_column("eventhandler", "serviceendpoint"),
        Column("statecode", Kind.CHOICE, options=STEP_STATE),
        Column("statuscode", Kind.CHOICE, options={1: "Enabled", 2: "Disabled"}),
        navs=(Navigation("eventhandler_serviceendpoint", "eventhandler", "serviceendpoint"),),
    )


def _step_image() -> EntityType:
    return entity_type(
        "sdkmessageprocessingstepimage",
        "sdkmessageprocessingstepimages",
        "sdkmessageprocessingstepimageid",
        "name",
        _string("name"),
        _string("entityalias"),
        _string("messagepropertyname"),
        _string("attributes"),
        Column("imagetype", Kind.CHOICE, options=IMAGE_TYPES),
        lookup_column("sdkmessageprocessingstepid", "sdkmessageprocessingstep"),
    )


def seed_messages(database: Database, logical_names: Iterable[str]) -> None:
    """The ``sdkmessage`` rows of `MESSAGES` and one ``sdkmessagefilter`` per message and table."""
    messages = [{"sdkmessageid": message_id(name), "name": name, **_stamp(database)} for name in MESSAGES]
    database.bulk_load("sdkmessage", messages)
    filters: list[Row] = [
        {
            "sdkmessagefilterid": filter_id(name, logical),
            "sdkmessageid": message_id(name),
            "primaryobjecttypecode": logical,
            "secondaryobjecttypecode": "none",
            "iscustomprocessingstepallowed": True,
            **_stamp(database),
        }
        for name in MESSAGES
        for logical in sorted(logical_names)
    ]
    database.bulk_load("sdkmessagefilter", filters)


def _stamp(database: Database) -> Row:
    created = "2025-06-01T00:00:00Z"
    return {"createdon": created, "modifiedon": created, "versionnumber": database.next_version()}
