"""The store's MSX side as plain data, to compare two stores or a store with ground truth."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.store import Customer, Milestone, Opportunity, Pod, Seller, SolutionEngineer, Task, Territory


def store_picture(session: Session) -> dict[str, Any]:
    customers = session.scalars(select(Customer).options(
        selectinload(Customer.sellers), selectinload(Customer.solution_engineers),
        selectinload(Customer.territory)))
    milestones = session.scalars(select(Milestone).options(
        selectinload(Milestone.opportunity), selectinload(Milestone.customer)))
    opportunities = session.scalars(select(Opportunity).options(selectinload(Opportunity.customer)))
    territories = session.scalars(select(Territory).options(selectinload(Territory.pod)))
    tasks = session.scalars(select(Task).options(selectinload(Task.milestone)))
    return {
        "customers": {
            c.msx_id: (c.name, c.tpid, c.territory.msx_id if c.territory else None, c.msx_url,
                       sorted(s.msx_id for s in c.sellers), sorted(e.msx_id for e in c.solution_engineers),
                       c.gone_from_msx_at is None)
            for c in customers
        },
        "territories": {t.msx_id: (t.name, t.pod.name if t.pod else None, t.gone_from_msx_at is None)
                        for t in territories},
        "pods": sorted(session.scalars(select(Pod.name))),
        "sellers": {s.msx_id: (s.name, s.seller_type.value, s.email)
                    for s in session.scalars(select(Seller))},
        "solution_engineers": {e.msx_id: (e.name, e.specialty.value, e.email)
                               for e in session.scalars(select(SolutionEngineer))},
        "tasks": {t.msx_id: (t.subject, t.category_code, t.is_hok, t.duration_minutes, t.state,
                             t.milestone.msx_id if t.milestone else None, t.gone_from_msx_at is None)
                  for t in tasks},
        "opportunities": {o.msx_id: (o.name, o.number, o.estimated_close_date,
                                     o.customer.msx_id if o.customer else None, o.gone_from_msx_at is None)
                          for o in opportunities},
        "milestones": {m.msx_id: (m.name, m.number, m.status, m.status_label, m.milestone_date, m.monthly_use,
                                  m.workload, m.on_my_team, m.opportunity.msx_id if m.opportunity else None,
                                  m.customer.msx_id if m.customer else None, m.gone_from_msx_at is None)
                       for m in milestones},
    }
