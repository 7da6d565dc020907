"""What a customer's page shows, first things first: the newest notes (a page at a time), the open
milestones (overdue ones flagged) and open opportunities, then the account team collapsed to the
people of my kind.

"Me" on the account teams: the person (by MSX user id) on the most customers' teams — the MSX import
brings only my accounts, and I am on each of their teams. "My kind" on one customer: the sellers, and
the SEs of my specialty there when I am an SE on it (my role can differ from one account to the next).
Without a "me" (a store filled by hand) the sellers are shown; the rest of the team is on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from callnotes.domain import SeSpecialty
from callnotes.store.models import (
    Customer,
    Milestone,
    Note,
    Opportunity,
    Seller,
    SolutionEngineer,
    customer_sellers,
    customer_solution_engineers,
)
from callnotes.store.repo.customers import get_customer
from callnotes.store.repo.milestones import is_overdue, list_milestones, list_opportunities
from callnotes.store.repo.notes import list_notes

#: Notes a customer's page shows at first, and per "more".
NOTES_PAGE = 20


@dataclass(frozen=True)
class TeamMember:
    """One person of the account team: ``role`` "Seller" or "SE", ``kind`` its type or specialty."""

    person: Seller | SolutionEngineer
    role: str
    kind: str
    is_me: bool = False


@dataclass
class NotesPage:
    notes: list[Note]
    offset: int
    has_more: bool

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.notes)


@dataclass
class CustomerPage:
    customer: Customer
    notes: NotesPage
    note_count: int
    milestones: list[Milestone]
    overdue_ids: set[int]
    opportunities: list[Opportunity]
    #: Open opportunities whose estimated close date has passed.
    late_opportunity_ids: set[int] = field(default_factory=set)
    team: list[TeamMember] = field(default_factory=list)
    team_rest: list[TeamMember] = field(default_factory=list)


def customer_notes(
    session: Session, customer_id: int, *, offset: int = 0, limit: int = NOTES_PAGE
) -> NotesPage:
    """The customer's notes newest first, ``limit`` from ``offset``; ``has_more`` when others follow."""
    notes = list_notes(session, customer_id=customer_id, limit=limit + 1, offset=offset)
    return NotesPage(notes[:limit], offset, len(notes) > limit)


def _note_count(session: Session, customer_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Note).where(Note.customer_id == customer_id)) or 0


def my_msx_user_id(session: Session) -> str | None:
    """The MSX user id on the most customers' account teams (see the module docstring), or None
    when no one stands out (fewer than two customers have a team, or a tie)."""
    links = union_all(
        select(Seller.msx_id.label("msx_id"), customer_sellers.c.customer_id.label("customer_id"))
        .join(customer_sellers, customer_sellers.c.seller_id == Seller.id),
        select(SolutionEngineer.msx_id, customer_solution_engineers.c.customer_id)
        .join(customer_solution_engineers,
              customer_solution_engineers.c.solution_engineer_id == SolutionEngineer.id),
    ).subquery()
    count = func.count(func.distinct(links.c.customer_id))
    top = session.execute(select(links.c.msx_id, count).where(links.c.msx_id.is_not(None))
                          .group_by(links.c.msx_id).order_by(count.desc(), links.c.msx_id).limit(2)).all()
    if not top or top[0][1] < 2 or (len(top) > 1 and top[1][1] == top[0][1]):
        return None
    return str(top[0][0])


def account_team(session: Session, customer: Customer) -> tuple[list[TeamMember], list[TeamMember]]:
    """The customer's team split in (of my kind, the rest); each by role, then name."""
    me = my_msx_user_id(session)
    members = [TeamMember(s, "Seller", s.seller_type.label, s.msx_id == me and me is not None)
               for s in sorted(customer.sellers, key=lambda p: p.name.lower())]
    members += [TeamMember(se, "SE", se.specialty.label, se.msx_id == me and me is not None)
                for se in sorted(customer.solution_engineers, key=lambda p: p.name.lower())]
    my_specialties: set[SeSpecialty] = {m.person.specialty for m in members
                                        if m.is_me and isinstance(m.person, SolutionEngineer)}
    shown: list[TeamMember] = []
    rest: list[TeamMember] = []
    for member in members:
        person = member.person
        mine = isinstance(person, Seller) or person.specialty in my_specialties or member.is_me
        (shown if mine else rest).append(member)
    return shown, rest


def customer_page(session: Session, customer_id: int, *, today: date) -> CustomerPage:
    """Everything a customer's page shows (:class:`NotFound` for an unknown customer)."""
    customer = get_customer(session, customer_id)
    milestones = list_milestones(session, customer_id=customer.id)
    shown, rest = account_team(session, customer)
    opportunities = list_opportunities(session, customer_id=customer.id, only_open=True,
                                       with_milestones=False)
    return CustomerPage(
        customer=customer, notes=customer_notes(session, customer.id),
        note_count=_note_count(session, customer.id),
        milestones=milestones, overdue_ids={m.id for m in milestones if is_overdue(m, today)},
        opportunities=opportunities,
        late_opportunity_ids={o.id for o in opportunities
                              if o.estimated_close_date is not None and o.estimated_close_date < today},
        team=shown, team_rest=rest)
