"""Calendar import: upload an ``.ics`` file, review the meetings as draft notes, save the ones kept.

Nothing is stored until the review form is sent; a file that is not iCalendar gets a sentence on the
upload page and changes nothing. Saving is all or nothing: a meeting the store refuses (a title too
long, …) comes back on the review page with the reason, and no note is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from callnotes.store.calendar import (
    CALENDAR_FILE_MAX,
    MEETINGS_MAX,
    CalendarFileError,
    meeting_body,
    meeting_note,
    read_meetings,
)
from callnotes.store.errors import NotFound, ValidationError
from callnotes.store.repo.customers import list_customers
from callnotes.store.repo.notes import create_note, get_note
from callnotes.web.deps import SessionDep, id_or_none, render

router = APIRouter(prefix="/calendar", include_in_schema=False)


@dataclass
class DraftRow:
    """A meeting on the review form, as typed (so a refused save gives every field back)."""

    index: int
    keep: bool
    title: str
    call_date: str
    customer_id: int | None
    attendees: str
    body: str
    matched_by: str | None = None
    already_noted: bool = False


def _customers(session: SessionDep) -> list[Any]:
    return [s.customer for s in list_customers(session)]


@router.get("/import", response_class=HTMLResponse)
def upload_page(request: Request, session: SessionDep,
                saved: Annotated[str, Query(max_length=2000)] = "") -> HTMLResponse:
    notes = []
    for part in saved.split(",")[:MEETINGS_MAX]:
        note_id = id_or_none(part)
        try:
            notes += [get_note(session, note_id)] if note_id else []
        except NotFound:
            continue
    return render(request, "calendar/upload.html", active="calendar", error=None, saved=notes,
                  max_mb=CALENDAR_FILE_MAX // (1024 * 1024))


async def _file_bytes(form: FormData) -> bytes:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise CalendarFileError("Pick an .ics file exported from your calendar first.")
    data = await upload.read(CALENDAR_FILE_MAX + 1)
    return data


@router.post("/import", response_class=HTMLResponse)
async def upload(request: Request, session: SessionDep) -> HTMLResponse:
    """Read the file and show its meetings for review (nothing is saved yet)."""
    try:
        read = read_meetings(session, await _file_bytes(await request.form()))
    except CalendarFileError as exc:
        return render(request, "calendar/upload.html", status_code=400, active="calendar", error=str(exc),
                      saved=[], max_mb=CALENDAR_FILE_MAX // (1024 * 1024))
    rows = [DraftRow(i, m.customer_id is not None and not m.already_noted, m.title, m.call_date.isoformat(),
                     m.customer_id, ", ".join(m.attendees), meeting_body(m.attendees, m.description),
                     m.matched_by, m.already_noted) for i, m in enumerate(read.meetings)]
    return render(request, "calendar/review.html", active="calendar", rows=rows, skipped=read.skipped,
                  dropped=read.dropped, customers=_customers(session), errors=[])


def _rows_from(form: FormData) -> list[DraftRow]:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    count = min(int(text("count")) if text("count").isdigit() else 0, MEETINGS_MAX)
    keep = {value for value in form.getlist("keep") if isinstance(value, str)}
    return [DraftRow(i, str(i) in keep, text(f"title_{i}"), text(f"date_{i}"),
                     id_or_none(text(f"customer_{i}")), text(f"attendees_{i}"), text(f"body_{i}"))
            for i in range(count)]


def _note_of(row: DraftRow) -> Any:
    try:
        call_date = date.fromisoformat(row.call_date.strip())
    except ValueError:
        raise ValidationError(f"the date {row.call_date!r} is not a date (YYYY-MM-DD)",
                              field="call_date") from None
    attendees = [part.strip() for part in row.attendees.split(",") if part.strip()]
    return meeting_note(row.title, call_date, attendees, row.customer_id, row.body)


@router.post("/save", response_class=HTMLResponse)
async def save(request: Request, session: SessionDep) -> Response:
    """Save the kept meetings as notes, all or nothing."""
    rows = _rows_from(await request.form())
    saved: list[int] = []
    for row in (r for r in rows if r.keep):
        try:
            saved.append(create_note(session, _note_of(row)).id)
        except (ValidationError, NotFound) as exc:
            session.rollback()
            message = f"“{row.title or 'Meeting'}” ({row.call_date}): {exc}. Nothing was saved."
            return render(request, "calendar/review.html", status_code=422, active="calendar", rows=rows,
                          skipped=0, dropped=0, customers=_customers(session), errors=[message])
    if not saved:
        return render(request, "calendar/review.html", status_code=422, active="calendar", rows=rows,
                      skipped=0, dropped=0, customers=_customers(session),
                      errors=["Tick at least one meeting to save it as a note."])
    return RedirectResponse(f"/calendar/import?saved={','.join(map(str, saved))}", status_code=303)
