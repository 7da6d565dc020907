"""The vocabulary shared by every layer: one enum per domain concept, one value per member.

The MSX layer decides which enum member an account-team row is (reference/001, "Identifying Sellers
vs SEs"); the store persists the member's value; the web shows its label. Neither layer translates.
This module imports nothing of callnotes, so both ``msx/`` and ``store/`` may use it.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final


class SellerType(StrEnum):
    """Seller role on the account team (``msp_qualifier2`` "Cloud & AI" / "Cloud & AI-Acq")."""

    GROWTH = "growth"
    ACQUISITION = "acquisition"

    @property
    def label(self) -> str:
        return self.value.title()


class SeSpecialty(StrEnum):
    """Solution engineer role ("Cloud & AI Data" / "Infrastructure" / "Apps")."""

    DATA = "data"
    INFRA = "infra"
    APPS = "apps"

    @property
    def label(self) -> str:
        return self.value.title()


class HokCategory(IntEnum):
    """`msp_taskcategory` codes (reference/001, "HoK Task Categories").

    Only the first eight count as hands-on-keyboard. (The catalog's sample body uses 865420001,
    which is in neither table of the guide; the guide's tables are the source of truth here.)
    """

    ARCHITECTURE_DESIGN_SESSION = 861980004
    BLOCKER_ESCALATION = 861980006
    BRIEFING = 861980008
    CONSUMPTION_PLAN = 861980007
    DEMO = 861980002
    POC_PILOT = 861980005
    TECHNICAL_CLOSE_WIN_PLAN = 606820005
    WORKSHOP = 861980001
    ACE = 606820000
    CALL_BACK_REQUESTED = 861980010
    CROSS_SEGMENT = 606820001
    CROSS_WORKLOAD = 606820002
    CUSTOMER_ENGAGEMENT = 861980000
    EXTERNAL_CO_CREATION = 861980013
    INTERNAL = 861980012
    NEGOTIATE_PRICING = 861980003
    NEW_PARTNER_REQUEST = 861980011
    POST_SALES = 606820003
    RFP_RFI = 861980009
    TECH_SUPPORT = 606820004

    @property
    def label(self) -> str:
        return _HOK_LABELS[self]

    @property
    def is_hok(self) -> bool:
        return self in _HOK_CODES


_HOK_LABELS: Final = {
    HokCategory.ARCHITECTURE_DESIGN_SESSION: "Architecture Design Session",
    HokCategory.BLOCKER_ESCALATION: "Blocker Escalation",
    HokCategory.BRIEFING: "Briefing",
    HokCategory.CONSUMPTION_PLAN: "Consumption Plan",
    HokCategory.DEMO: "Demo",
    HokCategory.POC_PILOT: "PoC/Pilot",
    HokCategory.TECHNICAL_CLOSE_WIN_PLAN: "Technical Close/Win Plan",
    HokCategory.WORKSHOP: "Workshop",
    HokCategory.ACE: "ACE",
    HokCategory.CALL_BACK_REQUESTED: "Call Back Requested",
    HokCategory.CROSS_SEGMENT: "Cross Segment",
    HokCategory.CROSS_WORKLOAD: "Cross Workload",
    HokCategory.CUSTOMER_ENGAGEMENT: "Customer Engagement",
    HokCategory.EXTERNAL_CO_CREATION: "External (Co-creation of Value)",
    HokCategory.INTERNAL: "Internal",
    HokCategory.NEGOTIATE_PRICING: "Negotiate Pricing",
    HokCategory.NEW_PARTNER_REQUEST: "New Partner Request",
    HokCategory.POST_SALES: "Post Sales",
    HokCategory.RFP_RFI: "RFP/RFI",
    HokCategory.TECH_SUPPORT: "Tech Support",
}
_HOK_CODES: Final = frozenset(list(HokCategory)[:8])

HOK_CATEGORIES: Final = tuple(c for c in HokCategory if c.is_hok)
NON_HOK_CATEGORIES: Final = tuple(c for c in HokCategory if not c.is_hok)

#: Longest task subject and description the CRM takes (``task`` columns ``subject`` MaxLength 200,
#: ``description`` MaxLength 2000: powerapps-docs/developer/data-platform/reference/entities/task.md).
TASK_SUBJECT_MAX_LENGTH: Final = 200
TASK_DESCRIPTION_MAX_LENGTH: Final = 2000
#: A task lasts between one minute and a day (``scheduleddurationminutes``, in minutes).
TASK_MAX_DURATION_MINUTES: Final = 24 * 60


class WritebackMode(StrEnum):
    """``CALLNOTES_WRITEBACK``: whether queued CRM writes leave on their own, wait for approval,
    or are not queued at all (DESIGN.md §Contracts, write-back)."""

    AUTO = "auto"
    ASK = "ask"
    OFF = "off"


#: ``msp_milestonestatus`` labels (reference/001, "Milestone Status Values"). The reference names no
#: option values: the codes come from the CRM (FormattedValue annotations, the option set's metadata).
MILESTONE_STATUSES: Final = (
    "On Track", "At Risk", "Blocked", "Completed", "Cancelled", "Lost to Competitor", "Hygiene/Duplicate",
)
#: Statuses after which a milestone needs no more work.
MILESTONE_CLOSED_LABELS: Final = frozenset(MILESTONE_STATUSES[3:])  # Completed, Cancelled, Lost…, Hygiene…
