"""The typed records the MSX import hands to the store, and what an upsert answers.

Records carry MSX ids; references to other MSX records are MSX ids too (``customer_msx_id``…).
Collections given as ``None`` mean "leave as stored"; a list replaces them. See ``msx_records``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from callnotes.store.models import SellerType, SeSpecialty


class UpsertResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Upserted:
    result: UpsertResult
    record: Any


@dataclass
class UpsertCounts:
    """Totals of :func:`upsert_records`."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, result: UpsertResult) -> None:
        setattr(self, result.value, getattr(self, result.value) + 1)


class MsxKind(StrEnum):
    """Which table :func:`mark_gone` works on."""

    TERRITORIES = "territories"
    SELLERS = "sellers"
    SOLUTION_ENGINEERS = "solution_engineers"
    CUSTOMERS = "customers"
    OPPORTUNITIES = "opportunities"
    MILESTONES = "milestones"
    TASKS = "tasks"


@dataclass
class TerritoryRecord:
    """``territories``: ``pod_name`` None → derived from the name (:func:`pod_name_for_territory`)."""

    msx_id: str
    name: str
    account_team_unit_name: str | None = None
    pod_name: str | None = None


@dataclass
class SellerRecord:
    """An account-team seller; ``msx_id`` is the ``systemuserid``."""

    msx_id: str
    name: str
    seller_type: SellerType
    email: str | None = None


@dataclass
class SolutionEngineerRecord:
    msx_id: str
    name: str
    specialty: SeSpecialty
    email: str | None = None


@dataclass
class CustomerRecord:
    """``accounts``: ``msx_id`` = ``accountid``, ``tpid`` = ``msp_mstopparentid``."""

    msx_id: str
    name: str
    tpid: str | None = None
    territory_msx_id: str | None = None
    website: str | None = None
    msx_url: str | None = None
    seller_msx_ids: list[str] | None = None
    solution_engineer_msx_ids: list[str] | None = None


@dataclass
class OpportunityRecord:
    msx_id: str
    name: str
    number: str | None = None
    state: str | None = None
    estimated_close_date: date | None = None
    customer_msx_id: str | None = None
    estimated_value: float | None = None
    stage: str | None = None
    owner_name: str | None = None
    #: On my deal team; None = leave as stored.
    on_my_team: bool | None = None


@dataclass
class MilestoneRecord:
    """``msp_engagementmilestones``; ``on_my_team`` None = leave as stored."""

    msx_id: str
    name: str
    number: str | None = None
    status: int | None = None
    status_label: str | None = None
    milestone_date: date | None = None
    monthly_use: float | None = None
    workload: str | None = None
    on_my_team: bool | None = None
    commitment: str | None = None
    opportunity_msx_id: str | None = None
    customer_msx_id: str | None = None


@dataclass
class TaskRecord:
    msx_id: str
    subject: str
    category_code: int | None = None
    is_hok: bool = False
    duration_minutes: int | None = None
    state: str | None = None
    milestone_msx_id: str | None = None
    task_date: date | None = None


MsxRecord = (TerritoryRecord | SellerRecord | SolutionEngineerRecord | CustomerRecord | OpportunityRecord
             | MilestoneRecord | TaskRecord)


def pod_name_for_territory(territory_name: str) -> str | None:
    """``East.SMECC.MAA.0601`` → ``East POD 06`` (msx-integration-guide, Step 4); None if not that shape."""
    parts = territory_name.split(".")
    if len(parts) < 2 or len(parts[-1]) < 2 or not parts[-1][:2].isdigit() or not parts[0]:
        return None
    return f"{parts[0]} POD {parts[-1][:2]}"
