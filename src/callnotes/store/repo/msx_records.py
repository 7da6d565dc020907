"""Upserts of MSX records, keyed by MSX id — the write side of the MSX import.

Each ``upsert_*`` takes a typed record, finds the local row by ``msx_id`` and creates it, updates
the fields that differ, or leaves it alone, returning :class:`Upserted` (``CREATED`` / ``UPDATED`` /
``UNCHANGED`` + the row). A second identical upsert changes nothing (not even ``updated_at``).
References to other MSX records are given by MSX id (``customer_msx_id``…) and must already be
stored (import territories → people → customers → opportunities → milestones → tasks), else
:class:`NotFound`. Collections given as ``None`` are left untouched; a list replaces them.
Upserts never touch notes, topics or the customer's local ``account_notes``.
:func:`mark_gone` stamps ``gone_from_msx_at`` on rows MSX no longer returns (never deletes);
an upsert of a gone row clears the stamp.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.models import (
    Base,
    Customer,
    Milestone,
    Opportunity,
    Pod,
    Seller,
    SellerType,
    SeSpecialty,
    SolutionEngineer,
    Task,
    Territory,
)
from callnotes.store.repo._common import apply_changes, required_text
from callnotes.store.types import utcnow

_CHUNK = 500


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


_MODELS: dict[MsxKind, type[Base]] = {
    MsxKind.TERRITORIES: Territory, MsxKind.SELLERS: Seller, MsxKind.SOLUTION_ENGINEERS: SolutionEngineer,
    MsxKind.CUSTOMERS: Customer, MsxKind.OPPORTUNITIES: Opportunity, MsxKind.MILESTONES: Milestone,
    MsxKind.TASKS: Task,
}


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


MsxRecord = (TerritoryRecord | SellerRecord | SolutionEngineerRecord | CustomerRecord | OpportunityRecord
             | MilestoneRecord | TaskRecord)


def pod_name_for_territory(territory_name: str) -> str | None:
    """``East.SMECC.MAA.0601`` → ``East POD 06`` (msx-integration-guide, Step 4); None if not that shape."""
    parts = territory_name.split(".")
    if len(parts) < 2 or len(parts[-1]) < 2 or not parts[-1][:2].isdigit() or not parts[0]:
        return None
    return f"{parts[0]} POD {parts[-1][:2]}"


@dataclass
class _Cache:
    """Rows already looked up in this batch, by model and MSX id."""

    rows: dict[tuple[type[Base], str], Any] = field(default_factory=dict)

    def prefetch(self, session: Session, model: Any, msx_ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(msx_ids) if (model, i) not in self.rows]
        for start in range(0, len(ids), _CHUNK):
            for row in session.scalars(select(model).where(model.msx_id.in_(ids[start:start + _CHUNK]))):
                self.rows[(model, row.msx_id)] = row

    def find(self, session: Session, model: Any, msx_id: str) -> Any:
        key = (model, msx_id)
        if key not in self.rows:
            self.rows[key] = session.scalar(select(model).where(model.msx_id == msx_id))
        return self.rows[key]

    def ref(self, session: Session, model: Any, msx_id: str | None, kind: str) -> int | None:
        if msx_id is None:
            return None
        row = self.find(session, model, msx_id)
        if row is None:
            raise NotFound(kind, msx_id)
        return row.id


def _upsert(session: Session, cache: _Cache, model: Any, msx_id: str, values: dict[str, Any],
            collections: dict[str, list[Any]] | None = None) -> Upserted:
    msx_id = required_text(msx_id, "msx_id", 64)
    record = cache.find(session, model, msx_id)
    now = utcnow()
    if record is None:
        record = model(msx_id=msx_id, msx_synced_at=now, **values)
        for name, items in (collections or {}).items():
            setattr(record, name, items)
        session.add(record)
        session.flush()
        cache.rows[(model, msx_id)] = record
        return Upserted(UpsertResult.CREATED, record)
    changed = apply_changes(record, values)
    for name, items in (collections or {}).items():
        if {i.id for i in getattr(record, name)} != {i.id for i in items}:
            setattr(record, name, items)
            changed = True
    if record.gone_from_msx_at is not None:
        record.gone_from_msx_at = None
        changed = True
    if not changed:
        return Upserted(UpsertResult.UNCHANGED, record)
    record.msx_synced_at = now
    session.flush()
    return Upserted(UpsertResult.UPDATED, record)


def _pod_id(session: Session, name: str | None) -> int | None:
    if not name:
        return None
    pod = session.scalar(select(Pod).where(Pod.name == name))
    if pod is None:
        pod = Pod(name=name)
        session.add(pod)
        session.flush()
    return pod.id


def upsert_territory(session: Session, record: TerritoryRecord, *, _cache: _Cache | None = None) -> Upserted:
    """Territory by MSX ``territoryid``; its POD is created on demand (PODs are keyed by name)."""
    cache = _cache or _Cache()
    pod_name = record.pod_name or pod_name_for_territory(record.name)
    values = {"name": required_text(record.name, "name", 200),
              "account_team_unit_name": record.account_team_unit_name, "pod_id": _pod_id(session, pod_name)}
    return _upsert(session, cache, Territory, record.msx_id, values)


def upsert_seller(session: Session, record: SellerRecord, *, _cache: _Cache | None = None) -> Upserted:
    """Seller by ``systemuserid``."""
    values = {"name": required_text(record.name, "name", 200), "email": record.email,
              "seller_type": SellerType(record.seller_type)}
    return _upsert(session, _cache or _Cache(), Seller, record.msx_id, values)


def upsert_solution_engineer(session: Session, record: SolutionEngineerRecord, *,
                             _cache: _Cache | None = None) -> Upserted:
    """Solution engineer by ``systemuserid``."""
    values = {"name": required_text(record.name, "name", 200), "email": record.email,
              "specialty": SeSpecialty(record.specialty)}
    return _upsert(session, _cache or _Cache(), SolutionEngineer, record.msx_id, values)


def _people(session: Session, cache: _Cache, model: Any, ids: list[str] | None,
            kind: str) -> list[Any] | None:
    if ids is None:
        return None
    cache.prefetch(session, model, ids)
    people = []
    for msx_id in dict.fromkeys(ids):
        person = cache.find(session, model, msx_id)
        if person is None:
            raise NotFound(kind, msx_id)
        people.append(person)
    return people


def upsert_customer(session: Session, record: CustomerRecord, *, _cache: _Cache | None = None) -> Upserted:
    """Customer by ``accountid``; account team replaced when the id lists are given."""
    cache = _cache or _Cache()
    values = {"name": required_text(record.name, "name", 300), "tpid": record.tpid,
              "territory_id": cache.ref(session, Territory, record.territory_msx_id, "territory"),
              "website": record.website, "msx_url": record.msx_url}
    collections = {}
    sellers = _people(session, cache, Seller, record.seller_msx_ids, "seller")
    engineers = _people(session, cache, SolutionEngineer, record.solution_engineer_msx_ids,
                        "solution engineer")
    if sellers is not None:
        collections["sellers"] = sellers
    if engineers is not None:
        collections["solution_engineers"] = engineers
    return _upsert(session, cache, Customer, record.msx_id, values, collections)


def upsert_opportunity(session: Session, record: OpportunityRecord, *,
                       _cache: _Cache | None = None) -> Upserted:
    cache = _cache or _Cache()
    values = {"name": required_text(record.name, "name", 500), "number": record.number, "state": record.state,
              "estimated_close_date": record.estimated_close_date,
              "customer_id": cache.ref(session, Customer, record.customer_msx_id, "customer")}
    return _upsert(session, cache, Opportunity, record.msx_id, values)


def upsert_milestone(session: Session, record: MilestoneRecord, *, _cache: _Cache | None = None) -> Upserted:
    cache = _cache or _Cache()
    values: dict[str, Any] = {
        "name": required_text(record.name, "name", 500), "number": record.number, "status": record.status,
        "status_label": record.status_label, "milestone_date": record.milestone_date,
        "monthly_use": record.monthly_use, "workload": record.workload,
        "opportunity_id": cache.ref(session, Opportunity, record.opportunity_msx_id, "opportunity"),
        "customer_id": cache.ref(session, Customer, record.customer_msx_id, "customer")}
    if record.on_my_team is not None:
        values["on_my_team"] = record.on_my_team
    return _upsert(session, cache, Milestone, record.msx_id, values)


def upsert_task(session: Session, record: TaskRecord, *, _cache: _Cache | None = None) -> Upserted:
    cache = _cache or _Cache()
    values = {"subject": required_text(record.subject, "subject", 500), "category_code": record.category_code,
              "is_hok": record.is_hok, "duration_minutes": record.duration_minutes, "state": record.state,
              "milestone_id": cache.ref(session, Milestone, record.milestone_msx_id, "milestone")}
    return _upsert(session, cache, Task, record.msx_id, values)


_UPSERTS: dict[type, tuple[Any, Any]] = {
    TerritoryRecord: (upsert_territory, Territory), SellerRecord: (upsert_seller, Seller),
    SolutionEngineerRecord: (upsert_solution_engineer, SolutionEngineer),
    CustomerRecord: (upsert_customer, Customer), OpportunityRecord: (upsert_opportunity, Opportunity),
    MilestoneRecord: (upsert_milestone, Milestone), TaskRecord: (upsert_task, Task),
}


def upsert_records(session: Session, records: Iterable[MsxRecord]) -> UpsertCounts:
    """Upsert many records (any mix of kinds, in dependency order) with batched lookups."""
    records = list(records)
    cache = _Cache()
    by_model: dict[Any, list[str]] = {}
    for record in records:
        by_model.setdefault(_UPSERTS[type(record)][1], []).append(record.msx_id)
    for model, ids in by_model.items():
        cache.prefetch(session, model, ids)
    counts = UpsertCounts()
    for record in records:
        upsert, _ = _UPSERTS[type(record)]
        counts.add(upsert(session, record, _cache=cache).result)
    return counts


def mark_gone(session: Session, kind: MsxKind | str, seen_ids: Collection[str], *,
              among: Collection[str] | None = None) -> int:
    """Stamp ``gone_from_msx_at`` on rows of ``kind`` whose MSX id is not in ``seen_ids``.

    ``among`` limits the candidates (e.g. the milestones of the accounts just imported). Rows
    already marked keep their first stamp. Returns how many rows were newly marked.
    """
    try:
        model: Any = _MODELS[MsxKind(kind)]
    except ValueError:
        raise ValidationError(f"unknown MSX kind {kind!r}", field="kind") from None
    seen = set(seen_ids)
    scope = None if among is None else set(among)
    rows = session.execute(
        select(model.id, model.msx_id).where(model.msx_id.is_not(None), model.gone_from_msx_at.is_(None)))
    gone = [row_id for row_id, msx_id in rows if msx_id not in seen and (scope is None or msx_id in scope)]
    now = utcnow()
    for start in range(0, len(gone), _CHUNK):
        for record in session.scalars(select(model).where(model.id.in_(gone[start:start + _CHUNK]))):
            record.gone_from_msx_at = now
    session.flush()
    return len(gone)
