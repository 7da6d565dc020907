"""HoK coverage: each open milestone on my team with its last note and last HoK task, the engagements of a
quarter without a HoK task (drafts prefilled from the notes, approved one by one or all at once into the
outbox through the store's task code, so write-back off / ask / auto holds), and my HoK of the quarter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from callnotes.domain import FiscalQuarter, HokCategory
from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.repo.hok_coverage import approve_drafts, hok_coverage
from callnotes.web.deps import SessionDep, id_or_none, render
from callnotes.web.errors import WebError, store_error_status
from callnotes.web.task_form import CategoryChoice, category_groups
from callnotes.web.writeback import mode

router = APIRouter(include_in_schema=False)
_Quarter = Annotated[str, Query(max_length=12)]


def _quarter(text: str) -> FiscalQuarter:
    if not text.strip():
        return FiscalQuarter.of(datetime.now(UTC).date())
    try:
        return FiscalQuarter.parse(text)
    except ValueError as exc:
        raise WebError(f"{exc}; the current one is {FiscalQuarter.of(datetime.now(UTC).date()).slug}",
                       status_code=422) from None


def _page(request: Request, session: Session, quarter: FiscalQuarter, *, errors: list[str] | None = None,
          queued: int | None = None, page: int = 1, status_code: int = 200) -> HTMLResponse:
    current = FiscalQuarter.of(datetime.now(UTC).date())
    return render(request, "hok.html", status_code=status_code, active="hok",
                  coverage=hok_coverage(session, quarter, page=page), current=current,
                  choices=[current.previous().previous(), current.previous(), current],
                  categories=_hok_choices(), writeback_mode=mode(request).value,
                  errors=errors or [], queued=queued)


def _hok_choices() -> list[CategoryChoice]:
    """The editor's category picker, its hands-on-keyboard group only (a draft logs a HoK task)."""
    groups = category_groups()
    return next(choices for _, choices in groups if all(HokCategory(c.code).is_hok for c in choices))


@router.get("/hok", response_class=HTMLResponse)
def hok_page(request: Request, session: SessionDep, quarter: _Quarter = "",
             queued: Annotated[int | None, Query(ge=0, le=10_000)] = None,
             page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    """The coverage of ``quarter`` (the current one when empty), milestones page ``page``."""
    return _page(request, session, _quarter(quarter), queued=queued, page=page)


def _picks(form: FormData) -> list[tuple[int, int, int]]:
    """(note id, milestone id, category) of the draft the button names, or of every draft listed."""
    chosen = str(form.get("approve") or "")
    keys = [str(k) for k in form.getlist("draft")] if chosen == "all" else [chosen]
    picks = []
    for key in keys:
        note_text, _, milestone_text = key.partition("-")
        note_id, milestone_id = id_or_none(note_text), id_or_none(milestone_text)
        category = str(form.get(f"category_{key}") or "")
        if note_id is None or milestone_id is None or not category.isdigit() or len(category) > 10:
            raise ValidationError(f"the draft {key[:40]!r} is not one this page offered", field="drafts")
        picks.append((note_id, milestone_id, int(category)))
    return picks


async def _submitted(request: Request) -> FormData:
    """The form, read on the event loop (the database work then runs in a worker thread)."""
    return await request.form()


@router.post("/hok/approve", response_class=HTMLResponse)
def hok_approve(request: Request, session: SessionDep, form: Annotated[FormData, Depends(_submitted)],
                quarter: _Quarter = "") -> Response:
    """Queue the picked drafts as HoK tasks; back to the page, which says how many went to the outbox."""
    fiscal = _quarter(quarter)
    try:
        items = approve_drafts(session, _picks(form), mode(request))
    except (ValidationError, Conflict) as exc:
        session.rollback()
        return _page(request, session, fiscal, errors=[str(exc)], status_code=store_error_status(exc))
    query = urlencode({"quarter": fiscal.slug, "queued": len(items)})
    return RedirectResponse(f"/hok?{query}", status_code=303)
