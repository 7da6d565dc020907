"""Upserts of MSX records, keyed by MSX id — the write side of the MSX import.

:func:`upsert_records` takes typed records (``msx_types``, any mix of kinds) and for each finds the
local row by ``msx_id`` and creates it, updates the fields that differ, or leaves it alone
(``CREATED`` / ``UPDATED`` / ``UNCHANGED``). A second identical upsert changes nothing (not even
``updated_at``). It works in bulk: every table the batch touches or refers to is read in a few
``IN`` queries, new rows are written with one multi-row ``INSERT … RETURNING`` per table, account
teams with one insert / delete per link table; only changed rows are updated one by one.
The ``upsert_*`` functions do the same for one record and return :class:`Upserted` with the row.

References to other MSX records are MSX ids (``customer_msx_id``…); they must be stored already or
be in the same batch (kinds are written territories → people → customers → opportunities →
milestones → tasks), else :class:`NotFound`. Collections given as ``None`` are left untouched; a
list replaces them. Upserts never touch notes, topics or the customer's local ``account_notes``.
:func:`mark_gone` stamps ``gone_from_msx_at`` on rows MSX no longer returns (never deletes); an
upsert of a gone row clears the stamp.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, delete, insert, inspect, select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.limits import (
    CUSTOMER_MSX_URL_MAX,
    CUSTOMER_NAME_MAX,
    CUSTOMER_WEBSITE_MAX,
    MSX_RECORD_NAME_MAX,
    PERSON_NAME_MAX,
    TERRITORY_NAME_MAX,
)
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
    customer_sellers,
    customer_solution_engineers,
)
from callnotes.store.repo._common import apply_changes, in_chunks, link_url, required_text
from callnotes.store.repo.msx_types import (
    CustomerRecord,
    MilestoneRecord,
    MsxKind,
    MsxRecord,
    OpportunityRecord,
    SellerRecord,
    SolutionEngineerRecord,
    TaskRecord,
    TerritoryRecord,
    UpsertCounts,
    Upserted,
    UpsertResult,
    pod_name_for_territory,
)

__all__ = [
    "CustomerRecord", "MilestoneRecord", "MsxKind", "MsxRecord", "OpportunityRecord", "SellerRecord",
    "SolutionEngineerRecord", "TaskRecord", "TerritoryRecord", "UpsertCounts", "UpsertResult", "Upserted",
    "mark_gone", "pod_name_for_territory", "upsert_customer", "upsert_milestone", "upsert_opportunity",
    "upsert_records", "upsert_seller", "upsert_solution_engineer", "upsert_task", "upsert_territory",
]

_R = TypeVar("_R", bound=MsxRecord)
_MODELS: dict[MsxKind, type[Base]] = {
    MsxKind.TERRITORIES: Territory, MsxKind.SELLERS: Seller, MsxKind.SOLUTION_ENGINEERS: SolutionEngineer,
    MsxKind.CUSTOMERS: Customer, MsxKind.OPPORTUNITIES: Opportunity, MsxKind.MILESTONES: Milestone,
    MsxKind.TASKS: Task,
}


@dataclass(frozen=True)
class _Team:
    """An account-team list on a record, stored as a link table (``customer_id`` → ``column``)."""

    table: Table
    column: str
    model: Any
    kind: str


@dataclass(frozen=True)
class _Spec:
    """How one record type becomes a row: plain values, references (record attr → fk column), teams."""

    model: Any
    values: Callable[[Any, dict[str, int]], dict[str, Any]]  # (record, POD ids by name) → columns
    refs: dict[str, tuple[str, Any, str]] = field(default_factory=dict)
    teams: dict[str, _Team] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)  # None here = "leave as stored"


def _pod_name(record: TerritoryRecord) -> str | None:
    return record.pod_name or pod_name_for_territory(record.name)


def _linkable(value: str | None, field: str, max_length: int) -> str | None:
    """MSX's own website field, as a link when it can be one; else left out (MSX keeps it)."""
    try:
        return link_url(value, field, max_length)
    except ValidationError:
        return None


def _short(value: str | None, max_length: int) -> str | None:
    """A label MSX shows beside a record, cut to the column (it is for display only)."""
    return value[:max_length] if value else None


def _person(record: SellerRecord | SolutionEngineerRecord) -> dict[str, Any]:
    return {"name": required_text(record.name, "name", PERSON_NAME_MAX), "email": record.email}


