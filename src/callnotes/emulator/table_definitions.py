"""The MSX-shaped Dataverse schema: entity types, their columns, lookups and option sets.

Wire names follow the reference documents (shared/reference/msx-api-catalog.md and
msx-integration-guide.md): a lookup column ``msp_accountid`` appears on the wire as
``_msp_accountid_value`` and is written through its single-valued navigation property
(``msp_accountid@odata.bind``).
powerapps-docs/developer/data-platform/webapi/web-api-properties.md (lookup properties) and
web-api-navigation-properties.md (single-valued navigation properties, multi-table lookups).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

# These constants (template ids, roles, option-set values) also appear in callnotes/msx/schema.py,
# on purpose: the emulator plays the server and imports nothing of callnotes, so a client-side
# mistake cannot be mirrored into the server it is tested against. Both copies follow
# shared/reference/msx-api-catalog.md; when one changes, check the other against the reference.
MILESTONE_TEAM_TEMPLATE_ID = "316e4735-9e83-eb11-a812-0022481e1be0"  # catalog "Key Constants"
OPPORTUNITY_TEAM_TEMPLATE_ID = "cc923a9d-7651-e311-9405-00155db3ba1e"  # catalog "Key Constants"
# Not in the references: MSX's account access-team template id is unknown, so the emulator uses a fixed one.
ACCOUNT_TEAM_TEMPLATE_ID = "a3c1a7f0-2b9e-4c53-9d1e-5f0e8b6a4c21"
ORGANIZATION_ID = "8b6c1f7e-3d2a-4b5c-9e0f-1a2b3c4d5e6f"
BUSINESS_UNIT_ID = "4e2d9c1b-7a6f-4e3d-8c2b-1f0e9d8c7b6a"

CLOUD_ROLES = (
    "Cloud & AI",
    "Cloud & AI-Acq",
    "Cloud & AI Data",
    "Cloud & AI Infrastructure",
    "Cloud & AI Apps",
)

# msx-integration-guide.md "HoK (Hands-on-Keyboard) Task Categories" (HoK and non-HoK codes).
TASK_CATEGORIES: Mapping[int, str] = {
    861980004: "Architecture Design Session",
    861980006: "Blocker Escalation",
    861980008: "Briefing",
    861980007: "Consumption Plan",
    861980002: "Demo",
    861980005: "PoC/Pilot",
    606820005: "Technical Close/Win Plan",
    861980001: "Workshop",
    606820000: "ACE",
    861980010: "Call Back Requested",
    606820001: "Cross Segment",
    606820002: "Cross Workload",
    861980000: "Customer Engagement",
    861980013: "External (Co-creation of Value)",
    861980012: "Internal",
    861980003: "Negotiate Pricing",
    861980011: "New Partner Request",
    606820003: "Post Sales",
    861980009: "RFP/RFI",
    606820004: "Tech Support",
    865420001: "Other",  # the catalog's create example uses this value
}
HOK_CATEGORY_CODES = frozenset(
    {861980004, 861980006, 861980008, 861980007, 861980002, 861980005, 606820005, 861980001}
)

# Labels from msx-integration-guide.md "Milestone Status Values"; the numeric values are not in the
# references, so the emulator numbers them in MSX's option-set style.
MILESTONE_STATUS: Mapping[int, str] = {
    861980000: "On Track",
    861980001: "At Risk",
    861980002: "Blocked",
    861980003: "Completed",
    861980004: "Cancelled",
    861980005: "Lost to Competitor",
    861980007: "Hygiene/Duplicate",
}
COMMITMENT: Mapping[int, str] = {
    861980000: "Uncommitted",
    861980001: "Committed",
    861980002: "Committed at Risk",
}
MILESTONE_CATEGORY: Mapping[int, str] = {
    861980000: "POC/Pilot",
    861980001: "Production",
    861980002: "Onboarding",
    861980003: "Expansion",
}
ACTIVE_STATE: Mapping[int, str] = {0: "Active", 1: "Inactive"}
OPPORTUNITY_STATE: Mapping[int, str] = {0: "Open", 1: "Won", 2: "Lost"}
#: ``salesstage`` (powerapps-docs/developer/data-platform/reference/entities/opportunity.md, SalesStage).
SALES_STAGE: Mapping[int, str] = {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}
OPPORTUNITY_STATUS: Mapping[int, str] = {
    1: "In Progress",
    2: "On Hold",
    3: "Won",
    4: "Canceled",
    5: "Out-Sold",
}
TASK_STATE: Mapping[int, str] = {0: "Open", 1: "Completed", 2: "Canceled"}
TASK_STATUS: Mapping[int, str] = {
    2: "Not Started",
    3: "In Progress",
    4: "Waiting on someone else",
    5: "Completed",
    6: "Canceled",
    7: "Deferred",
}
PRIORITY: Mapping[int, str] = {0: "Low", 1: "Normal", 2: "High"}
TEAM_TYPE: Mapping[int, str] = {0: "Owner", 1: "Access", 2: "Security Group", 3: "Office Group"}


class Kind(Enum):
    """Column types; :attr:`edm` is the Edm type used in error messages and literals."""

    KEY = "key"
    GUID = "guid"
    STRING = "string"
    MEMO = "memo"
    INT = "int"
    BIGINT = "bigint"
    DECIMAL = "decimal"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    LOOKUP = "lookup"
    ENUM = "enum"  # enumeration-typed properties of the metadata entity types (EntityMetadata, …)

    @property
    def edm(self) -> str:
        return _EDM[self]


_EDM = {
    Kind.KEY: "Edm.Guid",
    Kind.GUID: "Edm.Guid",
    Kind.LOOKUP: "Edm.Guid",
    Kind.STRING: "Edm.String",
    Kind.MEMO: "Edm.String",
    Kind.INT: "Edm.Int32",
    Kind.CHOICE: "Edm.Int32",
    Kind.BIGINT: "Edm.Int64",
    Kind.DECIMAL: "Edm.Decimal",
    Kind.MONEY: "Edm.Decimal",
    Kind.BOOL: "Edm.Boolean",
    Kind.DATE: "Edm.Date",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.ENUM: "Edm.String",
}


STRING_KINDS = frozenset({Kind.STRING, Kind.MEMO})
GUID_KINDS = frozenset({Kind.KEY, Kind.GUID, Kind.LOOKUP})
NUMBER_KINDS = frozenset({Kind.INT, Kind.BIGINT, Kind.DECIMAL, Kind.MONEY, Kind.CHOICE})


@dataclass(frozen=True)
class Column:
    """One column. ``name`` is the logical name; ``wire`` the Web API property name.

    ``global_option_set`` names the global option set a choice column uses (others have a local
    one); ``enum_type`` is the enumeration type of a :attr:`Kind.ENUM` metadata property.
    """

    name: str
    kind: Kind
    targets: tuple[str, ...] = ()
    options: Mapping[int, str] | None = None
    read_only: bool = False
    indexed: bool = False
    global_option_set: str | None = None
    enum_type: str | None = None
    #: False for a column that can be written but never read back (IsValidForRead False, e.g.
    #: serviceendpoint ``authvalue``): answers show it as null.
    readable: bool = True

    @property
    def wire(self) -> str:
        return f"_{self.name}_value" if self.kind is Kind.LOOKUP else self.name


@dataclass(frozen=True)
class Navigation:
    """A single-valued navigation property: writes a lookup column, targets one entity type."""

    name: str
    column: str
    target: str


@dataclass(frozen=True)
class AlternateKey:
    """An alternate key: columns whose values identify one record (unique together).

    powerapps-docs/developer/data-platform/define-alternate-keys-entity.md; addressed as
    ``accounts(accountnumber='A0000001')`` (use-alternate-key-reference-record.md).
    """

    schema_name: str
    display_name: str
    columns: tuple[str, ...]

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()


@dataclass(frozen=True)
class EntityType:
    logical_name: str
    entity_set: str
    primary_key: str
    primary_name: str
    columns: Mapping[str, Column]
    navigations: Mapping[str, Navigation] = field(default_factory=dict)
    keys: tuple[AlternateKey, ...] = ()

    def by_wire(self, wire: str) -> Column | None:
        """The column behind a wire property name (``_x_value`` or plain)."""
        if wire.startswith("_") and wire.endswith("_value"):
            column = self.columns.get(wire[1:-6])
            return column if column is not None and column.kind is Kind.LOOKUP else None
        column = self.columns.get(wire)
        return column if column is not None and column.kind is not Kind.LOOKUP else None


_COMMON = (
    Column("createdon", Kind.DATETIME, read_only=True),
    Column("modifiedon", Kind.DATETIME, read_only=True),
    Column("versionnumber", Kind.BIGINT, read_only=True),
)


def _owner() -> tuple[Column, ...]:
    return (Column("ownerid", Kind.LOOKUP, targets=("systemuser", "team"), indexed=True),)


def _entity(
    logical: str,
    entity_set: str,
    key: str,
    primary: str,
    *columns: Column,
    navs: tuple[Navigation, ...] = (),
    keys: tuple[AlternateKey, ...] = (),
) -> EntityType:
    cols = {c.name: c for c in (Column(key, Kind.KEY, indexed=True), *columns, *_COMMON)}
    nav_map: dict[str, Navigation] = {}
    for column in cols.values():
        if column.kind is Kind.LOOKUP and len(column.targets) == 1:
            nav_map[column.name] = Navigation(column.name, column.name, column.targets[0])
    if "ownerid" in cols:
        nav_map["ownerid"] = Navigation("ownerid", "ownerid", "systemuser")
    nav_map.update({n.name: n for n in navs})
    return EntityType(logical, entity_set, key, primary, cols, nav_map, keys)


def _global_choice(name: str, options: Mapping[int, str]) -> Column:
    """A choice column whose options come from the global option set of the same name."""
    return Column(name, Kind.CHOICE, options=options, global_option_set=name)


def _lookup(name: str, *targets: str) -> Column:
    return Column(name, Kind.LOOKUP, targets=targets, indexed=True)


def _regarding_navs(targets: tuple[tuple[str, str], ...]) -> tuple[Navigation, ...]:
    return tuple(Navigation(nav, "regardingobjectid", target) for nav, target in targets)


# Building blocks for the modules that add tables to this schema (activity_tables, plugin_tables).
entity_type = _entity
lookup_column = _lookup
owner_columns = _owner
regarding_navigations = _regarding_navs


def _account() -> EntityType:
    return _entity(
        "account",
        "accounts",
        "accountid",
        "name",
        Column("name", Kind.STRING, indexed=True),
        Column("msp_mstopparentid", Kind.STRING, indexed=True),
        Column("accountnumber", Kind.STRING, indexed=True),
        Column("websiteurl", Kind.STRING),
        Column("description", Kind.MEMO),
        _lookup("territoryid", "territory"),
        *_owner(),
        Column("statecode", Kind.CHOICE, options=ACTIVE_STATE),
        # The alternate key web-api-entitytypes.md "Alternate Keys" uses as its example; the data
        # set gives every account a unique number.
        keys=(AlternateKey("AccountNumberKey", "Account Number Key", ("accountnumber",)),),
    )


def _people_and_accounts() -> list[EntityType]:
    return [
        _entity(
            "systemuser",
            "systemusers",
            "systemuserid",
            "fullname",
            Column("fullname", Kind.STRING),
            Column("firstname", Kind.STRING),
            Column("lastname", Kind.STRING),
            Column("internalemailaddress", Kind.STRING, indexed=True),
            Column("domainname", Kind.STRING, indexed=True),
            Column("title", Kind.STRING),
            Column("isdisabled", Kind.BOOL),
        ),
        _account(),
        _entity(
            "territory",
            "territories",
            "territoryid",
            "name",
            Column("name", Kind.STRING, indexed=True),
            Column("msp_accountteamunitname", Kind.STRING),
            Column("description", Kind.MEMO),
        ),
        _entity(
            "msp_accountteam",
            "msp_accountteams",
            "msp_accountteamid",
            "msp_name",
            Column("msp_name", Kind.STRING),
            _lookup("msp_accountid", "account"),
            _lookup("msp_systemuserid", "systemuser"),
            Column("msp_fullname", Kind.STRING),
            Column("msp_qualifier1", Kind.STRING),
            Column("msp_qualifier2", Kind.STRING),
            Column("msp_standardtitle", Kind.STRING),
            Column("statecode", Kind.CHOICE, options=ACTIVE_STATE),
        ),
    ]


def _opportunity() -> EntityType:
    return _entity(
        "opportunity",
        "opportunities",
        "opportunityid",
        "name",
        Column("name", Kind.STRING),
        Column("msp_opportunitynumber", Kind.STRING, indexed=True),
        _lookup("parentaccountid", "account"),
        *_owner(),
        Column("statecode", Kind.CHOICE, options=OPPORTUNITY_STATE),
        Column("statuscode", Kind.CHOICE, options=OPPORTUNITY_STATUS),
        Column("estimatedclosedate", Kind.DATE),
        Column("msp_estcompletiondate", Kind.DATE),
        Column("estimatedvalue", Kind.MONEY),
        Column("salesstage", Kind.CHOICE, options=SALES_STAGE),
        Column("msp_consumptionconsumedrecurring", Kind.MONEY),
        Column("description", Kind.MEMO),
    )


def _milestone() -> EntityType:
    return _entity(
        "msp_engagementmilestone",
        "msp_engagementmilestones",
        "msp_engagementmilestoneid",
        "msp_name",
        Column("msp_name", Kind.STRING),
        Column("msp_milestonenumber", Kind.STRING, indexed=True),
        _global_choice("msp_milestonestatus", MILESTONE_STATUS),
        Column("msp_milestonedate", Kind.DATE),
        Column("msp_monthlyuse", Kind.MONEY),
        _global_choice("msp_commitmentrecommendation", COMMITMENT),
        _global_choice("msp_milestonecategory", MILESTONE_CATEGORY),
        *_owner(),
        _lookup("msp_workloadlkid", "msp_workload"),
        _lookup("msp_opportunityid", "opportunity"),
        _lookup("msp_parentaccount", "account"),
        Column("msp_forecastcommentsjsonfield", Kind.MEMO),
        Column("msp_forecastcomments", Kind.MEMO),
        Column("statecode", Kind.CHOICE, options=ACTIVE_STATE),
    )


def _task() -> EntityType:
    return _entity(
        "task",
        "tasks",
        "activityid",
        "subject",
        Column("subject", Kind.STRING),
        Column("description", Kind.MEMO),
        _global_choice("msp_taskcategory", TASK_CATEGORIES),
        Column("scheduleddurationminutes", Kind.INT),
        Column("prioritycode", Kind.CHOICE, options=PRIORITY),
        Column("scheduledend", Kind.DATETIME),
        _lookup("regardingobjectid", "msp_engagementmilestone", "opportunity", "account"),
        *_owner(),
        Column("statecode", Kind.CHOICE, options=TASK_STATE),
        Column("statuscode", Kind.CHOICE, options=TASK_STATUS),
        # Custom tables get "regardingobjectid_<table>", system tables "regardingobjectid_<table>_task"
        # (web-api-navigation-properties.md, multi-table lookups; the catalog's task create uses
        # the first).
        navs=_regarding_navs(
            (
                ("regardingobjectid_msp_engagementmilestone", "msp_engagementmilestone"),
                ("regardingobjectid_opportunity_task", "opportunity"),
                ("regardingobjectid_account_task", "account"),
            )
        ),
    )


def _sales() -> list[EntityType]:
    return [_opportunity(), _milestone(), _task()]


def _team() -> EntityType:
    return _entity(
        "team",
        "teams",
        "teamid",
        "name",
        Column("name", Kind.STRING),
        Column("teamtype", Kind.CHOICE, options=TEAM_TYPE),
        _lookup("teamtemplateid", "teamtemplate"),
        _lookup("regardingobjectid", "msp_engagementmilestone", "opportunity", "account"),
        Column("description", Kind.MEMO),
        navs=_regarding_navs(
            (
                ("regardingobjectid_msp_engagementmilestone", "msp_engagementmilestone"),
                ("regardingobjectid_opportunity", "opportunity"),
                ("regardingobjectid_account", "account"),
            )
        ),
    )


def _teams_and_lookups() -> list[EntityType]:
    return [
        _team(),
        _entity(
            "teamtemplate",
            "teamtemplates",
            "teamtemplateid",
            "teamtemplatename",
            Column("teamtemplatename", Kind.STRING),
            Column("objecttypecode", Kind.INT),
            Column("defaultaccessrightsmask", Kind.INT),
            Column("description", Kind.MEMO),
        ),
        _entity(
            "teammembership",
            "teammemberships",
            "teammembershipid",
            "teammembershipid",
            Column("teamid", Kind.GUID, indexed=True),
            Column("systemuserid", Kind.GUID, indexed=True),
        ),
        _entity(
            "msp_dealteam",
            "msp_dealteams",
            "msp_dealteamid",
            "msp_name",
            Column("msp_name", Kind.STRING),
            _lookup("msp_dealteamuserid", "systemuser"),
            _lookup("msp_parentopportunityid", "opportunity"),
            Column("statecode", Kind.CHOICE, options=ACTIVE_STATE),
        ),
        _entity(
            "msp_workload", "msp_workloads", "msp_workloadid", "msp_name", Column("msp_name", Kind.STRING)
        ),
    ]


def build_schema() -> dict[str, EntityType]:
    """All entity types, keyed by logical name."""
    types = [*_people_and_accounts(), *_sales(), *_teams_and_lookups()]
    return {t.logical_name: t for t in types}


# Object type codes (team templates, EntityMetadata.ObjectTypeCode): standard tables keep their
# documented codes; the custom (msp_) tables get codes from the custom range, chosen by the emulator.
OBJECT_TYPE_CODES: Mapping[str, int] = {
    "account": 1,
    "opportunity": 3,
    "systemuser": 8,
    "team": 9,
    "teammembership": 23,
    "teamtemplate": 92,
    "territory": 2013,
    "task": 4212,
    "msp_engagementmilestone": 10380,
    "msp_accountteam": 10381,
    "msp_dealteam": 10382,
    "msp_workload": 10383,
    # activity_tables / plugin_tables (documented codes of the standard tables)
    "phonecall": 4210,
    "activityparty": 135,
    "annotation": 5,
    "serviceendpoint": 4618,
    "sdkmessage": 4606,
    "sdkmessagefilter": 4607,
    "sdkmessageprocessingstep": 4608,
    "sdkmessageprocessingstepimage": 4615,
}

# Display names (singular, plural) of the tables, for EntityMetadata.DisplayName/DisplayCollectionName.
DISPLAY_NAMES: Mapping[str, tuple[str, str]] = {
    "systemuser": ("User", "Users"),
    "account": ("Account", "Accounts"),
    "territory": ("Territory", "Territories"),
    "msp_accountteam": ("Account Team", "Account Teams"),
    "opportunity": ("Opportunity", "Opportunities"),
    "msp_engagementmilestone": ("Milestone", "Milestones"),
    "task": ("Task", "Tasks"),
    "team": ("Team", "Teams"),
    "teamtemplate": ("Team template", "Team templates"),
    "teammembership": ("Team Membership", "Team Memberships"),
    "msp_dealteam": ("Deal Team", "Deal Teams"),
    "msp_workload": ("Workload", "Workloads"),
    "phonecall": ("Phone Call", "Phone Calls"),
    "activityparty": ("Activity Party", "Activity Parties"),
    "annotation": ("Note", "Notes"),
    "serviceendpoint": ("Service Endpoint", "Service Endpoints"),
    "sdkmessage": ("Sdk Message", "Sdk Messages"),
    "sdkmessagefilter": ("Sdk Message Filter", "Sdk Message Filters"),
    "sdkmessageprocessingstep": ("Sdk Message Processing Step", "Sdk Message Processing Steps"),
    "sdkmessageprocessingstepimage": ("Step Image", "Step Images"),
}

# Which state each status value belongs to (StatusOptionMetadata.State) and each state's default
# status (StateOptionMetadata.DefaultStatus), for the tables that have both columns.
STATUS_STATES: Mapping[str, Mapping[int, int]] = {
    "opportunity": {1: 0, 2: 0, 3: 1, 4: 2, 5: 2},
    "task": {2: 0, 3: 0, 4: 0, 7: 0, 5: 1, 6: 2},
    "phonecall": {1: 0, 2: 1, 4: 1, 3: 2},  # phonecall.md StatusCode options
}
DEFAULT_STATUS: Mapping[str, Mapping[int, int]] = {
    "opportunity": {0: 1, 1: 3, 2: 4},
    "task": {0: 2, 1: 5, 2: 6},
    "phonecall": {0: 1, 1: 2, 2: 3},  # phonecall.md StateCode DefaultStatus
}
