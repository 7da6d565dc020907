"""Writes an `ImportSnapshot` into the store: upsert by MSX id, mark what MSX no longer returns.

Order follows the store's references: territories → sellers / SEs → customers → opportunities →
milestones → tasks. Notes are never touched (the store's upserts guarantee it). The caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.msx.import_plan import ImportSnapshot
from callnotes.msx.links import account_url
from callnotes.msx.records import AccountTeamMember
from callnotes.msx.schema import CRM_URL
from callnotes.store import (
    Customer,
    CustomerRecord,
    Milestone,
    MilestoneRecord,
    MsxKind,
    Opportunity,
    OpportunityRecord,
    Seller,
    SellerRecord,
    SolutionEngineer,
    SolutionEngineerRecord,
    Task,
    TaskRecord,
    Territory,
    TerritoryRecord,
    mark_gone,
    upsert_records,
)
from callnotes.sync.summary import ImportSummary

#: One store record of any MSX kind (the store's upsert_records takes any mix).
MsxRecord = (TerritoryRecord | SellerRecord | SolutionEngineerRecord | CustomerRecord | OpportunityRecord
             | MilestoneRecord | TaskRecord)

UNNAMED = "(no name in MSX)"


def _name(member: AccountTeamMember) -> str:
    return (member.full_name or "").strip() or UNNAMED


def _people(snapshot: ImportSnapshot,
            team: list[AccountTeamMember]) -> tuple[list[SellerRecord], list[SolutionEngineerRecord]]:
    """Sellers and SEs, each with the email of their MSX user record (None when MSX has none)."""
    sellers: dict[str, SellerRecord] = {}
    engineers: dict[str, SolutionEngineerRecord] = {}
    for member in team:
        user = snapshot.users.get(member.user_id)
        email = user.email if user is not None else None
        if member.seller_type is not None and member.user_id not in sellers:
            sellers[member.user_id] = SellerRecord(member.user_id, _name(member), member.seller_type, email)
        if member.se_specialty is not None and member.user_id not in engineers:
            engineers[member.user_id] = SolutionEngineerRecord(
                member.user_id, _name(member), member.se_specialty, email)
    return list(sellers.values()), list(engineers.values())


def _customers(snapshot: ImportSnapshot, team: list[AccountTeamMember], crm_url: str) -> list[CustomerRecord]:
    sellers: dict[str, list[str]] = {}
    engineers: dict[str, list[str]] = {}
    for member in team:
        if member.seller_type is not None:
            sellers.setdefault(member.account_id, []).append(member.user_id)
        if member.se_specialty is not None:
            engineers.setdefault(member.account_id, []).append(member.user_id)
    known_territories = snapshot.territories
    return [
        CustomerRecord(
            msx_id=a.id, name=a.name, tpid=a.tpid,
            territory_msx_id=a.territory_id if a.territory_id in known_territories else None,
            msx_url=account_url(a.id, crm_url=crm_url),
            seller_msx_ids=sorted(set(sellers.get(a.id, []))),
            solution_engineer_msx_ids=sorted(set(engineers.get(a.id, []))),
        )
        for a in sorted(snapshot.accounts.values(), key=lambda a: a.id)
    ]


def _opportunities(snapshot: ImportSnapshot) -> list[OpportunityRecord]:
    return [
        OpportunityRecord(msx_id=o.id, name=o.name, number=o.number, state="Open",
                          estimated_close_date=o.estimated_close_date, estimated_value=o.estimated_value,
                          stage=o.stage, owner_name=o.owner_name,
                          customer_msx_id=o.account_id if o.account_id in snapshot.accounts else None)
        for o in sorted(snapshot.opportunities.values(), key=lambda o: o.id)
    ]


def _milestones(snapshot: ImportSnapshot) -> list[MilestoneRecord]:
    return [
        MilestoneRecord(
            msx_id=m.id, name=m.name, number=m.number, status=m.status, status_label=m.status_label,
            milestone_date=m.milestone_date, monthly_use=m.monthly_use, workload=m.workload,
            commitment=m.commitment,
            on_my_team=m.id in snapshot.my_milestone_teams,
            opportunity_msx_id=m.opportunity_id if m.opportunity_id in snapshot.opportunities else None,
            customer_msx_id=m.account_id if m.account_id in snapshot.accounts else None,
        )
        for m in sorted(snapshot.milestones.values(), key=lambda m: m.id)
    ]


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None


def _tasks(snapshot: ImportSnapshot) -> list[TaskRecord]:
    """Tasks regarding the imported milestones: category code, HoK flag (`HokCategory`), state label."""
    return [
        TaskRecord(msx_id=t.id, subject=t.subject.strip() or UNNAMED, category_code=t.category_code,
                   is_hok=t.is_hok, duration_minutes=t.duration_minutes, state=t.state_label,
                   task_date=_day(t.scheduled_end or t.created_on),
                   milestone_msx_id=t.regarding_id if t.regarding_id in snapshot.milestones else None)
        for t in sorted(snapshot.tasks.values(), key=lambda t: t.id)
    ]


_MODELS: dict[MsxKind, Any] = {
    MsxKind.TERRITORIES: Territory, MsxKind.SELLERS: Seller, MsxKind.SOLUTION_ENGINEERS: SolutionEngineer,
    MsxKind.CUSTOMERS: Customer, MsxKind.OPPORTUNITIES: Opportunity, MsxKind.MILESTONES: Milestone,
    MsxKind.TASKS: Task,
}
_CHUNK = 500


def _stored_ids(session: Session, kind: MsxKind, ids: list[str]) -> set[str]:
    model = _MODELS[kind]
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(session.scalars(select(model.msx_id).where(model.msx_id.in_(ids[start:start + _CHUNK]))))
    return found


def _restate_opportunities(session: Session, states: Mapping[str, str | None]) -> int:
    """Opportunities MSX still has but no longer lists as open get their new state ("Won"…)."""
    changed = [msx_id for msx_id, state in states.items() if state]
    rows: list[Opportunity] = list(session.scalars(
        select(Opportunity).options(selectinload(Opportunity.customer)).where(Opportunity.msx_id.in_(changed))
    )) if changed else []
    records = [
        OpportunityRecord(msx_id=row.msx_id, name=row.name, number=row.number, state=states[row.msx_id],
                          estimated_close_date=row.estimated_close_date, estimated_value=row.estimated_value,
                          stage=row.stage, owner_name=row.owner_name,
                          customer_msx_id=row.customer.msx_id if row.customer else None)
        for row in rows if row.msx_id is not None and row.state != states[row.msx_id]
    ]
    return upsert_records(session, records).updated if records else 0


def records_by_kind(snapshot: ImportSnapshot, *, crm_url: str = CRM_URL) -> dict[MsxKind, list[MsxRecord]]:
    """The store records of a snapshot, by kind, in the order references need."""
    team = snapshot.my_team()
    sellers, engineers = _people(snapshot, team)
    territories = [TerritoryRecord(t.id, t.name, t.unit_name, t.pod)
                   for t in sorted(snapshot.territories.values(), key=lambda t: t.id)]
    return {
        MsxKind.TERRITORIES: list(territories), MsxKind.SELLERS: list(sellers),
        MsxKind.SOLUTION_ENGINEERS: list(engineers),
        MsxKind.CUSTOMERS: list(_customers(snapshot, team, crm_url)),
        MsxKind.OPPORTUNITIES: list(_opportunities(snapshot)),
        MsxKind.MILESTONES: list(_milestones(snapshot)),
        MsxKind.TASKS: list(_tasks(snapshot)),
    }


def unseen_ids(session: Session, by_kind: Mapping[MsxKind, list[MsxRecord]]) -> dict[MsxKind, set[str]]:
    """Stored MSX ids, not marked gone yet, that this import did not return: to check in MSX."""
    unseen: dict[MsxKind, set[str]] = {}
    for kind, records in by_kind.items():
        model = _MODELS[kind]
        stored = session.scalars(select(model.msx_id).where(
            model.msx_id.is_not(None), model.gone_from_msx_at.is_(None)))
        unseen[kind] = set(stored) - {r.msx_id for r in records}
    return unseen


def apply_snapshot(
    session: Session,
    snapshot: ImportSnapshot,
    *,
    crm_url: str = CRM_URL,
    still_in_msx: Mapping[MsxKind, Mapping[str, str | None]] | None = None,
) -> ImportSummary:
    """Upsert everything the snapshot holds in one call (so references resolve from one lookup
    cache); mark gone what the import did not return unless ``still_in_msx`` says MSX still has it
    (an account no longer mine, a closed opportunity). Per-kind counts. Does not commit."""
    by_kind = records_by_kind(snapshot, crm_url=crm_url)
    keep = still_in_msx or {}
    summary = ImportSummary()
    for kind, records in by_kind.items():
        ids = [r.msx_id for r in records]
        entry = summary.kind(kind.value)
        entry.seen, entry.created = len(ids), len(ids) - len(_stored_ids(session, kind, ids))
    counts = upsert_records(session, [r for records in by_kind.values() for r in records])
    summary.updated = counts.updated + _restate_opportunities(session, keep.get(MsxKind.OPPORTUNITIES, {}))
    for kind, records in by_kind.items():
        seen = {r.msx_id for r in records} | set(keep.get(kind, {}))
        summary.kind(kind.value).marked_gone = mark_gone(session, kind, seen)
    return summary