_SPECS: dict[type, _Spec] = {
    TerritoryRecord: _Spec(Territory, lambda r, pods: {
        "name": required_text(r.name, "name", TERRITORY_NAME_MAX),
        "account_team_unit_name": r.account_team_unit_name, "pod_id": pods.get(_pod_name(r) or "")}),
    SellerRecord: _Spec(Seller, lambda r, _: {**_person(r), "seller_type": SellerType(r.seller_type)}),
    SolutionEngineerRecord: _Spec(
        SolutionEngineer, lambda r, _: {**_person(r), "specialty": SeSpecialty(r.specialty)}),
    CustomerRecord: _Spec(
        Customer, lambda r, _: {"name": required_text(r.name, "name", CUSTOMER_NAME_MAX), "tpid": r.tpid,
                                "website": _linkable(r.website, "website", CUSTOMER_WEBSITE_MAX),
                                "msx_url": link_url(r.msx_url, "msx_url", CUSTOMER_MSX_URL_MAX)},
        refs={"territory_msx_id": ("territory_id", Territory, "territory")},
        teams={"seller_msx_ids": _Team(customer_sellers, "seller_id", Seller, "seller"),
               "solution_engineer_msx_ids": _Team(customer_solution_engineers, "solution_engineer_id",
                                                  SolutionEngineer, "solution engineer")}),
    OpportunityRecord: _Spec(
        Opportunity, lambda r, _: {"name": required_text(r.name, "name", MSX_RECORD_NAME_MAX),
                                   "number": r.number, "state": r.state,
                                   "estimated_close_date": r.estimated_close_date,
                                   "estimated_value": r.estimated_value,
                                   "stage": _short(r.stage, 100),
                                   "owner_name": _short(r.owner_name, PERSON_NAME_MAX),
                                   "on_my_team": r.on_my_team},
        refs={"customer_msx_id": ("customer_id", Customer, "customer")},
        defaults={"on_my_team": False}),
    MilestoneRecord: _Spec(
        Milestone, lambda r, _: {
            "name": required_text(r.name, "name", MSX_RECORD_NAME_MAX), "number": r.number,
            "status": r.status, "status_label": r.status_label, "milestone_date": r.milestone_date,
            "monthly_use": r.monthly_use, "workload": r.workload, "on_my_team": r.on_my_team,
            "commitment": _short(r.commitment, 100)},
        refs={"opportunity_msx_id": ("opportunity_id", Opportunity, "opportunity"),
              "customer_msx_id": ("customer_id", Customer, "customer")},
        defaults={"on_my_team": False}),
    TaskRecord: _Spec(
        Task, lambda r, _: {"subject": required_text(r.subject, "subject", MSX_RECORD_NAME_MAX),
                            "category_code": r.category_code, "is_hok": r.is_hok,
                            "duration_minutes": r.duration_minutes, "state": r.state,
                            "task_date": r.task_date},
        refs={"milestone_msx_id": ("milestone_id", Milestone, "milestone")}),
}
_ORDER = list(_SPECS)  # dependency order: a kind only refers to kinds before it


@dataclass
class _Batch:
    """Rows and ids known in this batch, by model and MSX id (pre-loaded in a few queries)."""

    session: Session
    rows: dict[tuple[Any, str], Any] = field(default_factory=dict)
    ids: dict[tuple[Any, str], int] = field(default_factory=dict)
    pods: dict[str, int] = field(default_factory=dict)
    touched: set[Any] = field(default_factory=set)  # models whose rows / links changed outside the ORM

    def load(self, model: Any, msx_ids: Iterable[str]) -> None:
        wanted = [i for i in dict.fromkeys(msx_ids) if (model, i) not in self.ids]
        for chunk in in_chunks(wanted):
            for row in self.session.scalars(select(model).where(model.msx_id.in_(chunk))):
                self.rows[(model, row.msx_id)] = row
                self.ids[(model, row.msx_id)] = row.id

    def ref(self, model: Any, msx_id: str | None, kind: str) -> int | None:
        if msx_id is None:
            return None
        if (model, msx_id) not in self.ids:
            raise NotFound(kind, msx_id)
        return self.ids[(model, msx_id)]

    def load_pods(self, names: Iterable[str]) -> None:
        """POD ids by name; PODs not stored yet are created (they are keyed by name)."""
        wanted = sorted({n for n in names if n})
        for chunk in in_chunks(wanted):
            self.pods.update(self.session.execute(select(Pod.name, Pod.id).where(Pod.name.in_(chunk))).all())
        missing = [{"name": name} for name in wanted if name not in self.pods]
        if missing:
            self.pods.update(self.session.execute(insert(Pod).returning(Pod.name, Pod.id), missing).all())
            self.touched.add(Pod)


