"""A small local demo set for ``callnotes run`` when the MSX demo (embedded emulator) is not available.

Uses the store's ``seed_demo`` when it has one; otherwise adds a few customers, templates and notes
through the store's repositories. Runs only on an empty database, so it never touches real data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.models import Customer, Note
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.repo.templates import TemplateInput, create_template

_log = logging.getLogger(__name__)

_TEMPLATES = {
    "Discovery call": "## Attendees\n\n## Current state\n\n## Pain points\n\n## Next steps\n- [ ] ",
    "Architecture review": "## Scope\n\n## Findings\n\n## Recommendations\n\n## Follow-ups\n",
}
_CUSTOMERS = (("Contoso Ltd", "1000001"), ("Fabrikam Inc", "1000002"), ("Northwind Traders", "1000003"))
_NOTES = (
    (0, 2, ["AKS", "Migration"], "# AKS migration kickoff\n\nDiscussed moving the order service to **AKS**."),
    (0, 9, ["Cost"], "# Reserved instances\n\nReviewed the savings plan; follow up with finance."),
    (1, 4, ["Data", "Fabric"], "# Fabric proof of concept\n\n- Lakehouse for sales data\n- Power BI reports"),
    (2, 1, ["Security"], "# Defender rollout\n\nAgreed on a pilot with 50 servers next month."),
)


def _seed_locally(session: Session) -> None:
    if session.scalar(select(func.count()).select_from(Customer)) or session.scalar(
        select(func.count()).select_from(Note)
    ):
        _log.info("demo data skipped: the database already has data")
        return
    for name, body in _TEMPLATES.items():
        create_template(session, TemplateInput(name=name, body=body))
    customers = [create_customer(session, CustomerInput(name=name, tpid=tpid)) for name, tpid in _CUSTOMERS]
    today = datetime.now(UTC).date()
    for index, days_ago, topics, body in _NOTES:
        create_note(session, NoteInput(body=body, call_date=today - timedelta(days=days_ago),
                                       customer_id=customers[index].id, topics=topics))


def seed_demo_data(settings: Settings) -> None:
    """Prepare the demo database for ``settings`` (migrated first)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with session_scope(make_session_factory(engine)) as session:
            try:
                from callnotes.store import seed_demo  # type: ignore[attr-defined]
            except ImportError:
                _seed_locally(session)
            else:
                seed_demo(session)
    finally:
        engine.dispose()
