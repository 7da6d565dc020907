"""A seller's week, second part, on SQLite and PostgreSQL: the customer page's questions (notes a page at
a time, open milestones with overdue flags, open opportunities, the account team of my kind), the
milestone tracker (filters that combine, closed ones hidden, sorting, paging, favourites, counts) and
HoK coverage (engagements without a HoK task → drafts → the outbox in each write-back mode)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.domain import FiscalQuarter, HokCategory, SellerType, SeSpecialty, WritebackMode
from callnotes.store import NotFound, ValidationError
from callnotes.store.models import (
    Customer,
    Milestone,
    MilestoneFavourite,
    Opportunity,
    OutboxItem,
    OutboxState,
    Seller,
    SolutionEngineer,
    Task,
)
from callnotes.store.repo.customer_page import customer_notes, customer_page, my_msx_user_id
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.hok_coverage import DEFAULT_CATEGORY, approve_drafts, hok_coverage
from callnotes.store.repo.milestone_tracker import (
    TrackerFilters,
    parse_filters,
    set_favourite,
    track_milestones,
)
from callnotes.store.repo.milestones import is_overdue, list_milestones
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.repo.outbox import WritebackOff

TODAY = date(2026, 11, 20)  # FY27 Q2 (October to December 2026)
_GUID = "7a1c0000-0000-4000-8000-{:012d}"


def _milestone(
    session: Session,
    customer: Customer,
    name: str,
    when: date | None,
    status: str = "On Track",
    **fields: object,
) -> Milestone:
    milestone = Milestone(
        name=name,
        customer_id=customer.id,
        milestone_date=when,
        status_label=status,
        msx_id=str(uuid.uuid4()),
        **fields,
    )
    session.add(milestone)
    session.flush()
    return milestone


def test_customer_page_notes_a_page_at_a_time_newest_first(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    for n in range(45):
        create_note(
            session,
            NoteInput(
                body="", title=f"Call {n}", call_date=TODAY - timedelta(days=n), customer_id=customer.id
            ),
        )
    page = customer_page(session, customer.id, today=TODAY)
    assert page.note_count == 45
    assert [n.title for n in page.notes.notes] == [f"Call {n}" for n in range(20)]
    assert page.notes.has_more and page.notes.next_offset == 20
    last = customer_notes(session, customer.id, offset=40)
    assert [n.title for n in last.notes] == [f"Call {n}" for n in range(40, 45)] and not last.has_more
    assert customer_notes(session, customer.id, offset=500).notes == []
    with pytest.raises(NotFound):
        customer_page(session, 999_999, today=TODAY)


def test_customer_page_lists_open_milestones_with_overdue_flags_and_open_opportunities(
    session: Session,
) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    late = _milestone(session, customer, "Late but On Track", date(2026, 7, 29))
    _milestone(session, customer, "Done", date(2026, 7, 1), status="Completed")
    _milestone(session, customer, "Lost", date(2026, 12, 1), status="Lost to Competitor")
    soon = _milestone(session, customer, "Soon", date(2026, 12, 1), status="At Risk")
    session.add_all(
        [
            Opportunity(
                name="Open deal",
                customer_id=customer.id,
                state="Open",
                estimated_value=250_000.0,
                stage="Propose",
                estimated_close_date=date(2027, 1, 31),
                owner_name="Olga Owner",
            ),
            Opportunity(name="Won deal", customer_id=customer.id, state="Won"),
        ]
    )
    session.flush()
    page = customer_page(session, customer.id, today=TODAY)
    assert [m.name for m in page.milestones] == ["Late but On Track", "Soon"]  # closed ones hidden
    assert page.overdue_ids == {late.id}
    assert is_overdue(late, TODAY) and not is_overdue(soon, TODAY)
    assert [(o.name, o.stage, o.estimated_value) for o in page.opportunities] == [
        ("Open deal", "Propose", 250_000.0)
    ]


def test_account_team_collapses_to_my_kind(session: Session) -> None:
    me_se = SolutionEngineer(name="Me Data", specialty=SeSpecialty.DATA, msx_id="me")
    me_seller = Seller(name="Me Seller", seller_type=SellerType.GROWTH, msx_id="me")
    growth = Seller(name="Gina Growth", seller_type=SellerType.GROWTH, msx_id="g")
    acq = Seller(name="Ari Acq", seller_type=SellerType.ACQUISITION, msx_id="a")
    data = SolutionEngineer(name="Dana Data", specialty=SeSpecialty.DATA, msx_id="d")
    infra = SolutionEngineer(name="Ian Infra", specialty=SeSpecialty.INFRA, msx_id="i")
    apps = SolutionEngineer(name="Abe Apps", specialty=SeSpecialty.APPS, msx_id="p")
    session.add_all([me_se, me_seller, growth, acq, data, infra, apps])
    session.flush()
    as_se = create_customer(
        session,
        CustomerInput(
            name="Where I am an SE",
            seller_ids=[growth.id, acq.id],
            solution_engineer_ids=[me_se.id, data.id, infra.id, apps.id],
        ),
    )
    as_seller = create_customer(
        session,
        CustomerInput(
            name="Where I sell", seller_ids=[me_seller.id, acq.id], solution_engineer_ids=[data.id, infra.id]
        ),
    )
    create_customer(session, CustomerInput(name="Third", solution_engineer_ids=[me_se.id]))
    assert my_msx_user_id(session) == "me"  # on 3 customers' teams, no one else on more than 2
    page = customer_page(session, as_se.id, today=TODAY)
    assert [m.person.name for m in page.team] == ["Ari Acq", "Gina Growth", "Dana Data", "Me Data"]
    assert [m.person.name for m in page.team_rest] == ["Abe Apps", "Ian Infra"]
    assert [m.is_me for m in page.team] == [False, False, False, True]
    page = customer_page(session, as_seller.id, today=TODAY)
    assert [m.person.name for m in page.team] == ["Ari Acq", "Me Seller"]
    assert [m.person.name for m in page.team_rest] == ["Dana Data", "Ian Infra"]


def test_no_me_without_a_clear_winner(session: Session) -> None:
    assert my_msx_user_id(session) is None
    one = Seller(name="Solo", seller_type=SellerType.GROWTH, msx_id="s")
    session.add(one)
    session.flush()
    create_customer(session, CustomerInput(name="Only", seller_ids=[one.id]))
    assert my_msx_user_id(session) is None  # on one customer's team only: no one stands out


def _tracker_data(session: Session) -> dict[str, Milestone]:
    contoso = create_customer(session, CustomerInput(name="Contoso"))
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam"))
    rows = {
        "q2_team": _milestone(
            session,
            contoso,
            "Q2 team",
            date(2026, 12, 10),
            on_my_team=True,
            commitment="Committed",
            workload="Azure AI",
            monthly_use=500.0,
        ),
        "q2_risk": _milestone(
            session,
            fabrikam,
            "Q2 risk",
            date(2026, 11, 30),
            status="At Risk",
            commitment="Committed at Risk",
            workload="Data & AI",
            monthly_use=100.0,
        ),
        "overdue": _milestone(
            session,
            contoso,
            "Overdue",
            date(2026, 10, 2),
            status="Blocked",
            on_my_team=True,
            workload="Azure AI",
        ),
        "q3": _milestone(session, fabrikam, "Q3", date(2027, 2, 1), commitment="Uncommitted"),
        "closed": _milestone(session, contoso, "Closed", date(2026, 11, 1), status="Completed"),
        "undated": _milestone(session, fabrikam, "Undated", None),
    }
    return rows


def _names(session: Session, filters: TrackerFilters, **options: object) -> list[str]:
    return [m.name for m in track_milestones(session, filters, today=TODAY, **options).milestones]  # type: ignore[arg-type]


def test_tracker_filters_combine_and_closed_ones_stay_hidden(session: Session) -> None:
    rows = _tracker_data(session)
    everything = track_milestones(session, TrackerFilters(), today=TODAY)
    assert {m.name for m in everything.milestones} == {"Q2 team", "Q2 risk", "Overdue", "Q3", "Undated"}
    assert everything.total == 5
    assert (everything.counts.at_risk, everything.counts.blocked, everything.counts.overdue) == (1, 1, 1)
    assert everything.overdue_ids == {rows["overdue"].id}
    q2 = parse_filters(quarter="FY27-Q2")
    assert _names(session, q2, sort="date") == ["Overdue", "Q2 risk", "Q2 team"]
    assert _names(session, parse_filters(quarter="FY27-Q2", on_my_team=True), sort="date") == [
        "Overdue",
        "Q2 team",
    ]
    assert _names(session, parse_filters(quarter="fy27 q2", statuses=["At Risk"])) == ["Q2 risk"]
    assert _names(session, parse_filters(commitment="Committed")) == ["Q2 team"]
    assert _names(session, parse_filters(workload="azure ai", overdue=True)) == ["Overdue"]
    assert _names(session, parse_filters(customer_id=rows["q3"].customer_id), sort="date") == [
        "Q2 risk",
        "Q3",
        "Undated",
    ]
    assert _names(session, parse_filters(due_within=30), sort="date") == ["Q2 risk", "Q2 team"]
    closed = parse_filters(show_closed=True)
    assert "Closed" in _names(session, closed)
    assert _names(session, parse_filters(statuses=["Completed"])) == ["Closed"]  # asking for it shows it
    assert "Closed" not in [m.name for m in list_milestones(session)]
    assert "Closed" in [m.name for m in list_milestones(session, include_closed=True)]


def test_tracker_sorts_pages_and_keeps_favourites(session: Session) -> None:
    rows = _tracker_data(session)
    assert _names(session, TrackerFilters(), sort="name") == [
        "Overdue",
        "Q2 risk",
        "Q2 team",
        "Q3",
        "Undated",
    ]
    assert _names(session, TrackerFilters(), sort="name", descending=True)[0] == "Undated"
    assert _names(session, TrackerFilters(), sort="monthly_use", descending=True)[:2] == [
        "Q2 team",
        "Q2 risk",
    ]
    assert _names(session, TrackerFilters(), sort="customer")[:2] == ["Overdue", "Q2 team"]  # Contoso's
    assert _names(session, TrackerFilters())[:2] == ["Overdue", "Q2 team"]  # on my team first
    first = track_milestones(session, TrackerFilters(), today=TODAY, sort="name", per_page=2)
    third = track_milestones(session, TrackerFilters(), today=TODAY, sort="name", per_page=2, page=3)
    assert first.pages == 3 and [m.name for m in third.milestones] == ["Undated"]
    assert set_favourite(session, rows["q3"].id, True) and set_favourite(session, rows["q3"].id, True)
    assert _names(session, parse_filters(favourites=True)) == ["Q3"]
    assert rows["q3"].id in track_milestones(session, TrackerFilters(), today=TODAY).favourite_ids
    assert set_favourite(session, rows["q3"].id, False) is False
    assert session.scalars(select(MilestoneFavourite)).all() == []
    with pytest.raises(NotFound):
        set_favourite(session, 999_999, True)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quarter": "Q5 2026"}, "quarter"),
        ({"quarter": "FY26-Q9"}, "quarter"),
        ({"statuses": ["Nearly done"]}, "status"),
        ({"commitment": "Maybe"}, "commitment"),
        ({"workload": "x" * 301}, "workload"),
        ({"due_within": -1}, "due_within"),
    ],
)
def test_tracker_refuses_bad_filters_by_name(session: Session, fields: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filters(**fields)
    assert caught.value.field == field


def test_tracker_refuses_a_bad_sort_or_page(session: Session) -> None:
    with pytest.raises(ValidationError):
        track_milestones(session, TrackerFilters(), today=TODAY, sort="owner")
    with pytest.raises(ValidationError):
        track_milestones(session, TrackerFilters(), today=TODAY, page=0)


def test_fiscal_quarter_filter_follows_microsofts_year(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    _milestone(session, customer, "June 30", date(2026, 6, 30))
    _milestone(session, customer, "July 1", date(2026, 7, 1))
    assert _names(session, parse_filters(quarter="FY26-Q4", show_closed=True)) == ["June 30"]
    assert _names(session, parse_filters(quarter="FY27-Q1", show_closed=True)) == ["July 1"]


def _coverage_data(session: Session) -> dict[str, object]:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    mine = _milestone(session, customer, "Mine", date(2026, 12, 15), on_my_team=True)
    other = _milestone(session, customer, "Not mine", date(2026, 12, 15))
    covered = create_note(
        session,
        NoteInput(
            body="",
            title="Covered call",
            call_date=date(2026, 11, 3),
            customer_id=customer.id,
            milestone_ids=[mine.id],
        ),
    )
    same_day = create_note(
        session,
        NoteInput(
            body="",
            title="Same day",
            call_date=date(2026, 11, 5),
            customer_id=customer.id,
            milestone_ids=[mine.id],
        ),
    )
    bare = create_note(
        session,
        NoteInput(
            body="",
            title="Workshop with the data team",
            call_date=date(2026, 11, 10),
            customer_id=customer.id,
            milestone_ids=[mine.id, other.id],
        ),
    )
    create_note(
        session,
        NoteInput(
            body="",
            title="Last quarter",
            call_date=date(2026, 9, 10),
            customer_id=customer.id,
            milestone_ids=[mine.id],
        ),
    )
    session.add_all(
        [
            Task(
                subject="Logged from the note",
                is_hok=True,
                category_code=int(HokCategory.DEMO),
                milestone_id=mine.id,
                note_id=covered.id,
                msx_id=_GUID.format(900),
            ),
            Task(
                subject="Logged in MSX",
                is_hok=True,
                category_code=int(HokCategory.WORKSHOP),
                milestone_id=mine.id,
                task_date=date(2026, 11, 5),
                msx_id=_GUID.format(901),
            ),
            Task(
                subject="Not HoK",
                is_hok=False,
                category_code=int(HokCategory.INTERNAL),
                milestone_id=mine.id,
                task_date=date(2026, 11, 10),
                msx_id=_GUID.format(902),
            ),
        ]
    )
    session.flush()
    return {"mine": mine, "bare": bare, "same_day": same_day, "covered": covered}


def test_hok_coverage_finds_engagements_without_a_hok_task(session: Session) -> None:
    data = _coverage_data(session)
    coverage = hok_coverage(session, FiscalQuarter(2027, 2))
    assert [(d.note.title, d.milestone.name, d.due, d.category) for d in coverage.drafts] == [
        ("Workshop with the data team", "Mine", date(2026, 11, 10), int(DEFAULT_CATEGORY))
    ]
    assert HokCategory(coverage.drafts[0].category).is_hok
    [row] = coverage.milestones
    assert row.milestone.name == "Mine" and row.last_note is not None
    assert row.last_note.title == "Workshop with the data team"
    assert row.last_hok is not None and row.last_hok.subject == "Logged in MSX"
    assert [(c.label, c.count) for c in coverage.hok_by_category] == [("Demo", 1)]  # from my notes
    assert data["bare"] is coverage.drafts[0].note


def test_hok_coverage_pages_the_milestones_and_counts_every_draft(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    milestones = [_milestone(session, customer, f"M{i:02}", date(2026, 12, 1) + timedelta(days=i),
                             on_my_team=True) for i in range(7)]
    for i in range(5):  # five engagements on the last milestone, none with a HoK task
        create_note(session, NoteInput(body="", title=f"Call {i}", call_date=date(2026, 11, 1 + i),
                                       customer_id=customer.id, milestone_ids=[milestones[-1].id]))
    quarter = FiscalQuarter(2027, 2)
    first = hok_coverage(session, quarter, per_page=3)
    assert [r.milestone.name for r in first.milestones] == ["M00", "M01", "M02"]
    assert (first.milestones_total, first.page, first.pages) == (7, 1, 3)
    last = hok_coverage(session, quarter, page=3, per_page=3)
    assert [r.milestone.name for r in last.milestones] == ["M06"] and last.milestones[0].last_note is not None
    assert len(last.drafts) == last.drafts_total == 5  # drafts come from every milestone, whatever the page
    past_the_end = hok_coverage(session, quarter, page=99, per_page=3)
    assert past_the_end.page == 3 and [r.milestone.name for r in past_the_end.milestones] == ["M06"]
    with pytest.raises(ValidationError):
        hok_coverage(session, quarter, page=0)


@pytest.mark.parametrize(
    ("mode", "state"),
    [(WritebackMode.ASK, OutboxState.AWAITING_APPROVAL), (WritebackMode.AUTO, OutboxState.PENDING)],
)
def test_approved_drafts_go_to_the_outbox_in_the_write_back_mode(
    session: Session, mode: WritebackMode, state: OutboxState
) -> None:
    data = _coverage_data(session)
    [draft] = hok_coverage(session, FiscalQuarter(2027, 2)).drafts
    [item] = approve_drafts(session, [(draft.note.id, draft.milestone.id, int(HokCategory.WORKSHOP))], mode)
    assert item.state is state and item.note_id == draft.note.id and item.milestone_id == data["mine"].id
    assert item.payload["subject"] == "Workshop with the data team"
    assert item.payload["due"] == "2026-11-10" and item.payload["category"] == int(HokCategory.WORKSHOP)
    assert hok_coverage(session, FiscalQuarter(2027, 2)).drafts == []  # the queued task covers it
    row = hok_coverage(session, FiscalQuarter(2027, 2)).milestones[0]
    assert row.last_hok is not None and row.last_hok.queued


def test_approving_refuses_bad_picks_and_write_back_off(session: Session) -> None:
    data = _coverage_data(session)
    bare, mine = data["bare"], data["mine"]
    assert isinstance(bare, object) and isinstance(mine, Milestone)
    note_id = bare.id  # type: ignore[attr-defined]
    with pytest.raises(WritebackOff):
        approve_drafts(session, [(note_id, mine.id, int(HokCategory.DEMO))], WritebackMode.OFF)
    with pytest.raises(ValidationError):
        approve_drafts(
            session, [(note_id, mine.id, int(HokCategory.INTERNAL))], WritebackMode.AUTO
        )  # not HoK
    with pytest.raises(ValidationError):
        approve_drafts(
            session,
            [(data["covered"].id, 999_999, int(HokCategory.DEMO))],  # type: ignore[attr-defined]
            WritebackMode.AUTO,
        )
    with pytest.raises(ValidationError):
        approve_drafts(session, [], WritebackMode.AUTO)
    assert session.scalars(select(OutboxItem)).all() == []


def test_open_opportunities_past_their_close_date_are_flagged(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Contoso"))
    late = Opportunity(
        name="Slipped", customer_id=customer.id, state="Open", estimated_close_date=date(2026, 9, 1)
    )
    session.add_all(
        [
            late,
            Opportunity(
                name="Ahead", customer_id=customer.id, state="Open", estimated_close_date=date(2027, 3, 1)
            ),
        ]
    )
    session.flush()
    page = customer_page(session, customer.id, today=TODAY)
    assert [o.name for o in page.opportunities] == ["Slipped", "Ahead"]  # nearest close first
    assert page.late_opportunity_ids == {late.id}


def test_the_same_draft_picked_twice_is_one_task(session: Session) -> None:
    _coverage_data(session)
    [draft] = hok_coverage(session, FiscalQuarter(2027, 2)).drafts
    pick = (draft.note.id, draft.milestone.id, int(HokCategory.DEMO))
    assert len(approve_drafts(session, [pick, pick], WritebackMode.ASK)) == 1