def _preload(batch: _Batch, records: list[Any]) -> None:
    wanted: dict[Any, list[str]] = {}
    for record in records:
        spec = _SPECS[type(record)]
        wanted.setdefault(spec.model, []).append((record.msx_id or "").strip())
        for attr, (_, model, _) in spec.refs.items():
            if getattr(record, attr) is not None:
                wanted.setdefault(model, []).append(getattr(record, attr))
        for attr, team in spec.teams.items():
            wanted.setdefault(team.model, []).extend(getattr(record, attr) or [])
    for model, ids in wanted.items():
        batch.load(model, ids)
    batch.load_pods(_pod_name(r) or "" for r in records if isinstance(r, TerritoryRecord))


@dataclass
class _Group:
    """The records of one kind: new rows to insert and team links to write."""

    spec: _Spec
    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # msx id → team attr → ids
    existing: set[int] = field(default_factory=set)  # ids of stored rows whose links are replaced


def _row_values(batch: _Batch, spec: _Spec, record: Any) -> tuple[dict[str, Any], dict[str, list[int]]]:
    values = spec.values(record, batch.pods)
    for attr, (column, model, kind) in spec.refs.items():
        values[column] = batch.ref(model, getattr(record, attr), kind)
    teams = {}
    for attr, team in spec.teams.items():
        members = getattr(record, attr)
        if members is not None:
            teams[attr] = [batch.ref(team.model, i, team.kind) or 0 for i in dict.fromkeys(members)]
    return values, teams


def _current_teams(batch: _Batch, group: _Group, owners: dict[int, str]) -> dict[str, dict[str, set[int]]]:
    """Stored team ids of the existing rows ``owners`` (id → msx id), by msx id and team attr."""
    current: dict[str, dict[str, set[int]]] = {}
    for attr, team in group.spec.teams.items():
        table = team.table
        for chunk in in_chunks(list(owners)):
            stmt = select(table.c.customer_id, table.c[team.column]).where(table.c.customer_id.in_(chunk))
            for owner, member in batch.session.execute(stmt):
                current.setdefault(owners[owner], {}).setdefault(attr, set()).add(member)
    return current


def _classify(batch: _Batch, group: _Group, records: list[Any]) -> list[UpsertResult]:
    """Update existing rows in place; collect new ones in ``group.new``; return each record's result."""
    spec, now, results = group.spec, utcnow(), []
    prepared = [(required_text(r.msx_id, "msx_id", 64), *_row_values(batch, spec, r)) for r in records]
    owners = {batch.ids[(spec.model, m)]: m for m, _, teams in prepared
              if teams and (spec.model, m) in batch.rows}
    current = _current_teams(batch, group, owners) if owners else {}
    for msx_id, values, teams in prepared:
        row = batch.rows.get((spec.model, msx_id))
        if row is None:
            values = {k: spec.defaults.get(k) if v is None else v for k, v in values.items()}
            seen = msx_id in group.new
            changed = seen and (group.new[msx_id] != values or any(
                group.teams[msx_id].get(a) != ids for a, ids in teams.items()))
            group.new[msx_id] = values
            group.teams.setdefault(msx_id, {}).update(teams)
            results.append(UpsertResult.UPDATED if changed else
                           UpsertResult.UNCHANGED if seen else UpsertResult.CREATED)
            continue
        values = {k: v for k, v in values.items() if not (v is None and k in spec.defaults)}
        changed = apply_changes(row, values)
        for attr, ids in teams.items():
            if set(ids) != current.get(msx_id, {}).get(attr, set()):
                current.setdefault(msx_id, {})[attr] = set(ids)
                group.teams.setdefault(msx_id, {})[attr] = ids
                group.existing.add(row.id)
                changed = True
        if row.gone_from_msx_at is not None:
            row.gone_from_msx_at, changed = None, True
        if changed:
            row.msx_synced_at = now
        results.append(UpsertResult.UPDATED if changed else UpsertResult.UNCHANGED)
    return results


