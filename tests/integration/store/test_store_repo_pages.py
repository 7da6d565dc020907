"""The repository questions the web pages ask (they run no queries of their own), on SQLite and
PostgreSQL: linking a customer to MSX, the customers to link, the milestones page's filters, the one
milestone ordering, drafts, and the unit of work's answer to a uniqueness race."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from callnotes.store import (
    Conflict,
    CustomerInput,
    DraftInput,
    Milestone,
    NotFound,
    create_customer,
    delete_customer,
    get_customer,
    list_drafts,
    list_milestones,
    save_draft,
    session_scope,
)
from callnotes.store.db import check_connection, describe_database
from callnotes.store.models import Topic
from callnotes.store.repo.customers import (
    link_customer_to_msx,
    list_customers_to_link,
    list_customers_with_milestones,
)
from callnotes.store.repo.milestones import set_on_my_team

ACCOUNT = "0b9f6a52-1111-4000-8000-000000000001"


def test_one_customer_per_msx_account(session: Session) -> None:
    contoso = create_customer(session, CustomerInput(name="Contoso", tpid="1"))
    other = create_customer(session, CustomerInput(name="Contoso EMEA", tpid="1"))
    linked = link_customer_to_msx(session, contoso.id, ACCOUNT, "https://crm.example/account")
    assert (linked.msx_id, linked.msx_url) == (ACCOUNT, "https://crm.example/account")
    assert link_customer_to_msx(session, contoso.id, ACCOUNT, "https://crm.example/again").msx_url.endswith(
        "again")  # re-linking the same customer is fine
    with pytest.raises(Conflict, match="already linked to the customer 'Contoso'"):
        link_customer_to_msx(session, other.id, ACCOUNT, None)
    assert get_customer(session, other.id).msx_id is None
    unlinked = link_customer_to_msx(session, contoso.id, None, None)
    assert (unlinked.msx_id, unlinked.msx_url) == (None, None)
    assert link_customer_to_msx(session, other.id, ACCOUNT, None).msx_id == ACCOUNT
    with pytest.raises(NotFound):
        link_customer_to_msx(session, 999_999, ACCOUNT, None)


def test_customers_to_link_have_a_tpid_and_no_msx_account(session: Session) -> None:
    create_customer(session, CustomerInput(name="zeta", tpid="3"))
    create_customer(session, CustomerInput(name="Alpha", tpid="1"))
    create_customer(session, CustomerInput(name="No TPID"))
    create_customer(session, CustomerInput(name="Linked", tpid="2", msx_id=ACCOUNT))
    assert [c.name for c in list_customers_to_link(session)] == ["Alpha", "zeta"]
    assert [c.name for c in list_customers_to_link(session, limit=1)] == ["Alpha"]


def test_milestones_page_filters_and_the_one_ordering(session: Session) -> None:
    contoso = create_customer(session, CustomerInput(name="Contoso"))
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam"))
    create_customer(session, CustomerInput(name="Idle"))
    rows = [
        Milestone(name="B later", customer_id=contoso.id, milestone_date=date(2027, 3, 1)),
        Milestone(name="A later", customer_id=contoso.id, milestone_date=date(2027, 3, 1)),
        Milestone(name="Undated", customer_id=contoso.id),
        Milestone(name="Soon", customer_id=contoso.id, milestone_date=date(2026, 12, 1)),
        Milestone(name="Mine, late", customer_id=contoso.id, milestone_date=date(2028, 1, 1),
                  on_my_team=True),
        Milestone(name="Gone", customer_id=fabrikam.id, gone_from_msx_at=datetime.now(UTC)),
    ]
    session.add_all(rows)
    session.flush()
    assert [m.name for m in list_milestones(session)] == ["Mine, late", "Soon", "A later", "B later",
                                                          "Undated"]
    assert [m.name for m in list_milestones(session, on_my_team=False, limit=2)] == ["Soon", "A later"]
    assert [m.name for m in list_milestones(session, due_from=date(2026, 11, 1),
                                            due_to=date(2027, 3, 1))] == ["Soon", "A later", "B later"]
    assert [m.name for m in list_milestones(session, customer_id=fabrikam.id, include_gone=True)] == ["Gone"]
    assert [c.name for c in list_customers_with_milestones(session)] == ["Contoso"]  # gone ones don't count
    assert set_on_my_team(session, rows[3].id, True).on_my_team is True
    assert [m.name for m in list_milestones(session, on_my_team=True)] == ["Soon", "Mine, late"]
    with pytest.raises(NotFound):
        set_on_my_team(session, 999_999, False)


def test_drafts_keep_the_text_when_their_customer_is_gone(session: Session) -> None:
    contoso = create_customer(session, CustomerInput(name="Contoso"))
    save_draft(session, "new:a", DraftInput(body="first", customer_id=contoso.id))
    delete_customer(session, contoso.id)
    stale = save_draft(session, "new:b", DraftInput(body="precious", customer_id=contoso.id))
    assert (stale.body, stale.customer_id) == ("precious", None)
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam"))
    save_draft(session, "new:c", DraftInput(body="newest", customer_id=fabrikam.id))
    session.commit()
    session.expire_all()
    drafts = list_drafts(session)
    newest = drafts[0]
    assert (newest.key, newest.customer.name if newest.customer else None) == ("new:c", "Fabrikam")
    assert {d.key for d in drafts} == {"new:a", "new:b", "new:c"}


def test_a_uniqueness_race_becomes_a_conflict_and_nothing_is_kept(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(Conflict, match="conflicts with data already stored"):
        with session_scope(session_factory) as session:
            session.add_all([Topic(name="AKS", name_key="aks"), Topic(name="aks", name_key="aks")])
    with session_factory() as session:
        assert session.query(Topic).count() == 0
        check_connection(session)


def test_describe_database_hides_the_password() -> None:
    info = describe_database("postgresql+psycopg://me:s3cret@db.example:5432/notes")
    assert "s3cret" not in info.url and "db.example" in info.url and info.kind == "postgresql"
    assert describe_database("sqlite:////tmp/x.db").kind == "sqlite"
