"""What the service does for activities and notes beyond plain columns.

- Activity parties by deep insert: ``POST phonecalls`` with ``"phonecall_activity_parties": [{
  "partyid_account@odata.bind": "/accounts(<id>)", "participationtypemask": 2}, …]`` creates the call
  and one ``activityparty`` row per item, in the same transaction (create-entity-web-api.md, "Create
  related table rows in one operation"; activityparty.md, ParticipationTypeMask). The emulator sets
  parties on create only: a PATCH that carries them is refused.
- ``annotation.objecttypecode`` is the logical name of the record ``objectid`` points to, set by the
  service (annotation.md: ObjectTypeCode is not valid for create).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from callnotes.emulator import errors
from callnotes.emulator.activity_tables import PARTY_NAVIGATIONS
from callnotes.emulator.table_definitions import EntityType
from callnotes.emulator.tables import Row, type_key

if TYPE_CHECKING:
    from callnotes.emulator.writes import Writer

#: Hidden key of a change set holding the parties of a deep insert (never stored in a row).
PARTIES = "@parties"
_PARTY_ENTITY = "activityparty"


def is_party_navigation(entity: EntityType, name: str) -> bool:
    return PARTY_NAVIGATIONS.get(entity.logical_name) == name


def read_parties(writer: Writer, entity: EntityType, value: object) -> list[Row]:
    """The activityparty changes of a deep insert, each checked like a record body of its own."""
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise errors.payload_error(
            entity.entity_set,
            f"Microsoft.OData.ODataException: '{PARTY_NAVIGATIONS[entity.logical_name]}' must be a "
            "collection of activityparty records.",
        )
    party_entity = writer.database.schema[_PARTY_ENTITY]
    parties = [writer.changes_from(item, party_entity) for item in value]
    for party in parties:
        if party.get("participationtypemask") is None or party.get("partyid") is None:
            raise errors.invalid_argument("Each activity party needs a partyid and a participationtypemask.")
    return parties


def take_parties(row: Row) -> list[Row]:
    """Remove the deep-insert parties from ``row`` (they are rows of their own)."""
    parties = row.pop(PARTIES, None)
    return parties if isinstance(parties, list) else []


def insert_parties(writer: Writer, activity: Row, parties: list[Row], caller_id: str) -> None:
    """One activityparty row per party, pointing at ``activity`` (inside the caller's transaction)."""
    if not parties:
        return
    table = writer.database.tables[_PARTY_ENTITY]
    activity_id = str(activity["activityid"])
    for party in parties:
        changes = {**party, "activityid": activity_id}
        writer.insert(table, str(uuid.uuid4()), changes, caller_id)


def refuse_parties_on_update(entity: EntityType, changes: Row) -> None:
    if PARTIES in changes:
        raise errors.invalid_argument(
            f"The emulator sets {PARTY_NAVIGATIONS[entity.logical_name]} when the activity is created only."
        )


def complete_changes(entity: EntityType, changes: Row) -> None:
    """Columns the service derives from others (annotation.objecttypecode from objectid)."""
    if entity.logical_name == "annotation" and "objectid" in changes:
        target = changes.get(type_key("objectid"))
        changes["objecttypecode"] = target if changes["objectid"] is not None else None
