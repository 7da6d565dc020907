"""Home page: recent notes, drafts, milestones due soon, pending CRM writes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.models import Customer, Draft, Note
from callnotes.web.deps import SessionDep, render
from callnotes.web.routes.milestones import DUE_SOON_DAYS, milestones_due

router = APIRouter(include_in_schema=False)


def recent_notes(session: Session, limit: int = 10) -> list[Note]:
    query = (
        select(Note)
        .options(selectinload(Note.customer), selectinload(Note.topics))
        .order_by(Note.call_date.desc(), Note.created_at.desc(), Note.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def drafts(session: Session) -> list[tuple[Draft, str | None]]:
    """Drafts, newest first, each with its customer's name."""
    query = (
        select(Draft, Customer.name)
        .outerjoin(Customer, Customer.id == Draft.customer_id)
        .order_by(Draft.updated_at.desc())
        .limit(20)
    )
    return [(draft, name) for draft, name in session.execute(query)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "home.html",
        active="home",
        notes=recent_notes(session),
        drafts=drafts(session),
        milestones=milestones_due(session),
        pending=[],  # the outbox lands with write-back (issue 9)
        due_days=DUE_SOON_DAYS,
    )
