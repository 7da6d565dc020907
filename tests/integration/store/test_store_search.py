"""Full-text search on both databases: ranking, snippets, filters, index upkeep, hostile queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from callnotes.store import (
    CustomerInput,
    CustomerUpdate,
    Note,
    NoteInput,
    NoteUpdate,
    PersonInput,
    create_customer,
    create_note,
    create_seller,
    delete_note,
    rename_topic,
    update_customer,
    update_note,
)
from callnotes.store.search import SearchFilters, search


@pytest.fixture()
def corpus(session: Session) -> dict[str, int]:
    ann = create_seller(session, PersonInput(name="Ann Growth", role="growth", email="ann@example.com"))
    contoso = create_customer(session, CustomerInput(name="Contoso Pharma", tpid="1001", seller_ids=[ann.id]))
    fabrikam = create_customer(session, CustomerInput(name="Fabrikam Retail", tpid="2002"))
    ids = {"ann": ann.id, "contoso": contoso.id, "fabrikam": fabrikam.id}
    ids["aks_title"] = create_note(
        session,
        NoteInput(
            title="Kubernetes migration plan",
            body="We discussed moving the estate.",
            call_date=date(2026, 3, 1),
            customer_id=contoso.id,
            topics=["AKS"],
        ),
    ).id
    ids["aks_body"] = create_note(
        session,
        NoteInput(
            body="Side remark: maybe kubernetes later. Mostly SQL licensing.",
            call_date=date(2026, 4, 1),
            customer_id=fabrikam.id,
            topics=["SQL"],
        ),
    ).id
    ids["other"] = create_note(
        session,
        NoteInput(
            body="Cost review, 3 < 4: <script>alert(1)</script> reserved instances & savings.",
            call_date=date(2026, 5, 1),
            customer_id=contoso.id,
            topics=["FinOps"],
        ),
    ).id
    session.commit()
    return ids


def _ids(hits, kind="note"):
    return [h.id for h in hits if h.kind == kind]


def test_title_match_outranks_body_match(session: Session, corpus: dict[str, int]) -> None:
    hits = search(session, "kubernetes")
    assert _ids(hits) == [corpus["aks_title"], corpus["aks_body"]]
    assert hits[0].rank > hits[1].rank
    assert hits[0].title == "Kubernetes migration plan"


def test_prefix_and_stemming(session: Session, corpus: dict[str, int]) -> None:
    assert corpus["aks_title"] in _ids(search(session, "kuber"))
    assert corpus["aks_title"] in _ids(search(session, "migrations"))


def test_notes_found_by_customer_name_and_topic(session: Session, corpus: dict[str, int]) -> None:
    assert set(_ids(search(session, "fabrikam"))) == {corpus["aks_body"]}
    assert set(_ids(search(session, "finops"))) == {corpus["other"]}
    assert _ids(search(session, "fabrikam"), "customer") == [corpus["fabrikam"]]
    assert [h.kind for h in search(session, "finops") if h.kind == "topic"] == ["topic"]
    assert _ids(search(session, "ann"), "seller") == [corpus["ann"]]


def test_snippet_is_escaped_and_highlighted(session: Session, corpus: dict[str, int]) -> None:
    hit = next(h for h in search(session, "reserved") if h.kind == "note")
    assert "<mark>reserved</mark>" in hit.snippet
    assert "<script" not in hit.snippet and "&amp;" in hit.snippet and "3 &lt; 4" in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_filters(session: Session, corpus: dict[str, int]) -> None:
    assert _ids(search(session, "kubernetes", SearchFilters(customer_id=corpus["fabrikam"]))) == [
        corpus["aks_body"]
    ]
    assert _ids(search(session, "kubernetes", SearchFilters(seller_id=corpus["ann"]))) == [
        corpus["aks_title"]
    ]
    assert _ids(search(session, "kubernetes", SearchFilters(topic="sql"))) == [corpus["aks_body"]]
    assert _ids(search(session, "kubernetes", SearchFilters(date_from=date(2026, 3, 15)))) == [
        corpus["aks_body"]
    ]
    assert _ids(search(session, "kubernetes", SearchFilters(date_to=date(2026, 3, 15)))) == [
        corpus["aks_title"]
    ]
    only_customers = search(session, "contoso", SearchFilters(kinds=frozenset({"customer"})))
    assert {h.kind for h in only_customers} == {"customer"}


def test_index_follows_updates_renames_and_deletes(session: Session, corpus: dict[str, int]) -> None:
    update_note(session, corpus["other"], NoteUpdate(body="Now about quantum networking."))
    update_customer(session, corpus["contoso"], CustomerUpdate(name="Northwind Labs"))
    session.commit()
    assert _ids(search(session, "reserved")) == []
    assert _ids(search(session, "quantum")) == [corpus["other"]]
    assert set(_ids(search(session, "northwind"))) == {corpus["aks_title"], corpus["other"]}
    assert _ids(search(session, "contoso")) == []
    topic_id = next(h.id for h in search(session, "aks") if h.kind == "topic")
    rename_topic(session, topic_id, "Containers")
    update_note(session, corpus["aks_body"], NoteUpdate(topics=["Containers"]))
    session.commit()
    assert set(_ids(search(session, "containers"))) == {corpus["aks_title"], corpus["aks_body"]}
    delete_note(session, corpus["aks_title"])
    session.commit()
    assert _ids(search(session, "containers")) == [corpus["aks_body"]]


FINDS_IT = [
    '"kubernetes',
    "kubernetes*",
    "-kubernetes",
    "kubernetes -",
    "^kubernetes",
    "{kubernetes}",
    "kubernetes:*",
    "(kubernetes)",
    "kubernetes'",
]
ODD = [
    '"',
    '""',
    "*",
    "NEAR(kubernetes plan)",
    "kubernetes NEAR plan",
    "AND",
    "OR kubernetes",
    "NOT",
    "(",
    ")",
    "kubernetes'; DROP TABLE notes; --",
    "\\",
    "%",
    "_",
    "a & b | !c",
    "<->",
    "'",
    "\x00",
    "ü" * 500,
    "kubernetes " * 100,
    "!!",
    "a:b:c",
    "x <-> y",
    "the",
    "'kubernetes' & !x",
    "col:kubernetes",
    "title:kubernetes",
    "kubernetes OR",
]


@pytest.mark.parametrize("query", FINDS_IT)
def test_syntax_characters_are_ignored(session: Session, corpus: dict[str, int], query: str) -> None:
    assert corpus["aks_title"] in _ids(search(session, query))


@pytest.mark.parametrize("query", ODD)
def test_hostile_queries_never_error(session: Session, corpus: dict[str, int], query: str) -> None:
    hits = search(session, query)
    assert isinstance(hits, list)
    assert search(session, "kubernetes")  # the session is still usable


def test_empty_query_returns_nothing(session: Session, corpus: dict[str, int]) -> None:
    assert search(session, "   ") == []
    assert search(session, "") == []


def _index_is_consistent(session: Session) -> None:
    """SQLite: FTS5 'integrity-check' (index == content); PostgreSQL: context recomputed == stored."""
    if session.get_bind().dialect.name == "sqlite":
        for table in ("notes", "customers", "sellers", "solution_engineers", "topics"):
            session.execute(text(f"INSERT INTO {table}_fts({table}_fts, rank) VALUES ('integrity-check', 1)"))
    for note in session.scalars(select(Note)):
        parts = ([note.customer.name] if note.customer else []) + sorted(t.name for t in note.topics)
        stored = session.scalar(select(Note.search_context).where(Note.id == note.id))
        assert sorted(stored.split()) == sorted(" ".join(parts).split()), (note.id, stored, parts)


def test_index_stays_consistent_through_every_kind_of_change(
    session: Session, corpus: dict[str, int]
) -> None:
    from callnotes.store import delete_customer, delete_topic

    update_note(session, corpus["aks_title"], NoteUpdate(title="New title", topics=["AKS", "Extra"]))
    update_note(session, corpus["aks_body"], NoteUpdate(customer_id=corpus["contoso"]))
    update_customer(session, corpus["contoso"], CustomerUpdate(name="Contoso Renamed"))
    session.commit()
    _index_is_consistent(session)
    topic_id = next(h.id for h in search(session, "extra") if h.kind == "topic")
    delete_topic(session, topic_id)
    delete_customer(session, corpus["fabrikam"])
    delete_customer(session, corpus["contoso"])
    session.commit()
    session.expire_all()
    _index_is_consistent(session)
    assert _ids(search(session, "contoso")) == [] and _ids(search(session, "extra")) == []
    assert _ids(search(session, "kubernetes")) == [corpus["aks_body"]]
    assert _ids(search(session, "new title")) == [corpus["aks_title"]]
    delete_note(session, corpus["aks_body"])
    session.commit()
    _index_is_consistent(session)
    assert _ids(search(session, "kubernetes")) == []


@pytest.mark.parametrize("matches", [3, 2_100])  # few: fetched and sorted; many: the date index walked
def test_newest_first_by_call_date_whatever_the_number_of_matches(session: Session, matches: int) -> None:
    from callnotes.store.repo.notes_bulk import create_notes_in_bulk
    from callnotes.store.search import RANK_WINDOW

    day = date(2020, 1, 1)
    notes = [NoteInput(body=f"zebra crossing {n}", call_date=day + timedelta(days=(n * 7919) % 2000))
             for n in range(matches)]
    notes.append(NoteInput(body="unrelated", call_date=date(2030, 1, 1)))
    assert create_notes_in_bulk(session, notes) == [None] * len(notes)
    session.commit()
    newest = search(session, "zebra", limit=20, order="newest")
    expected = session.execute(select(Note.id).where(Note.body.like("zebra%")).order_by(
        Note.call_date.desc(), Note.created_at.desc(), Note.id.desc()).limit(20)).scalars().all()
    assert [h.id for h in newest] == list(expected) and all(h.kind == "note" for h in newest)
    assert [h.call_date for h in newest] == sorted((h.call_date for h in newest), reverse=True)
    best = search(session, "zebra", limit=20)
    assert len(best) == min(20, matches) and all("<mark>zebra</mark>" in h.snippet for h in best)
    if matches > RANK_WINDOW:  # ranked within the newest window of matches (by when they were written)
        last = session.scalar(select(func.max(Note.id)).where(Note.body.like("zebra%")))
        assert min(h.id for h in best) > last - RANK_WINDOW