def _write(batch: _Batch, group: _Group) -> None:
    """Insert the group's new rows (one multi-row statement) and replace the changed team links."""
    model, now = group.spec.model, utcnow()
    if group.new:
        rows = [{"msx_id": msx_id, "msx_synced_at": now, **values} for msx_id, values in group.new.items()]
        table = model.__table__
        inserted = batch.session.execute(insert(table).returning(table.c.msx_id, table.c.id), rows)
        batch.ids.update(((model, msx_id), row_id) for msx_id, row_id in inserted)
        batch.touched.add(model)
    for attr, team in group.spec.teams.items():
        owners = {batch.ids[(model, m)]: ids[attr] for m, ids in group.teams.items() if attr in ids}
        if not owners:
            continue
        for chunk in in_chunks([o for o in owners if o in group.existing]):
            batch.session.execute(delete(team.table).where(team.table.c.customer_id.in_(chunk)))
        links = [{"customer_id": owner, team.column: m} for owner, ids in owners.items() for m in ids]
        if links:
            batch.session.execute(insert(team.table), links)
        batch.touched.update({model, team.model})


def _expire_relationships(session: Session, models: set[Any]) -> None:
    """Rows and links were written outside the ORM: loaded collections may be stale, reload them."""
    related = {r.mapper.class_ for m in models for r in inspect(m).relationships} | models
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        keys = [r.key for r in state.mapper.relationships if r.key not in state.unloaded]
        if type(obj) in related and keys:
            session.expire(obj, keys)


def _upsert_many(session: Session, records: Iterable[MsxRecord]) -> list[tuple[UpsertResult, Any, int]]:
    """Upsert ``records``; per record (result, model, row id), in the order given."""
    records = list(records)
    for record in records:
        if type(record) not in _SPECS:
            raise ValidationError(f"not an MSX record: {type(record).__name__}", field="records")
    batch = _Batch(session)
    _preload(batch, records)
    outcome: dict[int, UpsertResult] = {}
    for kind in _ORDER:
        positions = [i for i, r in enumerate(records) if type(r) is kind]
        if positions:
            group = _Group(_SPECS[kind])
            results = _classify(batch, group, [records[i] for i in positions])
            outcome.update(zip(positions, results, strict=True))
            _write(batch, group)
    session.flush()
    if batch.touched:
        _expire_relationships(session, batch.touched)
    return [(outcome[i], _SPECS[type(r)].model, batch.ids[(_SPECS[type(r)].model, r.msx_id.strip())])
            for i, r in enumerate(records)]  # msx ids were checked (required_text) on the way


def upsert_records(session: Session, records: Iterable[MsxRecord]) -> UpsertCounts:
    """Upsert many records (any mix of kinds) in bulk; counts of created / updated / unchanged."""
    counts = UpsertCounts()
    for result, _, _ in _upsert_many(session, records):
        counts.add(result)
    return counts


def _one(kind: type[_R], doc: str) -> Callable[[Session, _R], Upserted]:
    """The single-record upsert of ``kind``: :func:`upsert_records` of one, answering the row."""

    def upsert(session: Session, record: _R) -> Upserted:
        if not isinstance(record, kind):
            raise ValidationError(f"expected a {kind.__name__}, got {type(record).__name__}", field="record")
        [(result, model, row_id)] = _upsert_many(session, [record])
        return Upserted(result, session.get(model, row_id))

    upsert.__doc__ = doc
    return upsert


upsert_territory = _one(TerritoryRecord, "Territory by ``territoryid``; its POD (keyed by name) on demand.")
upsert_seller = _one(SellerRecord, "Seller by ``systemuserid``.")
upsert_solution_engineer = _one(SolutionEngineerRecord, "Solution engineer by ``systemuserid``.")
upsert_customer = _one(CustomerRecord, "Customer by ``accountid``; team replaced when lists are given.")
upsert_opportunity = _one(OpportunityRecord, "Opportunity by ``opportunityid``.")
upsert_milestone = _one(MilestoneRecord, "Milestone by MSX id; ``on_my_team`` None keeps the stored flag.")
upsert_task = _one(TaskRecord, "Task by ``activityid``.")


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
    for chunk in in_chunks(gone):
        for record in session.scalars(select(model).where(model.id.in_(chunk))):
            record.gone_from_msx_at = now
    session.flush()
    return len(gone)
