"""Reading the instance annotations Dataverse adds when asked with ``Prefer: odata.include-annotations="*"``.

Documented in powerapps-docs/developer/data-platform/webapi/query/select-columns.md (formatted values)
and .../webapi/web-api-types-operations.md (lookup properties):
``<field>@OData.Community.Display.V1.FormattedValue``,
``_<lookup>_value@Microsoft.Dynamics.CRM.lookuplogicalname``, ``...associatednavigationproperty``, and
``@odata.etag`` on each record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION_PROPERTY = "Microsoft.Dynamics.CRM.associatednavigationproperty"
ETAG = "@odata.etag"


def formatted_value(row: Mapping[str, Any], field: str) -> str | None:
    """The label Dataverse shows for ``field`` (option set label, lookup name, formatted date)."""
    value = row.get(f"{field}@{FORMATTED_VALUE}")
    return None if value is None else str(value)


def lookup_logical_name(row: Mapping[str, Any], field: str) -> str | None:
    """The table a lookup points at; ``field`` may be ``ownerid`` or ``_ownerid_value``."""
    key = field if field.startswith("_") and field.endswith("_value") else f"_{field}_value"
    value = row.get(f"{key}@{LOOKUP_LOGICAL_NAME}")
    return None if value is None else str(value)


def navigation_property(row: Mapping[str, Any], field: str) -> str | None:
    """The single-valued navigation property behind a lookup value (for ``@odata.bind``)."""
    key = field if field.startswith("_") and field.endswith("_value") else f"_{field}_value"
    value = row.get(f"{key}@{NAVIGATION_PROPERTY}")
    return None if value is None else str(value)


def etag(row: Mapping[str, Any]) -> str | None:
    """The record's ``@odata.etag`` (use it as ``If-Match`` for an optimistic update)."""
    value = row.get(ETAG)
    return None if value is None else str(value)


def strip_annotations(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row without any ``@`` annotation keys."""
    return {key: value for key, value in row.items() if "@" not in key}
