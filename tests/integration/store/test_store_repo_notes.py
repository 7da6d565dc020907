"""Customers, notes, topics, templates and drafts through the repository functions (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, update
from sqlalchemy.orm import Session

from callnotes.store import (
    Conflict,
    CustomerInput,
    CustomerUpdate,
    DraftInput,
    NaiveDatetimeError,
    Note,
    NoteInput,
    NoteUpdate,
    NotFound,
    PersonInput,
    TemplateInput,
    ValidationError,
    create_customer,
    create_note,
    create_seller,
    create_template,
    delete_customer,
    delete_draft,
    delete_note,
    find_customers,
    get_draft,
    get_note,
    group_customers,
    list_customers,
    list_drafts,
    list_notes,
    list_templates,
    list_topics,
    rename_topic,
    save_draft,
    update_customer,
    update_note,
)


def test_create_and_read_customer_and_note(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="  Contoso  ", tpid="123", website="contoso.com"))
    note = create_note(
        session,
        NoteInput(
            body="# Kickoff\nTalked **AKS**.",
            call_date=date(2026, 11, 2),
            customer_id=customer.id,
            topics=["AKS", "aks ", "Cost"],
            attendees=["Ann", " "],
        ),
    )
    session.commit()
    session.expunge_all()
    loaded = get_note(session, note.id)
    assert loaded.customer is not None and loaded.customer.name == "Contoso"
    assert [t.name for t in loaded.topics] == ["AKS", "Cost"]
    assert loaded.attendees == ["Ann"]
    assert loaded.display_title == "Kickoff"
    assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset() == timedelta(0)


def test_note_update_is_partial_and_clears_customer(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Fabrikam"))
    note = create_note(
        session, NoteInput(body="first", call_date=date(2026, 1, 1), customer_id=customer.id, topics=["a"])
    )
    update_note(session, note.id, NoteUpdate(body="second"))
    assert (note.body, note.customer_id, [t.name for t in note.topics]) == ("second", customer.id, ["a"])
    update_note(session, note.id, NoteUpdate(customer_id=None, topics=[]))
    assert note.customer_id is None and note.topics == []


def test_unknown_ids_and_bad_input_raise_typed_errors(session: Session) -> None:
    with pytest.raises(NotFound):
        get_note(session, 999)
    with pytest.raises(NotFound):
        create_note(session, NoteInput(body="x", call_date=date(2026, 1, 1), customer_id=4242))
    with pytest.raises(ValidationError):
        create_customer(session, CustomerInput(name="   "))
    with pytest.raises(ValidationError):
        create_note(session, NoteInput(body="x", call_date=date(2026, 1, 1), topics=[" "]))
    with pytest.raises(ValidationError):
        list_customers(session, sort="nonsense")


def test_naive_datetime_is_refused(session: Session) -> None:
    note = create_note(session, NoteInput(body="x", call_date=date(2026, 1, 1)))
    with pytest.raises(NaiveDatetimeError):
        note.updated_at = datetime(2026, 1, 1, 12, 0)  # naive
    with pytest.raises(exc.StatementError) as caught:  # Core path: refused at bind time
        session.execute(update(Note).where(Note.id == note.id).values(updated_at=datetime(2026, 1, 1)))
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    session.rollback()


def test_aware_datetime_is_stored_as_utc(session: Session) -> None:
    note = create_note(session, NoteInput(body="x", call_date=date(2026, 1, 1)))
    note.created_at = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    session.commit()
    session.expire_all()
    assert note.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert note.created_at.tzinfo == UTC


def test_customers_sorted_by_last_contact_and_grouped(session: Session) -> None:
    ann = create_seller(session, PersonInput(name="Ann", role="growth"))
    a = create_customer(session, CustomerInput(name="Alpha", seller_ids=[ann.id]))
    b = create_customer(session, CustomerInput(name="Beta"))
    c = create_customer(session, CustomerInput(name="Gamma", seller_ids=[ann.id]))
    create_note(session, NoteInput(body="old", call_date=date(2026, 1, 1), customer_id=a.id))
    create_note(session, NoteInput(body="new", call_date=date(2026, 3, 1), customer_id=c.id))
    create_note(session, NoteInput(body="newer", call_date=date(2026, 3, 2), customer_id=c.id))
    by_contact = list_customers(session, sort="last_contact")
    assert [s.customer.name for s in by_contact] == ["Gamma", "Alpha", "Beta"]
    assert (by_contact[0].last_contact, by_contact[0].note_count) == (date(2026, 3, 2), 2)
    assert by_contact[2].last_contact is None
    groups = group_customers(session, "seller")
    assert [(g.label, [s.customer.name for s in g.customers]) for g in groups] == [
        ("Ann", ["Alpha", "Gamma"]),
        ("No seller", ["Beta"]),
    ]
    assert [s.customer.name for s in list_customers(session, "ALP")] == ["Alpha"]
    assert [s.customer.name for s in list_customers(session, seller_id=ann.id)] == ["Alpha", "Gamma"]
    assert b.id


def test_find_customers_prefers_prefix_and_escapes_wildcards(session: Session) -> None:
    for name in ("Big Contoso", "Contoso", "Con%fab"):
        create_customer(session, CustomerInput(name=name))
    assert [c.name for c in find_customers(session, "con")] == ["Con%fab", "Contoso", "Big Contoso"]
    assert [c.name for c in find_customers(session, "n%")] == ["Con%fab"]


def test_deleting_a_customer_keeps_its_notes(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="Gone Inc"))
    note = create_note(
        session, NoteInput(body="keep me", call_date=date(2026, 1, 1), customer_id=customer.id)
    )
    session.commit()
    delete_customer(session, customer.id)
    session.commit()
    session.expire_all()
    assert session.get(Note, note.id) is not None and session.get(Note, note.id).customer_id is None


def test_update_customer_partial(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="X", tpid="1", account_notes="keep"))
    update_customer(session, customer.id, CustomerUpdate(website="x.com"))
    assert (customer.name, customer.tpid, customer.website) == ("X", "1", "https://x.com")  # a bare host
    assert customer.account_notes == "keep"
    with pytest.raises(NotFound):
        update_customer(session, customer.id, CustomerUpdate(territory_id=77))


def test_list_notes_newest_first_with_filters(session: Session) -> None:
    customer = create_customer(session, CustomerInput(name="C"))
    for day in (3, 1, 2):
        create_note(
            session,
            NoteInput(
                body=f"d{day}",
                call_date=date(2026, 5, day),
                customer_id=customer.id if day != 2 else None,
                topics=["odd"] if day % 2 else [],
            ),
        )
    assert [n.body for n in list_notes(session)] == ["d3", "d2", "d1"]
    assert [n.body for n in list_notes(session, customer_id=customer.id)] == ["d3", "d1"]
    assert [n.body for n in list_notes(session, topic="ODD")] == ["d3", "d1"]
    assert [n.body for n in list_notes(session, date_from=date(2026, 5, 2))] == ["d3", "d2"]
    delete_note(session, list_notes(session)[0].id)
    assert [n.body for n in list_notes(session)] == ["d2", "d1"]


def test_topics_counts_and_rename_conflict(session: Session) -> None:
    create_note(session, NoteInput(body="x", call_date=date(2026, 1, 1), topics=["AKS", "Cost"]))
    create_note(session, NoteInput(body="y", call_date=date(2026, 1, 1), topics=["aks"]))
    summaries = {s.topic.name: s.note_count for s in list_topics(session)}
    assert summaries == {"AKS": 2, "Cost": 1}
    cost = next(s.topic for s in list_topics(session) if s.topic.name == "Cost")
    with pytest.raises(Conflict):
        rename_topic(session, cost.id, "Aks")
    assert rename_topic(session, cost.id, "FinOps").name == "FinOps"


def test_templates_unique_names(session: Session) -> None:
    create_template(session, TemplateInput(name="Discovery", body="## Goals\n"))
    with pytest.raises(Conflict):
        create_template(session, TemplateInput(name="discovery"))
    assert [t.name for t in list_templates(session)] == ["Discovery"]


def test_draft_survives_a_new_session(session_factory) -> None:
    with session_factory() as first:
        save_draft(first, "new:abc", DraftInput(body="half a thought", topics=["AKS"]))
        save_draft(first, "new:abc", DraftInput(body="half a thought, more", topics=["AKS"]))
        first.commit()
    with session_factory() as second:  # the tab crashed; a new request asks again
        draft = get_draft(second, "new:abc")
        assert draft is not None and draft.body == "half a thought, more" and draft.topics == ["AKS"]
        assert len(list_drafts(second)) == 1
        assert delete_draft(second, "new:abc") is True
        assert get_draft(second, "new:abc") is None
        assert delete_draft(second, "new:abc") is False
