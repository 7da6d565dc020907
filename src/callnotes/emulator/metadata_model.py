"""The emulator's table definitions as Dataverse metadata entities: EntityMetadata, the typed
AttributeMetadata kinds, EntityKeyMetadata and OptionSetMetadata, built once from
:mod:`callnotes.emulator.table_definitions` (the single source of columns, lookups and option sets).

Shapes follow Microsoft's metadata reference and examples:
- EntityMetadata / AttributeMetadata and derived types, EntityKeyMetadata, OptionSetMetadata:
  dynamics-365-customer-engagement progref/webapireference/metadataentitytypes/*.md;
- Label (``LocalizedLabels`` + ``UserLocalizedLabel``), options with ``Value`` / ``Label`` /
  ``Description`` / ``Color`` / ``IsManaged`` …: powerapps-docs/developer/data-platform/webapi/
  query-metadata-web-api.md and retrieve-metadata-name-metadataid.md (the documented responses).
``statecode`` columns are StateAttributeMetadata, ``statuscode`` StatusAttributeMetadata, other
choices PicklistAttributeMetadata (three separate casts, as the Web API has them). MetadataIds are
stable UUIDv5 values derived from the names. What the references do not give (schema-name casing,
string lengths, which option sets are global) is the emulator's own choice, listed in docs/emulator.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from callnotes.emulator.table_definitions import (
    DEFAULT_STATUS,
    DISPLAY_NAMES,
    OBJECT_TYPE_CODES,
    STATUS_STATES,
    AlternateKey,
    Column,
    EntityType,
    Kind,
)

CRM = "Microsoft.Dynamics.CRM"
_NAMESPACE = uuid.UUID("0b9d7f3e-5c1a-4e8b-9d2f-6a7c3b1e4f50")
_LANGUAGE = 1033

# Enumeration-typed properties and their EnumTypes ($filter needs Namespace.EnumType'Member' for them).
ENUM_PROPERTIES: Mapping[str, str] = {
    "AttributeType": f"{CRM}.AttributeTypeCode",
    "OwnershipType": f"{CRM}.OwnershipTypes",
    "RequiredLevel/Value": f"{CRM}.AttributeRequiredLevel",
    "EntityKeyIndexStatus": f"{CRM}.EntityKeyIndexStatus",
    "OptionSetType": f"{CRM}.OptionSetType",
}

# (cast type, AttributeType, AttributeTypeName) per column kind; choices and lookups are refined below.
_ATTRIBUTE_TYPES: Mapping[Kind, tuple[str, str, str]] = {
    Kind.KEY: ("UniqueIdentifierAttributeMetadata", "Uniqueidentifier", "UniqueidentifierType"),
    Kind.GUID: ("UniqueIdentifierAttributeMetadata", "Uniqueidentifier", "UniqueidentifierType"),
    Kind.STRING: ("StringAttributeMetadata", "String", "StringType"),
    Kind.MEMO: ("MemoAttributeMetadata", "Memo", "MemoType"),
    Kind.INT: ("IntegerAttributeMetadata", "Integer", "IntegerType"),
    Kind.BIGINT: ("BigIntAttributeMetadata", "BigInt", "BigIntType"),
    Kind.DECIMAL: ("DecimalAttributeMetadata", "Decimal", "DecimalType"),
    Kind.MONEY: ("MoneyAttributeMetadata", "Money", "MoneyType"),
    Kind.BOOL: ("BooleanAttributeMetadata", "Boolean", "BooleanType"),
    Kind.DATE: ("DateTimeAttributeMetadata", "DateTime", "DateTimeType"),
    Kind.DATETIME: ("DateTimeAttributeMetadata", "DateTime", "DateTimeType"),
    Kind.CHOICE: ("PicklistAttributeMetadata", "Picklist", "PicklistType"),
    Kind.LOOKUP: ("LookupAttributeMetadata", "Lookup", "LookupType"),
}
_ENUM_CASTS = ("PicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata")
ATTRIBUTE_CASTS = frozenset({t for t, _, _ in _ATTRIBUTE_TYPES.values()} | set(_ENUM_CASTS))
# Navigation properties of each metadata type (collection-valued for the entity, single for options).
NAVIGATIONS: Mapping[str, tuple[str, ...]] = {
    "EntityMetadata": ("Attributes", "Keys"),
    **{cast: ("OptionSet", "GlobalOptionSet") for cast in _ENUM_CASTS},
    "BooleanAttributeMetadata": ("OptionSet", "GlobalOptionSet"),
}


@dataclass(frozen=True)
class Definition:
    """One metadata item: its type, its properties (JSON values) and its navigation targets."""

    type_name: str
    properties: Mapping[str, object]
    navigations: Mapping[str, tuple[Definition, ...] | Definition] = field(default_factory=dict)

    @property
    def metadata_id(self) -> str:
        return str(self.properties["MetadataId"])

    def name(self, key: str) -> str:
        return str(self.properties.get(key) or "")


@dataclass(frozen=True)
class MetadataModel:
    entities: tuple[Definition, ...]
    global_option_sets: tuple[Definition, ...]


def metadata_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def label(text: str, *parts: str) -> dict[str, object]:
    localized = {
        "Label": text,
        "LanguageCode": _LANGUAGE,
        "IsManaged": True,
        "MetadataId": metadata_id("label", *parts),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": dict(localized)}


def empty_label() -> dict[str, object]:
    return {"LocalizedLabels": [], "UserLocalizedLabel": None}


def _managed(value: bool, name: str) -> dict[str, object]:
    return {"Value": value, "CanBeChanged": False, "ManagedPropertyLogicalName": name}


def schema_name(logical_name: str) -> str:
    """The emulator's SchemaName: the logical name with its first letter (after a prefix) capitalised."""
    prefix, sep, rest = logical_name.partition("_")
    if sep and prefix == "msp":
        return f"{prefix}_{rest[:1].upper()}{rest[1:]}"
    return logical_name[:1].upper() + logical_name[1:]


