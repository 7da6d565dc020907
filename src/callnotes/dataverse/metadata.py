"""Table definitions a generic client needs: a table's logical name and a choice column's options.

powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md: ``EntityDefinitions`` filtered
on ``EntitySetName``; a choice column's options through the ``PicklistAttributeMetadata`` cast with
``$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)`` (the local or the global option
set, whichever the column uses); each option has a ``Value`` and a ``Label`` whose
``UserLocalizedLabel.Label`` is the text users see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callnotes.dataverse.errors import BadResponse, NotFound
from callnotes.dataverse.query import ODataFilter, key_path

if TYPE_CHECKING:
    from callnotes.dataverse.client import DataverseClient


def logical_name(client: DataverseClient, entity_set: str) -> str:
    """The logical name of the table behind ``entity_set`` (``phonecalls`` → ``phonecall``)."""
    answer = client.get("EntityDefinitions", {"$select": "LogicalName,EntitySetName",
                                              "$filter": str(ODataFilter.eq("EntitySetName", entity_set))})
    rows = answer.get("value") if isinstance(answer, dict) else None
    if not isinstance(rows, list):
        raise BadResponse("the CRM answered a table definitions query with something that is not a list")
    if not rows or not isinstance(rows[0], dict) or not isinstance(rows[0].get("LogicalName"), str):
        raise NotFound(f"the CRM has no table with the entity set {entity_set!r}")
    return str(rows[0]["LogicalName"])


def option_values(client: DataverseClient, entity: str, column: str) -> dict[str, int]:
    """A choice column's options, label → value (labels as users see them)."""
    definition = key_path("EntityDefinitions", {"LogicalName": entity})
    attribute = key_path("Attributes", {"LogicalName": column})
    path = f"{definition}/{attribute}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    answer = client.get(path, {"$select": "LogicalName",
                               "$expand": "OptionSet($select=Options),GlobalOptionSet($select=Options)"})
    if not isinstance(answer, dict):
        raise BadResponse(f"the CRM answered the options of {entity}.{column} with something not JSON")
    options: dict[str, int] = {}
    for option_set in (answer.get("OptionSet"), answer.get("GlobalOptionSet")):
        for option in (option_set or {}).get("Options") or []:
            label, value = _label(option), option.get("Value") if isinstance(option, dict) else None
            if label is not None and isinstance(value, int):
                options.setdefault(label, value)
    return options


def _label(option: Any) -> str | None:
    if not isinstance(option, dict):
        return None
    label = ((option.get("Label") or {}).get("UserLocalizedLabel") or {}).get("Label")
    return label if isinstance(label, str) else None
