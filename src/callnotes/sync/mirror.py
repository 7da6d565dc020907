"""Writes an `ImportSnapshot` into the store: upsert by MSX id, mark what MSX no longer returns.

Order follows the store's references: territories → sellers / SEs → customers → opportunities →
milestones → tasks. Notes are never touched (the store's upserts guarantee it). The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.msx.import_plan import ImportSnapshot
from callnotes.msx.links import account_url
from callnotes.msx.records import AccountTeamMember
from callnotes.msx.schema import CRM_URL, EntitySet
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
from callnotes.store.repo.msx_refresh import ME, Mark, set_team_flags
from callnotes.sync.summary import ImportSummary

#: One store record of any MSX kind (the store's upsert_records takes any mix).
MsxRecord = (TerritoryRecord | SellerRecord | SolutionEngineerRecord | CustomerRecord | OpportunityRecord
             | MilestoneRecord | TaskRecord)

UNNAMED = "(no name in MSX)"


@dataclass(frozen=True)
class Known:
    """MSX ids a record may refer to: those the snapshot holds (an import) or, for a refresh, those
    plus the mirror's. ``team_accounts``: accounts whose whole team the snapshot holds (None: all)."""

    territories: Set[str]
    accounts: Set[str]
    opportunities: Set[str]
    milestones: Set[str]
    team_accounts: Set[str] | None = None

    @classmethod
    def of(cls, snapshot: ImportSnapshot) -> Known:
        return cls(set(snapshot.territories), set(snapshot.accounts), set(snapshot.opportunities),
                   set(snapshot.milestones))


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


def _team_list(ids: dict[str, list[str]], account_id: str, known: Known) -> list[str] | None:
    """The account's sellers (or SEs) when the snapshot holds its team; None leaves them as stored."""
    if known.team_accounts is not None and account_id not in known.team_accounts:
        return None
    return sorted(set(ids.get(account_id, [])))


def _customers(snapshot: ImportSnapshot, team: list[AccountTeamMember], crm_url: str,
               known: Known) -> list[CustomerRecord]:
    sellers: dict[str, list[str]] = {}
    engineers: dict[str, list[str]] = {}
    for member in team:
        if member.seller_type is not None:
            sellers.setdefault(member.account_id, []).append(member.user_id)
        if member.se_specialty is not None:
            engineers.setdefault(member.account_id, []).append(member.user_id)
    return [
        CustomerRecord(
            msx_id=a.id, name=a.name, tpid=a.tpid,
            territory_msx_id=a.territory_id if a.territory_id in known.territories else None,
            msx_url=account_url(a.id, crm_url=crm_url),
            seller_msx_ids=_team_list(sellers, a.id, known),
            solution_engineer_msx_ids=_team_list(engineers, a.id, known),
        )
        for a in sorted(snapshot.accounts.values(), key=lambda a: a.id)
    ]


def _opportunities(snapshot: ImportSnapshot, known: Known) -> list[OpportunityRecord]:
    return [
        OpportunityRecord(msx_id=o.id, name=o.name, number=o.number, state="Open",
                          estimated_close_date=o.estimated_close_date, estimated_value=o.estimated_value,
                          stage=o.stage, owner_name=o.owner_name,
                          on_my_team=o.id in snapshot.my_opportunity_teams,
                          customer_msx_id=o.account_id if o.account_id in known.accounts else None)
        for o in sorted(snapshot.opportunities.values(), key=lambda o: o.id)
    ]


def _milestones(snapshot: ImportSnapshot, known: Known) -> list[MilestoneRecord]:
    return [
        MilestoneRecord(
            msx_id=m.id, name=m.name, number=m.number, status=m.status, status_label=m.status_label,
            milestone_date=m.milestone_date, monthly_use=m.monthly_use, workload=m.workload,
            commitment=m.commitment,
            on_my_team=m.id in snapshot.my_milestone_teams,
            opportunity_msx_id=m.opportunity_id if m.opportunity_id in known.opportunities else None,
            customer_msx_id=m.account_id if m.account_id in known.accounts else None,
        )
        for m in sorted(snapshot.milestones.values(), key=lambda m: m.id)
    ]


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None