def _display(name: str) -> str:
    words = name.removeprefix("msp_").removeprefix("_").replace("_", " ")
    return words[:1].upper() + words[1:]


# -- option sets -----------------------------------------------------------------------------------


def _option(entity: str, column: str, value: int, text: str, cast: str) -> dict[str, object]:
    option: dict[str, object] = {}
    if cast == "StatusAttributeMetadata":
        option["@odata.type"] = f"#{CRM}.StatusOptionMetadata"
    elif cast == "StateAttributeMetadata":
        option["@odata.type"] = f"#{CRM}.StateOptionMetadata"
    option |= {
        "Value": value,
        "Color": None,
        "IsManaged": True,
        "ExternalValue": None,
        "ParentValues": [],
        "Tag": None,
        "IsHidden": False,
        "MetadataId": None,
        "HasChanged": None,
        "Label": label(text, entity, column, str(value)),
        "Description": empty_label(),
    }
    if cast == "StatusAttributeMetadata":
        option["State"] = STATUS_STATES.get(entity, {}).get(value, 0)
    elif cast == "StateAttributeMetadata":
        option["InvariantName"] = text.replace(" ", "")
        option["DefaultStatus"] = DEFAULT_STATUS.get(entity, {}).get(value)
    return option


def _option_set(entity: str, column: Column, cast: str) -> Definition:
    name = column.global_option_set or f"{entity}_{column.name}"
    kind = {"StateAttributeMetadata": "State", "StatusAttributeMetadata": "Status"}.get(cast, "Picklist")
    options = [_option(entity, column.name, v, t, cast) for v, t in (column.options or {}).items()]
    return Definition(
        "OptionSetMetadata",
        {
            "MetadataId": metadata_id("optionset", name),
            "Name": name,
            "DisplayName": label(_display(column.name), "optionset", name),
            "Description": empty_label(),
            "IsGlobal": column.global_option_set is not None,
            "IsCustomOptionSet": name.startswith("msp_"),
            "IsManaged": True,
            "OptionSetType": kind,
            "IntroducedVersion": "1.0",
            "HasChanged": None,
            "ExternalTypeName": None,
            "IsCustomizable": _managed(True, "iscustomizable"),
            "Options": options,
        },
    )


