"""MSX constants in one place: CRM, tenant, app, team templates, option sets, role qualifiers.

Sources: shared/reference/msx-api-catalog.md ("Key Constants") and msx-integration-guide.md
("Import Flow", "Identifying Sellers vs SEs", "HoK Task Categories").
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final

# The shared vocabulary (callnotes.domain), re-exported here beside the MSX-only constants.
from callnotes.domain import HOK_CATEGORIES as HOK_CATEGORIES
from callnotes.domain import MILESTONE_CLOSED_LABELS as MILESTONE_CLOSED_LABELS
from callnotes.domain import MILESTONE_STATUSES as MILESTONE_STATUSES
from callnotes.domain import NON_HOK_CATEGORIES as NON_HOK_CATEGORIES
from callnotes.domain import HokCategory as HokCategory
from callnotes.domain import SellerType, SeSpecialty

#: The real MSX organisation (reference/000, Key Constants).
CRM_URL: Final = "https://microsoftsales.crm.dynamics.com"
API_PATH: Final = "/api/data/v9.2"
#: Microsoft's corporate tenant.
TENANT_ID: Final = "72f988bf-86f1-41af-91ab-2d7cd011db47"
#: The MSX model-driven app; record URLs without it may open in the wrong app (reference/001, gotcha 8).
APP_ID: Final = "fe0c3504-3700-e911-a849-000d3a10b7cc"
#: Access-team templates (reference/000, Key Constants).
OPPORTUNITY_TEAM_TEMPLATE_ID: Final = "cc923a9d-7651-e311-9405-00155db3ba1e"
MILESTONE_TEAM_TEMPLATE_ID: Final = "316e4735-9e83-eb11-a812-0022481e1be0"
#: `teamtype` of an access team (the catalog's membership filter uses `teamtype eq 1`).
ACCESS_TEAM_TYPE: Final = 1
#: Row cap MSX applies to msp_accountteams, without a nextLink (reference/001, "Record Limits").
ACCOUNT_TEAM_ROW_CAP: Final = 100
#: Opportunity `statecode` of an open opportunity.
OPPORTUNITY_OPEN: Final = 0

#: Job title that marks a seller among the Cloud & AI rows (reference/001).
SELLER_TITLE: Final = "Specialists IC"
#: Organisation level of the account-team rows we read (reference/001, server-side filter).
QUALIFIER1_CORPORATE: Final = "Corporate"
#: Prefix of every Cloud & AI role in msp_qualifier2 (the guide filters with startswith).
CLOUD_ROLE_PREFIX: Final = "Cloud "


class Role(StrEnum):
    """The five Cloud & AI `msp_qualifier2` role qualifiers (reference/001)."""

    GROWTH_SELLER = "Cloud & AI"
    ACQUISITION_SELLER = "Cloud & AI-Acq"
    DATA_SE = "Cloud & AI Data"
    INFRA_SE = "Cloud & AI Infrastructure"
    APPS_SE = "Cloud & AI Apps"


SELLER_ROLES: Final = (Role.GROWTH_SELLER, Role.ACQUISITION_SELLER)
SE_ROLES: Final = (Role.DATA_SE, Role.INFRA_SE, Role.APPS_SE)


SELLER_TYPE_BY_ROLE: Final = {
    Role.GROWTH_SELLER: SellerType.GROWTH,
    Role.ACQUISITION_SELLER: SellerType.ACQUISITION,
}
SE_SPECIALTY_BY_ROLE: Final = {
    Role.DATA_SE: SeSpecialty.DATA,
    Role.INFRA_SE: SeSpecialty.INFRA,
    Role.APPS_SE: SeSpecialty.APPS,
}


class TaskPriority(IntEnum):
    """`prioritycode` (reference/001, "Creating a Task")."""

    LOW = 0
    NORMAL = 1
    HIGH = 2


#: Task ``statecode`` labels (powerapps-docs/developer/data-platform/reference/entities/task.md,
#: StateCode choices), used when an answer carries no formatted value.
TASK_STATE_LABELS: Final = {0: "Open", 1: "Completed", 2: "Canceled"}
#: ``opportunity.salesstage`` (powerapps-docs/developer/data-platform/reference/entities/opportunity.md).
SALES_STAGE_LABELS: Final = {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}


class EntitySet(StrEnum):
    """Wire names of the entity sets the MSX layer reads or writes (plural, reference/001 gotcha 7)."""

    ACCOUNTS = "accounts"
    TERRITORIES = "territories"
    ACCOUNT_TEAMS = "msp_accountteams"
    OPPORTUNITIES = "opportunities"
    MILESTONES = "msp_engagementmilestones"
    TASKS = "tasks"
    SYSTEM_USERS = "systemusers"
    DEAL_TEAMS = "msp_dealteams"
    TEAMS = "teams"
    TEAM_TEMPLATES = "teamtemplates"


#: `$select` lists, one per read (reference/000 and /001); ``modifiedon`` feeds the refresh's watermarks.
ACCOUNT_SELECT: Final = ("accountid", "name", "msp_mstopparentid", "_territoryid_value", "modifiedon")
TERRITORY_SELECT: Final = ("territoryid", "name", "msp_accountteamunitname")
ACCOUNT_TEAM_SELECT: Final = (
    "_msp_accountid_value",
    "msp_fullname",
    "msp_qualifier1",
    "msp_qualifier2",
    "msp_standardtitle",
    "_msp_systemuserid_value",
    "modifiedon",
)
OPPORTUNITY_SELECT: Final = (
    "opportunityid",
    "name",
    "estimatedclosedate",
    "msp_estcompletiondate",
    "msp_consumptionconsumedrecurring",
    "_ownerid_value",
    "_parentaccountid_value",
    "msp_opportunitynumber",
    "statecode",
    "modifiedon",
    "estimatedvalue",
    "salesstage",
)
MILESTONE_SELECT: Final = (
    "msp_engagementmilestoneid",
    "msp_milestonenumber",
    "msp_name",
    "msp_milestonedate",
    "msp_milestonestatus",
    "msp_monthlyuse",
    "msp_commitmentrecommendation",
    "msp_milestonecategory",
    "_ownerid_value",
    "_msp_workloadlkid_value",
    "_msp_opportunityid_value",
    "_msp_parentaccount_value",
    "modifiedon",
)
MILESTONE_DETAIL_SELECT: Final = (*MILESTONE_SELECT, "msp_forecastcommentsjsonfield", "msp_forecastcomments")
TASK_SELECT: Final = (
    "activityid",
    "subject",
    "scheduledend",
    "createdon",
    "msp_taskcategory",
    "scheduleddurationminutes",
    "statecode",
    "statuscode",
    "_ownerid_value",
    "_regardingobjectid_value",
    "modifiedon",
)
USER_SELECT: Final = ("systemuserid", "fullname", "internalemailaddress")
