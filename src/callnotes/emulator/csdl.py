"""``GET /api/data/v9.2/$metadata``: the CSDL document, built from the table definitions.

Layout per powerapps-docs/developer/data-platform/webapi/web-api-service-documents.md ("CSDL $metadata
document", namespace ``Microsoft.Dynamics.CRM`` with alias ``mscrm``), web-api-entitytypes.md (every
business table an ``EntityType`` with ``BaseType="mscrm.crmbaseentity"``, a ``Key``, and the
``OData.Community.Keys.V1.AlternateKeys`` annotation for alternate keys), web-api-properties.md
(``Property`` with its Edm type; lookups as ``_<name>_value`` of ``Edm.Guid``) and
web-api-navigation-properties.md (single-valued ``NavigationProperty`` with a ``ReferentialConstraint``
from the lookup property to the target's primary key). The ``EntityContainer`` lists the entity sets,
the ``WhoAmI`` function and the record-team actions the emulator serves.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from callnotes.emulator.table_definitions import AlternateKey, EntityType

_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"
_KEYS = "OData.Community.Keys.V1"


def csdl_document(schema: Mapping[str, EntityType]) -> bytes:
    """The ``$metadata`` XML for ``schema``."""
    # Namespaces written as plain attributes, like the service's document (edmx: prefix, EDM default).
    root = ET.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": _EDMX})
    services = ET.SubElement(root, "edmx:DataServices")
    namespace = ET.SubElement(
        services, "Schema", {"Namespace": "Microsoft.Dynamics.CRM", "Alias": "mscrm", "xmlns": _EDM}
    )
    _element(namespace, "EntityType", Name="crmbaseentity", Abstract="true")
    for entity in schema.values():
        _entity_type(namespace, entity, schema)
    _who_am_i(namespace)
    for action in ("AddUserToRecordTeam", "RemoveUserFromRecordTeam"):
        _record_team_action(namespace, action)
    container = _element(namespace, "EntityContainer", Name="System")
    for entity in schema.values():
        _element(container, "EntitySet", Name=entity.entity_set, EntityType=f"mscrm.{entity.logical_name}")
    _element(container, "FunctionImport", Name="WhoAmI", Function="mscrm.WhoAmI")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, attributes)


def _entity_type(parent: ET.Element, entity: EntityType, schema: Mapping[str, EntityType]) -> None:
    node = _element(parent, "EntityType", Name=entity.logical_name, BaseType="mscrm.crmbaseentity")
    _element(_element(node, "Key"), "PropertyRef", Name=entity.primary_key)
    for column in entity.columns.values():
        _element(node, "Property", Name=column.wire, Type=column.kind.edm)
    for navigation in entity.navigations.values():
        target = schema[navigation.target]
        nav = _element(node, "NavigationProperty", Name=navigation.name, Type=f"mscrm.{target.logical_name}")
        _element(
            nav,
            "ReferentialConstraint",
            Property=f"_{navigation.column}_value",
            ReferencedProperty=target.primary_key,
        )
    if entity.keys:
        _alternate_keys(node, entity.keys)


def _alternate_keys(node: ET.Element, keys: tuple[AlternateKey, ...]) -> None:
    annotation = _element(node, "Annotation", Term=f"{_KEYS}.AlternateKeys")
    records = _element(annotation, "Collection")
    for key in keys:
        record = _element(records, "Record", Type=f"{_KEYS}.AlternateKey")
        refs = _element(_element(record, "PropertyValue", Property="Key"), "Collection")
        for column in key.columns:
            ref = _element(refs, "Record", Type=f"{_KEYS}.PropertyRef")
            _element(ref, "PropertyValue", Property="Alias", String=column)
            _element(ref, "PropertyValue", Property="Name", PropertyPath=column)


def _who_am_i(parent: ET.Element) -> None:
    response = _element(parent, "ComplexType", Name="WhoAmIResponse")
    for name in ("BusinessUnitId", "UserId", "OrganizationId"):
        _element(response, "Property", Name=name, Type="Edm.Guid", Nullable="false")
    function = _element(parent, "Function", Name="WhoAmI")
    _element(function, "ReturnType", Type="mscrm.WhoAmIResponse", Nullable="false")


def _record_team_action(parent: ET.Element, name: str) -> None:
    action = _element(parent, "Action", Name=name, IsBound="true")
    _element(action, "Parameter", Name="entity", Type="mscrm.systemuser", Nullable="false")
    _element(action, "Parameter", Name="Record", Type="mscrm.crmbaseentity", Nullable="false")
    _element(action, "Parameter", Name="TeamTemplate", Type="mscrm.teamtemplate", Nullable="false")
    if name == "AddUserToRecordTeam":
        response = _element(parent, "ComplexType", Name="AddUserToRecordTeamResponse")
        _element(response, "Property", Name="AccessTeamId", Type="Edm.Guid", Nullable="false")
        _element(action, "ReturnType", Type="mscrm.AddUserToRecordTeamResponse", Nullable="false")
