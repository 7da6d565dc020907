"""Attendee suggestions for the note editor: the customer's account team first (sellers, then
solution engineers), then the people who came to this customer's calls most often, then anyone on a
note (or an account team) whose name starts with what is typed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.models import Customer, Note, Seller, SolutionEngineer, note_attendees
from callnotes.store.repo._common import like_prefix


@dataclass(frozen=True)
class AttendeeSuggestion:
    """A name to add, and where it comes from ("Seller · Growth", "3 calls", …)."""

    name: str
    source: str


def _team(session: Session, customer_id: int) -> list[AttendeeSuggestion]:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return []
    team = [AttendeeSuggestion(s.name, f"Seller · {s.seller_type.label}") for s in customer.sellers]
    team += [AttendeeSuggestion(se.name, f"SE · {se.specialty.label}") for se in customer.solution_engineers]
    return team


def _frequent(session: Session, customer_id: int, limit: int) -> list[AttendeeSuggestion]:
    rows = session.execute(
        select(func.min(note_attendees.c.name), func.count()).join(Note, Note.id == note_attendees.c.note_id)
        .where(Note.customer_id == customer_id).group_by(note_attendees.c.name_key)
        .order_by(func.count().desc(), note_attendees.c.name_key).limit(limit))
    return [AttendeeSuggestion(name, f"{count} call{'s' if count != 1 else ''}") for name, count in rows]


def _starting_with(session: Session, text: str, limit: int) -> list[AttendeeSuggestion]:
    pattern = like_prefix(text.casefold())
    found = [AttendeeSuggestion(name, "on earlier notes") for name in session.scalars(
        select(func.min(note_attendees.c.name)).where(note_attendees.c.name_key.like(pattern, escape="\\"))
        .group_by(note_attendees.c.name_key).order_by(func.count().desc()).limit(limit))]
    for model, label in ((Seller, "Seller"), (SolutionEngineer, "SE")):
        found += [AttendeeSuggestion(name, label) for name in session.scalars(
            select(model.name).where(func.lower(model.name).like(pattern, escape="\\")).limit(limit))]
    return found


def attendee_suggestions(session: Session, customer_id: int | None, text: str = "",
                         taken: Iterable[str] = (), limit: int = 12) -> list[AttendeeSuggestion]:
    """Up to ``limit`` names for the editor's attendee field (none already in ``taken``); ``text``,
    when given, keeps the names containing it (and adds any that start with it)."""
    wanted = text.strip().casefold()
    seen = {name.strip().casefold() for name in taken if name.strip()}
    candidates: list[AttendeeSuggestion] = []
    if customer_id is not None:
        candidates += _team(session, customer_id) + _frequent(session, customer_id, limit * 2)
    if wanted:
        candidates = [c for c in candidates if wanted in c.name.casefold()]
        candidates += _starting_with(session, wanted, limit)
    out: list[AttendeeSuggestion] = []
    for candidate in candidates:
        key = candidate.name.casefold()
        if key not in seen:
            seen.add(key)
            out.append(candidate)
    return out[:limit]
