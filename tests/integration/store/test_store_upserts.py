"""MSX upserts by MSX id: create / update / unchanged, references, gone marking, local data untouched."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from callnotes.store import (
    Customer,
    CustomerRecord,
    CustomerUpdate,
    Milestone,
    MilestoneRecord,
    MsxKind,
    NoteInput,
    NotFound,
    OpportunityRecord,
    Pod,
    Seller,
    SellerRecord,
    SellerType,
    SeSpecialty,
    SolutionEngineerRecord,
    TaskRecord,
    TerritoryRecord,
    UpsertResult,
    ValidationError,
    create_note,
    mark_gone,
    pod_name_for_territory,
    update_customer,
    upsert_customer,
    upsert_milestone,
    upsert_records,
    upsert_seller,
    upsert_territory,
)

TERRITORY = "11111111-0000-0000-0000-000000000001"
SELLER = "22222222-0000-0000-0000-000000000001"
SE = "22222222-0000-0000-0000-000000000002"
ACCOUNT = "33333333-0000-0000-0000-000000000001"
OPP = "44444444-0000-0000-0000-000000000001"
MILESTONE = "55555555-0000-0000-0000-000000000001"
TASK = "66666666-0000-0000-0000-000000000001"


def _batch() -> list:
    return [
        TerritoryRecord(TERRITORY, "East.SMECC.MAA.0601", "MAA 0601"),
        SellerRecord(SELLER, "Sam Seller", SellerType.GROWTH, "sam@example.com"),
        SolutionEngineerRecord(SE, "Dee Data", SeSpecialty.DATA),
        CustomerRecord(
            ACCOUNT,
            "Contoso",
            tpid="1234",
            territory_msx_id=TERRITORY,
            seller_msx_ids=[SELLER],
            solution_engineer_msx_ids=[SE],
        ),
        OpportunityRecord(OPP, "Contoso AI", number="7-ABC", customer_msx_id=ACCOUNT),
        MilestoneRecord(
            MILESTONE,
            "Deploy AOAI",
            status=861980000,
            status_label="On Track",
            milestone_date=date(2026, 12, 1),
            monthly_use=1500.5,
            workload="AI",
            on_my_team=True,
            opportunity_msx_id=OPP,
            customer_msx_id=ACCOUNT,
        ),
        TaskRecord(
            TASK, "ADS", category_code=861980004, is_hok=True, duration_minutes=60, milestone_msx_id=MILESTONE
        ),
    ]


def test_pod_name_derivation() -> None:
    assert pod_name_for_territory("East.SMECC.MAA.0601") == "East POD 06"
    assert pod_name_for_territory("West.ENT.X.1203") == "West POD 12"
    assert pod_name_for_territory("nonsense") is None
    assert pod_name_for_territory("East.SMECC.MAA.ab01") is None


def test_first_upsert_creates_everything_with_links(session: Session) -> None:
    counts = upsert_records(session, _batch())
    assert (counts.created, counts.updated, counts.unchanged) == (7, 0, 0)
    customer = session.scalar(select(Customer).where(Customer.msx_id == ACCOUNT))
    assert customer.territory.name == "East.SMECC.MAA.0601"
    assert customer.territory.pod.name == "East POD 06"
    assert [s.name for s in customer.sellers] == ["Sam Seller"]
    assert [s.name for s in customer.solution_engineers] == ["Dee Data"]
    milestone = session.scalar(select(Milestone).where(Milestone.msx_id == MILESTONE))
    assert milestone.opportunity.name == "Contoso AI" and milestone.customer is customer
    assert milestone.tasks[0].is_hok and milestone.tasks[0].category_code == 861980004


def test_second_identical_upsert_changes_nothing(session: Session) -> None:
    upsert_records(session, _batch())
    session.commit()
    stamps = {c.id: (c.updated_at, c.msx_synced_at) for c in session.scalars(select(Customer))}
    counts = upsert_records(session, _batch())
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 7)
    assert not session.dirty and not session.new
    session.commit()
    session.expire_all()
    assert {c.id: (c.updated_at, c.msx_synced_at) for c in session.scalars(select(Customer))} == stamps
    assert session.scalar(select(func.count()).select_from(Pod)) == 1


def test_changed_field_is_updated(session: Session) -> None:
    upsert_records(session, _batch())
    outcome = upsert_seller(session, SellerRecord(SELLER, "Sam Renamed", SellerType.ACQUISITION))
    assert outcome.result is UpsertResult.UPDATED
    assert (outcome.record.name, outcome.record.seller_type, outcome.record.email) == (
        "Sam Renamed",
        SellerType.ACQUISITION,
        None,
    )


def test_team_list_none_leaves_team_and_list_replaces(session: Session) -> None:
    upsert_records(session, _batch())
    kept = upsert_customer(
        session, CustomerRecord(ACCOUNT, "Contoso", tpid="1234", territory_msx_id=TERRITORY)
    )
    assert kept.result is UpsertResult.UNCHANGED and len(kept.record.sellers) == 1
    cleared = upsert_customer(
        session,
        CustomerRecord(ACCOUNT, "Contoso", tpid="1234", territory_msx_id=TERRITORY, seller_msx_ids=[]),
    )
    assert cleared.result is UpsertResult.UPDATED and cleared.record.sellers == []


def test_upsert_never_touches_local_notes(session: Session) -> None:
    upsert_records(session, _batch())
    customer = session.scalar(select(Customer).where(Customer.msx_id == ACCOUNT))
    update_customer(session, customer.id, CustomerUpdate(account_notes="Prefers Teams calls"))
    note = create_note(session, NoteInput(body="call", call_date=date(2026, 1, 1), customer_id=customer.id))
    upsert_customer(session, CustomerRecord(ACCOUNT, "Contoso Ltd", tpid="1234", territory_msx_id=TERRITORY))
    assert customer.account_notes == "Prefers Teams calls"
    assert note.customer_id == customer.id and note.body == "call"


def test_unknown_reference_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        upsert_customer(session, CustomerRecord(ACCOUNT, "Contoso", territory_msx_id="nope"))
    with pytest.raises(NotFound):
        upsert_milestone(session, MilestoneRecord(MILESTONE, "M", customer_msx_id="nope"))


def test_on_my_team_none_keeps_stored_value(session: Session) -> None:
    upsert_records(session, _batch())
    stored = next(r for r in _batch() if isinstance(r, MilestoneRecord))
    outcome = upsert_milestone(session, dataclasses.replace(stored, on_my_team=None))
    assert outcome.result is UpsertResult.UNCHANGED and outcome.record.on_my_team is True


def test_mark_gone_marks_never_deletes_and_upsert_revives(session: Session) -> None:
    upsert_records(session, _batch())
    other = upsert_customer(
        session, CustomerRecord("33333333-0000-0000-0000-000000000002", "Fabrikam")
    ).record
    note = create_note(session, NoteInput(body="keep", call_date=date(2026, 1, 1), customer_id=other.id))
    assert mark_gone(session, MsxKind.CUSTOMERS, seen_ids=[ACCOUNT]) == 1
    assert other.gone_from_msx_at is not None
    first_stamp = other.gone_from_msx_at
    assert mark_gone(session, "customers", seen_ids=[ACCOUNT]) == 0  # already marked, stamp kept
    assert other.gone_from_msx_at == first_stamp
    assert session.get(Customer, other.id) is not None and note.customer_id == other.id
    revived = upsert_customer(session, CustomerRecord("33333333-0000-0000-0000-000000000002", "Fabrikam"))
    assert revived.result is UpsertResult.UPDATED and revived.record.gone_from_msx_at is None


def test_mark_gone_respects_scope(session: Session) -> None:
    upsert_records(session, _batch())
    assert mark_gone(session, MsxKind.MILESTONES, seen_ids=[], among=["someone-else"]) == 0
    assert mark_gone(session, MsxKind.MILESTONES, seen_ids=[], among=[MILESTONE]) == 1


def test_territory_without_pod_shape(session: Session) -> None:
    outcome = upsert_territory(session, TerritoryRecord("t-2", "Odd territory"))
    assert outcome.result is UpsertResult.CREATED and outcome.record.pod_id is None


def test_read_side_lists_milestones_opportunities_tasks(session: Session) -> None:
    from callnotes.store import list_milestones, list_opportunities, list_tasks

    upsert_records(
        session,
        [
            *_batch(),
            MilestoneRecord("m-2", "Undated", customer_msx_id=ACCOUNT),
            MilestoneRecord("m-3", "Early", milestone_date=date(2026, 6, 1), on_my_team=False),
        ],
    )
    # the one ordering: on my team first, then by date (undated last), then name
    assert [m.name for m in list_milestones(session)] == ["Deploy AOAI", "Early", "Undated"]
    assert [m.name for m in list_milestones(session, on_my_team=True)] == ["Deploy AOAI"]
    assert [
        m.name for m in list_milestones(session, due_from=date(2026, 11, 1), due_to=date(2026, 12, 31))
    ] == ["Deploy AOAI"]
    customer = session.scalar(select(Customer).where(Customer.msx_id == ACCOUNT))
    assert [m.name for m in list_milestones(session, customer_id=customer.id)] == ["Deploy AOAI", "Undated"]
    mark_gone(session, MsxKind.MILESTONES, seen_ids=[MILESTONE, "m-2"])
    assert [m.name for m in list_milestones(session)] == ["Deploy AOAI", "Undated"]
    assert len(list_milestones(session, include_gone=True)) == 3
    assert [o.name for o in list_opportunities(session, customer_id=customer.id)] == ["Contoso AI"]
    milestone = session.scalar(select(Milestone).where(Milestone.msx_id == MILESTONE))
    assert [t.subject for t in list_tasks(session, milestone_id=milestone.id)] == ["ADS"]


def test_local_create_with_taken_msx_id_is_a_conflict(session: Session) -> None:
    from callnotes.store import Conflict, CustomerInput, PersonInput, create_customer, create_seller

    upsert_records(session, _batch())
    with pytest.raises(Conflict):
        create_customer(session, CustomerInput(name="Dup", msx_id=ACCOUNT))
    with pytest.raises(Conflict):
        create_seller(session, PersonInput(name="Dup", role="growth", msx_id=SELLER))



@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session's engine runs inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def _accounts(count: int, sellers: list[str]) -> list:
    return [CustomerRecord(f"acc-{i}", f"Account {i}", territory_msx_id=TERRITORY,
                           seller_msx_ids=[sellers[i % len(sellers)]]) for i in range(count)]


def test_bulk_upsert_uses_a_few_statements_not_one_per_row(session: Session) -> None:
    """200 accounts with teams, opportunities and milestones: statements stay flat, not per row."""
    records = [*_batch()[:3], *_accounts(200, [SELLER]),
               *[OpportunityRecord(f"opp-{i}", f"O {i}", customer_msx_id=f"acc-{i}") for i in range(200)],
               *[MilestoneRecord(f"ms-{i}", f"M {i}", opportunity_msx_id=f"opp-{i}",
                                 customer_msx_id=f"acc-{i}") for i in range(200)]]
    with _statements(session) as first:
        counts = upsert_records(session, records)
    with _statements(session) as second:
        again = upsert_records(session, records)
    assert (counts.created, again.unchanged) == (603, 603)
    assert len(first) < 40, first  # a SELECT and an INSERT per table, the links, the POD
    assert len(second) < 15 and _writes(second) == []
    customer = session.scalar(select(Customer).where(Customer.msx_id == "acc-7"))
    assert [s.msx_id for s in customer.sellers] == [SELLER] and len(customer.opportunities) == 1
    assert customer.territory.pod.name == "East POD 06" and customer.msx_synced_at is not None


def test_bulk_update_of_mixed_batch(session: Session) -> None:
    """Existing rows update in place (teams replaced, gone cleared), new rows are created, in one call."""
    upsert_records(session, [*_batch(), SellerRecord("s-2", "Other Seller", SellerType.ACQUISITION)])
    customer = session.scalar(select(Customer).where(Customer.msx_id == ACCOUNT))
    assert [s.msx_id for s in customer.sellers] == [SELLER]  # collection loaded before the bulk write
    mark_gone(session, MsxKind.CUSTOMERS, seen_ids=[])
    customer.account_notes = "local only"
    session.flush()
    counts = upsert_records(session, [
        CustomerRecord(ACCOUNT, "Contoso", tpid="1234", territory_msx_id=TERRITORY, seller_msx_ids=["s-2"],
                       solution_engineer_msx_ids=[SE]),
        CustomerRecord("new-1", "Newco", seller_msx_ids=[SELLER, "s-2", SELLER]),
        OpportunityRecord(OPP, "Contoso AI", number="7-ABC", customer_msx_id="new-1"),
    ])
    assert (counts.created, counts.updated, counts.unchanged) == (1, 2, 0)
    assert [s.msx_id for s in customer.sellers] == ["s-2"]  # reloaded, not stale
    assert customer.gone_from_msx_at is None and customer.account_notes == "local only"
    newco = session.scalar(select(Customer).where(Customer.msx_id == "new-1"))
    assert sorted(s.msx_id for s in newco.sellers) == sorted([SELLER, "s-2"])
    assert [o.msx_id for o in newco.opportunities] == [OPP]


def test_same_msx_id_twice_in_one_batch(session: Session) -> None:
    counts = upsert_records(session, [SellerRecord("s-9", "First", SellerType.GROWTH),
                                      SellerRecord("s-9", "First", SellerType.GROWTH),
                                      SellerRecord("s-9", "Second", SellerType.GROWTH)])
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 1)
    assert [s.name for s in session.scalars(select(Seller).where(Seller.msx_id == "s-9"))] == ["Second"]


def test_bad_record_in_a_batch_is_refused_before_its_kind_is_written(session: Session) -> None:
    upsert_records(session, _batch())
    session.commit()
    with pytest.raises(NotFound):
        upsert_records(session, [CustomerRecord("c-ok", "Fine"),
                                 CustomerRecord("c-bad", "Broken", seller_msx_ids=["nobody"])])
    session.rollback()
    with pytest.raises(ValidationError):
        upsert_records(session, [SellerRecord("s-blank", "   ", SellerType.GROWTH)])
    session.rollback()
    with pytest.raises(ValidationError):
        upsert_records(session, [object()])
    with pytest.raises(ValidationError):
        upsert_customer(session, SellerRecord("s-x", "Not a customer", SellerType.GROWTH))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_msx_id_with_spaces_matches_the_stored_row(session: Session) -> None:
    upsert_records(session, [SellerRecord("s-7", "Seven", SellerType.GROWTH)])
    again = upsert_records(session, [SellerRecord(" s-7 ", "Seven", SellerType.GROWTH)])
    assert (again.created, again.unchanged) == (0, 1)
