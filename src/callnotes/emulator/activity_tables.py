"""Activity and note tables: ``phonecall``, ``activityparty`` and ``annotation``.

As powerapps-docs/developer/data-platform/reference/entities/{phonecall,activityparty,annotation}.md
define them (a documented subset of their columns):

- ``phonecall`` is an activity: primary key ``activityid``, ``subject``, ``description`` (2,000),
  ``actualend``, ``directioncode``, ``regardingobjectid`` (a multi-table lookup written through
  ``regardingobjectid_account_phonecall@odata.bind`` and the like), state Open/Completed/Canceled with
  status Open/Made/Canceled/Received. ``from`` / ``to`` are party lists: in the Web API they are the
  ``phonecall_activity_parties`` collection (activityparty rows with ``participationtypemask`` 1 =
  Sender, 2 = To Recipient …), set by deep insert when the call is created.
  ``cn_callnotesid`` is a custom column (publisher prefix ``cn_``) of the kind a team adds to hold an
  outside system's id — what callnotes' ``notes-as-phonecalls`` mapping keys on; it has no alternate
  key, so a client finds records by it with a query.
- ``annotation`` (a Note): ``subject``, ``notetext``, ``objectid`` (the record it is attached to,
  ``objectid_account@odata.bind``…) and ``objecttypecode`` (that record's logical name, set by the
  service), ``isdocument``, ``filename``, ``mimetype``, ``documentbody``.
"""

from __future__ import annotations

from collections.abc import Mapping

from callnotes.emulator.table_definitions import (
    PRIORITY,
    Column,
    EntityType,
    Kind,
    Navigation,
    entity_type,
    lookup_column,
    owner_columns,
)

PHONECALL_STATE: Mapping[int, str] = {0: "Open", 1: "Completed", 2: "Canceled"}
PHONECALL_STATUS: Mapping[int, str] = {1: "Open", 2: "Made", 3: "Canceled", 4: "Received"}
PARTICIPATION_TYPES: Mapping[int, str] = {
    1: "Sender",
    2: "To Recipient",
    3: "CC Recipient",
    4: "BCC Recipient",
    5: "Required attendee",
    6: "Optional attendee",
    7: "Organizer",
    8: "Regarding",
    9: "Owner",
    10: "Resource",
    11: "Customer",
}
#: Tables a phone call can be regarding, with the navigation property the Web API names for each
#: (Account_Phonecalls: ``regardingobjectid_account_phonecall``; custom tables without the suffix,
#: as table_definitions does for tasks).
_REGARDING = (
    ("regardingobjectid_account_phonecall", "account"),
    ("regardingobjectid_opportunity_phonecall", "opportunity"),
    ("regardingobjectid_msp_engagementmilestone", "msp_engagementmilestone"),
)
#: Tables a note can be attached to (``objectid_<table>``).
_NOTE_TARGETS = ("account", "opportunity", "msp_engagementmilestone", "phonecall", "task")
#: The collection-valued navigation holding an activity's parties (phonecall.md, One-To-Many).
PARTY_NAVIGATIONS: Mapping[str, str] = {"phonecall": "phonecall_activity_parties"}


def _phonecall() -> EntityType:
    return entity_type(
        "phonecall",
        "phonecalls",
        "activityid",
        "subject",
        Column("subject", Kind.STRING),
        Column("description", Kind.MEMO),
        Column("phonenumber", Kind.STRING),
        Column("directioncode", Kind.BOOL),
        Column("actualstart", Kind.DATETIME),
        Column("actualend", Kind.DATETIME),
        Column("actualdurationminutes", Kind.INT),
        Column("scheduledend", Kind.DATETIME),
        Column("category", Kind.STRING),
        Column("subcategory", Kind.STRING),
        Column("prioritycode", Kind.CHOICE, options=PRIORITY),
        lookup_column("regardingobjectid", *(target for _, target in _REGARDING)),
        *owner_columns(),
        Column("statecode", Kind.CHOICE, options=PHONECALL_STATE),
        Column("statuscode", Kind.CHOICE, options=PHONECALL_STATUS),
        Column("cn_callnotesid", Kind.STRING, indexed=True),
        navs=tuple(Navigation(nav, "regardingobjectid", target) for nav, target in _REGARDING),
    )


def _activityparty() -> EntityType:
    return entity_type(
        "activityparty",
        "activityparties",
        "activitypartyid",
        "addressused",
        lookup_column("activityid", "phonecall"),
        lookup_column("partyid", "account", "systemuser"),
        Column("participationtypemask", Kind.CHOICE, options=PARTICIPATION_TYPES),
        Column("addressused", Kind.STRING),
        navs=(
            Navigation("activityid_phonecall", "activityid", "phonecall"),
            Navigation("partyid_account", "partyid", "account"),
            Navigation("partyid_systemuser", "partyid", "systemuser"),
        ),
    )


def _annotation() -> EntityType:
    return entity_type(
        "annotation",
        "annotations",
        "annotationid",
        "subject",
        Column("subject", Kind.STRING),
        Column("notetext", Kind.MEMO),
        lookup_column("objectid", *_NOTE_TARGETS),
        Column("objecttypecode", Kind.STRING, read_only=True),
        Column("isdocument", Kind.BOOL),
        Column("filename", Kind.STRING),
        Column("mimetype", Kind.STRING),
        Column("documentbody", Kind.MEMO),
        *owner_columns(),
        navs=tuple(Navigation(f"objectid_{target}", "objectid", target) for target in _NOTE_TARGETS),
    )


def activity_tables() -> list[EntityType]:
    return [_phonecall(), _activityparty(), _annotation()]