def _boolean_option_set(entity: str, column: Column) -> Definition:
    name = f"{entity}_{column.name}"

    def option(value: int, text: str) -> dict[str, object]:
        text_label = label(text, entity, column.name, str(value))
        return {"Value": value, "Color": None, "IsManaged": True, "MetadataId": None, "HasChanged": None,
                "Label": text_label, "Description": empty_label()}  # fmt: skip

    return Definition(
        "BooleanOptionSetMetadata",
        {
            "MetadataId": metadata_id("optionset", name),
            "Name": name,
            "IsGlobal": False,
            "IsCustomOptionSet": False,
            "IsManaged": True,
            "OptionSetType": "Boolean",
            "HasChanged": None,
            "TrueOption": option(1, "Yes"),
            "FalseOption": option(0, "No"),
        },
    )


# -- attributes, keys, entities --------------------------------------------------------------------


def attribute_cast(column: Column) -> tuple[str, str, str]:
    """(cast type, AttributeType, AttributeTypeName) of a column."""
    if column.kind is Kind.CHOICE and column.name == "statecode":
        return "StateAttributeMetadata", "State", "StateType"
    if column.kind is Kind.CHOICE and column.name == "statuscode":
        return "StatusAttributeMetadata", "Status", "StatusType"
    if column.kind is Kind.LOOKUP and column.name == "ownerid":
        return "LookupAttributeMetadata", "Owner", "OwnerType"
    return _ATTRIBUTE_TYPES[column.kind]


def _typed_properties(column: Column) -> dict[str, object]:
    """The properties the derived attribute type adds (StringAttributeMetadata.MaxLength, …)."""
    kind = column.kind
    if kind is Kind.STRING:
        text_format = "Email" if "email" in column.name else "Text"
        return {"MaxLength": 4000, "Format": text_format, "FormatName": {"Value": text_format}}
    if kind is Kind.MEMO:
        return {"MaxLength": 1048576, "Format": "TextArea"}
    if kind is Kind.INT:
        return {"MinValue": -2147483648, "MaxValue": 2147483647, "Format": "None"}
    if kind is Kind.BIGINT:
        return {"MinValue": -9223372036854775808, "MaxValue": 9223372036854775807}
    if kind in (Kind.DECIMAL, Kind.MONEY):
        return {"Precision": 2, "MinValue": -100000000000.0, "MaxValue": 100000000000.0}
    if kind in (Kind.DATE, Kind.DATETIME):
        behavior = "DateOnly" if kind is Kind.DATE else "UserLocal"
        return {
            "Format": behavior if kind is Kind.DATE else "DateAndTime",
            "DateTimeBehavior": {"Value": behavior},
        }
    if kind is Kind.LOOKUP:
        return {"Targets": list(column.targets)}
    if kind is Kind.CHOICE:
        return {"DefaultFormValue": -1}
    return {}


