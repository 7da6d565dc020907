"""A small local demo set so a fresh install has something to look at (until an MSX import exists).

:func:`seed_demo` only writes into an empty store (no customers, no notes), so it is idempotent and
never mixes demo rows into real data. Dates are relative to today so "recent" and "due soon" work.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.models import Customer, Milestone, Note, Opportunity, SellerType, SeSpecialty
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.msx_records import TerritoryRecord, upsert_territory
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.repo.people import PersonInput, create_seller, create_solution_engineer
from callnotes.store.repo.templates import TemplateInput, create_template

_log = logging.getLogger(__name__)

DISCOVERY_TEMPLATE = """## Attendees

## Goals

## Current estate

## Next steps
- [ ] """
HOK_TEMPLATE = """## Session type
Architecture Design Session / Demo / Workshop

## What we built or showed

## Follow-ups
"""


def seed_demo(session: Session, today: date | None = None) -> bool:
    """Fill an empty store with demo customers, people, notes and templates; False if not empty."""
    has_data = session.scalar(select(func.count()).select_from(Customer)) or session.scalar(
        select(func.count()).select_from(Note))
    if has_data:
        return False
    today = today or datetime.now(UTC).date()
    contoso, fabrikam = _customers(session)
    milestone = _milestone(session, contoso, today)
    for days_ago, customer, topics, body in (
        (2, contoso, ["Fabric", "POC"], "# Fabric POC kickoff\nAgreed success criteria for the **POC**."),
        (9, contoso, ["AKS"], "# AKS upgrade review\nCluster on 1.27; plan the upgrade window."),
        (5, fabrikam, ["Cost", "FinOps"], "# Savings plan review\nReserved instances vs savings plans."),
        (1, None, ["Internal"], "# Team sync\nPipeline review with the POD."),
    ):
        create_note(session, NoteInput(
            body=body, call_date=today - timedelta(days=days_ago),
            customer_id=customer.id if customer else None, topics=topics,
            milestone_ids=[milestone.id] if "POC" in topics else []))
    create_template(session, TemplateInput("Discovery call", DISCOVERY_TEMPLATE))
    create_template(session, TemplateInput("HoK session", HOK_TEMPLATE))
    session.flush()
    _log.info("seeded the demo data set")
    return True


def _customers(session: Session) -> tuple[Customer, Customer]:
    territory = upsert_territory(session, TerritoryRecord("demo-territory-0601", "East.SMECC.MAA.0601",
                                                          "MAA 0601")).record
    growth = create_seller(session, PersonInput("Avery Growth", SellerType.GROWTH, "avery@example.com"))
    acq = create_seller(session, PersonInput("Blake Acquisition", SellerType.ACQUISITION,
                                             "blake@example.com"))
    data_se = create_solution_engineer(session, PersonInput("Casey Data", SeSpecialty.DATA,
                                                            "casey@example.com"))
    infra_se = create_solution_engineer(session, PersonInput("Drew Infra", SeSpecialty.INFRA,
                                                             "drew@example.com"))
    contoso = create_customer(session, CustomerInput(
        "Contoso Pharma", tpid="1000001", territory_id=territory.id, website="https://contoso.example",
        account_notes="Prefers Teams calls on Tuesdays.", seller_ids=[growth.id],
        solution_engineer_ids=[data_se.id, infra_se.id]))
    fabrikam = create_customer(session, CustomerInput(
        "Fabrikam Retail", tpid="1000002", territory_id=territory.id, seller_ids=[acq.id],
        solution_engineer_ids=[infra_se.id]))
    create_customer(session, CustomerInput("Northwind Traders", tpid="1000003", territory_id=territory.id,
                                           seller_ids=[growth.id]))
    return contoso, fabrikam


def _milestone(session: Session, customer: Customer, today: date) -> Milestone:
    opportunity = Opportunity(name="Contoso analytics platform", number="7-DEMO01", state="Open",
                              customer_id=customer.id)
    session.add(opportunity)
    session.flush()
    milestone = Milestone(name="Fabric POC complete", status=861980000, status_label="On Track",
                          milestone_date=today + timedelta(days=10), monthly_use=2500.0, workload="Data & AI",
                          on_my_team=True, opportunity_id=opportunity.id, customer_id=customer.id)
    session.add(milestone)
    session.flush()
    return milestone
