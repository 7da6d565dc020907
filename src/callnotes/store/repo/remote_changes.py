"""Changes MSX reports one record at a time (webhooks), applied to the mirror by the import's rules.

`apply_msx_change` takes the fields a change names (the store names of `CustomerRecord`,
`OpportunityRecord`, `MilestoneRecord`, `TaskRecord`) and upserts the record with them over what the
mirror holds, through `upsert_records` (the same limits, references and "notes are never touched").
A record the mirror does not hold is left alone unless ``create`` and its parent is mirrored (a task
under one of our milestones…). `mark_msx_deleted` marks a record gone (never deletes). Account-team
rows change the customer's sellers / solution engineers. The caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ValidationError
from callnotes.store.models import Customer, Milestone, Opportunity, Seller, SolutionEngineer, Task
from callnotes.store.repo.msx_records import upsert_records
from callnotes.store.repo.msx_types import (
    CustomerRecord,
    MilestoneRecord,
    MsxKind,
    OpportunityRecord,
    SellerRecord,
    SolutionEngineerRecord,
    TaskRecord,
)


class ChangeOutcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    NOT_MIRRORED = "not_mirrored"


_RECORDS: dict[MsxKind, Any] = {
    MsxKind.CUSTOMERS: CustomerRecord, MsxKind.OPPORTUNITIES: OpportunityRecord,
    MsxKind.MILESTONES: MilestoneRecord, MsxKind.TASKS: TaskRecord,
}
_MODELS: dict[MsxKind, Any] = {
    MsxKind.CUSTOMERS: Customer, MsxKind.OPPORTUNITIES: Opportunity, MsxKind.MILESTONES: Milestone,
    MsxKind.TASKS: Task,
}
#: Reference fields of each record: (record field, model relationship, referenced model).
_REFERENCES: dict[MsxKind, tuple[tuple[str, str, Any], ...]] = {
    MsxKind.CUSTOMERS: (),
    MsxKind.OPPORTUNITIES: (("customer_msx_id", "customer", Customer),),
    MsxKind.MILESTONES: (("opportunity_msx_id", "opportunity", Opportunity),
                         ("customer_msx_id", "customer", Customer)),
    MsxKind.TASKS: (("milestone_msx_id", "milestone", Milestone),),
}
#: A new record is mirrored only under a parent the mirror holds (customers are never created here).
_PARENTS: dict[MsxKind, tuple[str, ...]] = {
    MsxKind.OPPORTUNITIES: ("customer_msx_id",),
    MsxKind.MILESTONES: ("customer_msx_id", "opportunity_msx_id"),
    MsxKind.TASKS: ("milestone_msx_id",),
}
#: Fields the import sets that a change never carries (kept as stored).
_KEEP = {"seller_msx_ids", "solution_engineer_msx_ids", "territory_msx_id", "msx_url", "on_my_team"}


def _by_msx_id(session: Session, model: Any, msx_id: str | None) -> Any:
    if not msx_id:
        return None
    return session.scalars(select(model).where(model.msx_id == msx_id)).first()


def _stored_values(kind: MsxKind, row: Any) -> dict[str, Any]:
    """The record fields of a mirrored row (references as the MSX ids of the rows they point at)."""
    names = {f.name for f in fields(_RECORDS[kind])} - _KEEP - {ref for ref, _, _ in _REFERENCES[kind]}
    values = {name: getattr(row, name) for name in names}
    for field, relation, _ in _REFERENCES[kind]:
        related = getattr(row, relation)
        values[field] = related.msx_id if related is not None else None
    return values


def _known_references(session: Session, kind: MsxKind, changes: dict[str, Any]) -> dict[str, Any]:
    """Drop reference changes to records the mirror does not hold (the stored reference stays)."""
    for field, _, model in _REFERENCES[kind]:
        value = changes.get(field)
        if value is not None and _by_msx_id(session, model, value) is None:
            del changes[field]
    return changes


def apply_msx_change(session: Session, kind: MsxKind, msx_id: str, changes: Mapping[str, Any], *,
                     create: bool = False) -> ChangeOutcome:
    """Upsert ``msx_id`` of ``kind`` with ``changes`` over what is stored (see the module docstring)."""
    if kind not in _RECORDS:
        raise ValidationError(f"changes to {kind.value} are not applied one by one", field="kind")
    allowed = {f.name for f in fields(_RECORDS[kind])} - {"msx_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"not a field of {kind.value}: {', '.join(sorted(unknown))}", field="changes")
    row = _by_msx_id(session, _MODELS[kind], msx_id)
    wanted = _known_references(session, kind, dict(changes))
    if row is None:
        parents = _PARENTS.get(kind, ())
        if not create or not parents or not any(wanted.get(p) for p in parents):
            return ChangeOutcome.NOT_MIRRORED
    values = {**(_stored_values(kind, row) if row is not None else {}), **wanted, "msx_id": msx_id}
    try:
        record = _RECORDS[kind](**values)
    except TypeError:  # a new record without its name: not enough to mirror it
        return ChangeOutcome.NOT_MIRRORED
    counts = upsert_records(session, [record])
    return ChangeOutcome.UNCHANGED if counts.unchanged else ChangeOutcome.APPLIED


def mark_msx_deleted(session: Session, kind: MsxKind, msx_id: str) -> ChangeOutcome:
    """MSX deleted the record: the mirror marks it gone (notes keep their links)."""
    row = _by_msx_id(session, _MODELS[kind], msx_id) if kind in _MODELS else None
    if row is None:
        return ChangeOutcome.NOT_MIRRORED
    if row.gone_from_msx_at is not None:
        return ChangeOutcome.UNCHANGED
    row.gone_from_msx_at = utcnow()
    return ChangeOutcome.APPLIED


def add_account_team_member(session: Session, account_msx_id: str,
                            person: SellerRecord | SolutionEngineerRecord) -> ChangeOutcome:
    """``person`` is on the account's team (as a seller or an SE); created in the mirror if new."""
    customer = _by_msx_id(session, Customer, account_msx_id)
    if customer is None:
        return ChangeOutcome.NOT_MIRRORED
    upsert_records(session, [person])
    if isinstance(person, SellerRecord):
        seller = _by_msx_id(session, Seller, person.msx_id)
        if seller in customer.sellers:
            return ChangeOutcome.UNCHANGED
        customer.sellers.append(seller)
    else:
        engineer = _by_msx_id(session, SolutionEngineer, person.msx_id)
        if engineer in customer.solution_engineers:
            return ChangeOutcome.UNCHANGED
        customer.solution_engineers.append(engineer)
    return ChangeOutcome.APPLIED


def remove_account_team_member(session: Session, account_msx_id: str, user_msx_id: str) -> ChangeOutcome:
    """The user is no longer on the account's team (the person stays in the mirror)."""
    customer = _by_msx_id(session, Customer, account_msx_id)
    if customer is None:
        return ChangeOutcome.NOT_MIRRORED
    sellers = [s for s in customer.sellers if s.msx_id != user_msx_id]
    engineers = [e for e in customer.solution_engineers if e.msx_id != user_msx_id]
    if len(sellers) == len(customer.sellers) and len(engineers) == len(customer.solution_engineers):
        return ChangeOutcome.UNCHANGED
    customer.sellers, customer.solution_engineers = sellers, engineers
    return ChangeOutcome.APPLIED