class _Builder:
    def __init__(self) -> None:
        self.option_sets: dict[str, Definition] = {}

    def attribute(self, entity: EntityType, column: Column) -> Definition:
        cast, attribute_type, type_name = attribute_cast(column)
        logical = entity.logical_name
        properties: dict[str, object] = {
            "MetadataId": metadata_id("attribute", logical, column.name),
            "LogicalName": column.name,
            "SchemaName": schema_name(column.name),
            "EntityLogicalName": logical,
            "AttributeType": attribute_type,
            "AttributeTypeName": {"Value": type_name},
            "AttributeOf": None,
            "DisplayName": label(_display(column.name), logical, column.name),
            "Description": empty_label(),
            "IsPrimaryId": column.kind is Kind.KEY,
            "IsPrimaryName": column.name == entity.primary_name,
            "IsCustomAttribute": column.name.startswith("msp_"),
            "IsValidForCreate": not column.read_only,
            "IsValidForUpdate": not column.read_only and column.kind is not Kind.KEY,
            "IsValidForRead": True,
            "IsLogical": False,
            "IsManaged": True,
            "IsFilterable": True,
            "IsSearchable": column.indexed,
            "RequiredLevel": _managed_level(column),
            "IntroducedVersion": "1.0",
            "HasChanged": None,
            **_typed_properties(column),
        }
        navigations: dict[str, tuple[Definition, ...] | Definition] = {}
        if cast in _ENUM_CASTS:
            option_set = self._option_set(logical, column, cast)
            navigations = {"OptionSet": option_set, "GlobalOptionSet": option_set}
        elif column.kind is Kind.BOOL:
            booleans = _boolean_option_set(logical, column)
            navigations = {"OptionSet": booleans, "GlobalOptionSet": booleans}
        return Definition(cast, properties, navigations)

    def _option_set(self, entity: str, column: Column, cast: str) -> Definition:
        name = column.global_option_set or f"{entity}_{column.name}"
        if name not in self.option_sets:
            self.option_sets[name] = _option_set(entity, column, cast)
        return self.option_sets[name]

    def entity(self, entity: EntityType) -> Definition:
        logical = entity.logical_name
        singular, plural = DISPLAY_NAMES.get(logical, (_display(logical), _display(entity.entity_set)))
        owned = "ownerid" in entity.columns
        properties: dict[str, object] = {
            "MetadataId": metadata_id("entity", logical),
            "LogicalName": logical,
            "SchemaName": schema_name(logical),
            "EntitySetName": entity.entity_set,
            "LogicalCollectionName": entity.entity_set,
            "CollectionSchemaName": schema_name(entity.entity_set),
            "PrimaryIdAttribute": entity.primary_key,
            "PrimaryNameAttribute": entity.primary_name,
            "ObjectTypeCode": OBJECT_TYPE_CODES.get(logical),
            "DisplayName": label(singular, "entity", logical),
            "DisplayCollectionName": label(plural, "entity", logical, "collection"),
            "Description": empty_label(),
            "OwnershipType": "UserOwned"
            if owned
            else ("None" if logical == "teammembership" else "OrganizationOwned"),
            "IsActivity": logical == "task",
            "IsCustomEntity": logical.startswith("msp_"),
            "IsIntersect": logical == "teammembership",
            "IsValidForAdvancedFind": logical != "teammembership",
            "IsManaged": True,
            "ChangeTrackingEnabled": False,
            "CanCreateAttributes": _managed(True, "cancreateattributes"),
            "IntroducedVersion": "1.0",
            "HasChanged": None,
        }
        attributes = tuple(self.attribute(entity, column) for column in entity.columns.values())
        keys = tuple(_key(entity, key) for key in entity.keys)
        return Definition("EntityMetadata", properties, {"Attributes": attributes, "Keys": keys})


def _managed_level(column: Column) -> dict[str, object]:
    level = "SystemRequired" if column.kind is Kind.KEY else "None"
    return {
        "Value": level,
        "CanBeChanged": False,
        "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
    }


def _key(entity: EntityType, key: AlternateKey) -> Definition:
    return Definition(
        "EntityKeyMetadata",
        {
            "MetadataId": metadata_id("key", entity.logical_name, key.logical_name),
            "LogicalName": key.logical_name,
            "SchemaName": key.schema_name,
            "DisplayName": label(key.display_name, "key", entity.logical_name, key.logical_name),
            "EntityLogicalName": entity.logical_name,
            "KeyAttributes": list(key.columns),
            "EntityKeyIndexStatus": "Active",
            "AsyncJob": None,
            "IsManaged": True,
            "IsCustomizable": _managed(True, "iscustomizable"),
            "IntroducedVersion": "1.0",
            "HasChanged": None,
        },
    )


def build_model(schema: Mapping[str, EntityType]) -> MetadataModel:
    """The metadata of every table in ``schema`` (and the global option sets their columns use)."""
    builder = _Builder()
    entities = tuple(builder.entity(entity) for entity in schema.values())
    global_sets = tuple(d for d in builder.option_sets.values() if d.properties["IsGlobal"])
    return MetadataModel(entities, global_sets)
