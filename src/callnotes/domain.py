"""The vocabulary shared by every layer: one enum per domain concept, one value per member.

The MSX layer decides which enum member an account-team row is (reference/001, "Identifying Sellers
vs SEs"); the store persists the member's value; the web shows its label. Neither layer translates.
This module imports nothing of callnotes, so both ``msx/`` and ``store/`` may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
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


_FISCAL_QUARTER = re.compile(r"^\s*FY\s*(\d{2}|\d{4})\s*[-_ ]?\s*Q([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class FiscalQuarter:
    """A quarter of Microsoft's fiscal year, which starts on 1 July and is named after the calendar
    year it ends in: FY26 runs from 1 July 2025 to 30 June 2026, its Q1 is July to September 2025,
    Q2 October to December 2025, Q3 January to March 2026, Q4 April to June 2026."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4 or not 2000 <= self.year <= 2200:
            raise ValueError(f"no fiscal quarter FY{self.year} Q{self.quarter}")

    @classmethod
    def of(cls, day: date) -> FiscalQuarter:
        """The fiscal quarter ``day`` falls in."""
        year = day.year + 1 if day.month >= 7 else day.year
        return cls(year, ((day.month - 7) % 12) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> FiscalQuarter:
        """``FY26-Q2``, ``FY26 Q2``, ``fy2026q2`` → the quarter; ``ValueError`` otherwise."""
        match = _FISCAL_QUARTER.match(text or "")
        if match is None:
            raise ValueError(f"{text!r} is not a fiscal quarter like FY26-Q2")
        year = int(match.group(1))
        return cls(year + 2000 if year < 100 else year, int(match.group(2)))

    @property
    def start(self) -> date:
        month = (self.quarter - 1) * 3 + 7
        return date(self.year - 1, month, 1) if month <= 12 else date(self.year, month - 12, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"FY{self.year % 100:02d} Q{self.quarter}"

    @property
    def slug(self) -> str:
        """The form used in URLs and file names: ``FY26-Q2``."""
        return f"FY{self.year % 100:02d}-Q{self.quarter}"

    def next(self) -> FiscalQuarter:
        if self.quarter == 4:
            return FiscalQuarter(self.year + 1, 1)
        return FiscalQuarter(self.year, self.quarter + 1)

    def previous(self) -> FiscalQuarter:
        if self.quarter == 1:
            return FiscalQuarter(self.year - 1, 4)
        return FiscalQuarter(self.year, self.quarter - 1)

    def months(self) -> list[date]:
        """The first day of each of the quarter's three months."""
        first = self.start
        return [date(first.year + (first.month + i - 1) // 12, (first.month + i - 1) % 12 + 1, 1)
                for i in range(3)]