def _tasks(snapshot: ImportSnapshot, known: Known) -> list[TaskRecord]:
    """Tasks regarding the imported milestones: category code, HoK flag (`HokCategory`), state label."""
    return [
        TaskRecord(msx_id=t.id, subject=t.subject.strip() or UNNAMED, category_code=t.category_code,
                   is_hok=t.is_hok, duration_minutes=t.duration_minutes, state=t.state_label,
                   task_date=_day(t.scheduled_end or t.created_on),
                   milestone_msx_id=t.regarding_id if t.regarding_id in known.milestones else None)
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


def records_by_kind(snapshot: ImportSnapshot, *, crm_url: str = CRM_URL,
                    known: Known | None = None) -> dict[MsxKind, list[MsxRecord]]:
    """The store records of a snapshot, by kind, in the order references need; references resolve
    against ``known`` (default: the snapshot's own records)."""
    known = known or Known.of(snapshot)
    team = snapshot.my_team()
    sellers, engineers = _people(snapshot, team)
    territories = [TerritoryRecord(t.id, t.name, t.unit_name, t.pod)
                   for t in sorted(snapshot.territories.values(), key=lambda t: t.id)]
    return {
        MsxKind.TERRITORIES: list(territories), MsxKind.SELLERS: list(sellers),
        MsxKind.SOLUTION_ENGINEERS: list(engineers),
        MsxKind.CUSTOMERS: list(_customers(snapshot, team, crm_url, known)),
        MsxKind.OPPORTUNITIES: list(_opportunities(snapshot, known)),
        MsxKind.MILESTONES: list(_milestones(snapshot, known)),
        MsxKind.TASKS: list(_tasks(snapshot, known)),
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


def apply_changes(
    session: Session,
    snapshot: ImportSnapshot,
    *,
    known: Known,
    crm_url: str = CRM_URL,
    closed: Mapping[str, str | None] | None = None,
    gone: Mapping[MsxKind, set[str]] | None = None,
    my_milestone_teams: set[str] | None = None,
    my_opportunity_teams: set[str] | None = None,
) -> ImportSummary:
    """A refresh's changes, through the import's own records and upserts: the changed records
    (references resolve against ``known``), closed opportunities restated, ``gone`` ids marked (never
    deleted), "on my team" flags set from ``my_milestone_teams`` (and deal-team flags from
    ``my_opportunity_teams``) when given. Does not commit."""
    by_kind = records_by_kind(snapshot, crm_url=crm_url, known=known)
    summary = ImportSummary()
    for kind, records in by_kind.items():
        ids = [r.msx_id for r in records]
        entry = summary.kind(kind.value)
        entry.seen, entry.created = len(ids), len(ids) - len(_stored_ids(session, kind, ids))
    records = [r for records in by_kind.values() for r in records]
    summary.updated = upsert_records(session, records).updated if records else 0
    summary.updated += _restate_opportunities(session, closed or {})
    for kind, gone_ids in (gone or {}).items():
        if gone_ids:
            summary.kind(kind.value).marked_gone = mark_gone(session, kind, (), among=gone_ids)
    if my_milestone_teams is not None:
        summary.updated += set_team_flags(session, my_milestone_teams, my_opportunity_teams)
    return summary


def _newest(records: Iterable[Any]) -> datetime | None:
    moments = [r.modified_on for r in records if r.modified_on is not None]
    return max(moments) if moments else None


def snapshot_watermarks(snapshot: ImportSnapshot) -> dict[str, Mark]:
    """What an import read, as the refresh's starting point: the greatest server ``modifiedon`` per
    table, the account-team rows it read, and whose mirror it is (the signed-in user)."""
    marks: dict[str, Mark] = {
        EntitySet.ACCOUNTS: Mark(_newest(snapshot.accounts.values())),
        EntitySet.OPPORTUNITIES: Mark(_newest(snapshot.opportunities.values())),
        EntitySet.MILESTONES: Mark(_newest(snapshot.milestones.values())),
        EntitySet.TASKS: Mark(_newest(snapshot.tasks.values())),
        EntitySet.ACCOUNT_TEAMS: Mark(_newest(snapshot.team.values()), row_count=snapshot.team_rows),
    }
    if snapshot.me is not None:
        marks[ME] = Mark(value=snapshot.me.user_id)
    return {str(name): mark for name, mark in marks.items()}  # EntitySet values as plain text
