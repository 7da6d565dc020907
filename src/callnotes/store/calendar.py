"""Calendar import: an ``.ics`` file (what Outlook and Teams export) → meetings → draft notes.

The file is read with the ``icalendar`` library (RFC 5545). Each ``VEVENT`` becomes a
:class:`Meeting` with its title, date (the day in the meeting's own time zone), attendees (name, else
e-mail address; the organizer too) and the customer it is about, found in this order:

1. a customer's **TPID** written in the title;
2. a customer's **name** in the title (whole words, any case; the longest name wins);
3. an attendee's **e-mail domain** that is the domain of a customer's website (``contoso.com`` for
   ``https://www.contoso.com``; the customer with most such attendees wins).

Nothing is stored here: the web page shows the meetings for review and saves the ones kept as notes
(:func:`meeting_note`). A file that is not iCalendar raises :class:`CalendarFileError` with a sentence;
an event without a usable start is skipped and counted. Recurring events are read once, at their
first date (the exported instances of a series are separate events in Outlook's export).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlparse

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.errors import ImportFileError
from callnotes.store.limits import NOTE_ATTENDEE_MAX, NOTE_ATTENDEES_MAX, NOTE_TITLE_MAX
from callnotes.store.models import Customer, Note
from callnotes.store.repo.notes import NoteInput

#: Largest calendar file read, and most meetings shown for review (the newest are kept; each is six
#: form fields, and a form holds at most 1,000).
CALENDAR_FILE_MAX = 10 * 1024 * 1024
MEETINGS_MAX = 150
_DESCRIPTION_MAX = 4000


class CalendarFileError(ImportFileError):
    """The file is not an iCalendar file (or holds no meetings); nothing was changed."""


@dataclass(frozen=True)
class Meeting:
    """One calendar event, as a draft note. ``matched_by`` says why ``customer_id`` was picked."""

    uid: str
    title: str
    call_date: date
    attendees: list[str]
    description: str = ""
    customer_id: int | None = None
    matched_by: str | None = None
    already_noted: bool = False


@dataclass(frozen=True)
class CalendarRead:
    meetings: list[Meeting]
    skipped: int = 0
    dropped: int = 0


@dataclass
class _Customer:
    id: int
    name: str
    tpid: str | None
    domain: str | None


@dataclass
class _Matcher:
    customers: list[_Customer] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session) -> _Matcher:
        rows = session.execute(select(Customer.id, Customer.name, Customer.tpid, Customer.website))
        return cls([_Customer(i, name, tpid, _domain_of_site(site)) for i, name, tpid, site in rows])

    def match(self, title: str, emails: list[str]) -> tuple[int | None, str | None]:
        lowered = title.casefold()
        for customer in self.customers:
            if customer.tpid and re.search(rf"(?<!\d){re.escape(customer.tpid)}(?!\d)", title):
                return customer.id, f"TPID {customer.tpid} in the title"
        named = [c for c in self.customers if re.search(rf"\b{re.escape(c.name.casefold())}\b", lowered)]
        if named:
            best = max(named, key=lambda c: len(c.name))
            return best.id, f"“{best.name}” in the title"
        domains = Counter(email.rsplit("@", 1)[-1].casefold() for email in emails if "@" in email)
        by_domain = [(domains[c.domain], c) for c in self.customers if c.domain and domains[c.domain]]
        if by_domain:
            count, best = max(by_domain, key=lambda pair: pair[0])
            return best.id, f"{count} attendee(s) from {best.domain}"
        return None, None


def _domain_of_site(website: str | None) -> str | None:
    if not website:
        return None
    host = urlparse(website if "//" in website else f"//{website}").hostname or ""
    host = host.casefold().removeprefix("www.")
    return host or None


def _people(event: Any) -> tuple[list[str], list[str]]:
    """(names as they go on the note, e-mail addresses) of the organizer and the attendees."""
    names: list[str] = []
    emails: list[str] = []
    for key in ("ORGANIZER", "ATTENDEE"):
        values = event.get(key)
        for address in values if isinstance(values, list) else [values] if values is not None else []:
            email = str(address).removeprefix("mailto:").removeprefix("MAILTO:").strip()
            name = str(address.params.get("CN", "")).strip() or email
            if email:
                emails.append(email)
            if name and name.casefold() not in {n.casefold() for n in names}:
                names.append(name[:NOTE_ATTENDEE_MAX])
    return names[:NOTE_ATTENDEES_MAX], emails


def _day(event: Any) -> date | None:
    try:
        start = event.decoded("DTSTART")
    except (KeyError, ValueError, TypeError):
        return None
    if isinstance(start, datetime):
        return start.date()
    return start if isinstance(start, date) else None


def _parse(data: bytes) -> Any:
    if len(data) > CALENDAR_FILE_MAX:
        raise CalendarFileError(f"The file is larger than {CALENDAR_FILE_MAX // (1024 * 1024)} MB; "
                                "export a shorter period from your calendar.")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError):
        calendar = None
    if calendar is None or calendar.name != "VCALENDAR":
        raise CalendarFileError("This file is not an iCalendar (.ics) file. In Outlook use File → Save "
                                "Calendar, or “Export” in Teams, and pick the .ics file it writes.")
    return calendar


def read_meetings(session: Session, data: bytes) -> CalendarRead:
    """The meetings of an ``.ics`` file, newest first, matched to customers (nothing is stored)."""
    events = _parse(data).walk("VEVENT")
    matcher = _Matcher.load(session)
    meetings: list[Meeting] = []
    skipped = 0
    for number, event in enumerate(events):
        day = _day(event)
        title = " ".join(str(event.get("SUMMARY", "")).split())[:NOTE_TITLE_MAX]
        if day is None:
            skipped += 1
            continue
        names, emails = _people(event)
        customer_id, matched_by = matcher.match(title, emails)
        description = str(event.get("DESCRIPTION", "")).strip()[:_DESCRIPTION_MAX]
        uid = str(event.get("UID", "")) or f"event-{number}"
        meetings.append(Meeting(uid, title or "Meeting", day, names, description, customer_id, matched_by))
    if not meetings:
        extra = f" ({skipped} event(s) without a start date were skipped.)" if skipped else ""
        raise CalendarFileError(f"The calendar file holds no meetings with a date; nothing to import.{extra}")
    meetings.sort(key=lambda m: (m.call_date, m.title), reverse=True)
    kept = _flag_noted(session, meetings[:MEETINGS_MAX])
    return CalendarRead(kept, skipped, max(0, len(meetings) - MEETINGS_MAX))


def _flag_noted(session: Session, meetings: list[Meeting]) -> list[Meeting]:
    """Mark meetings a note already exists for (same title and date), so a second import of the same
    file does not make them twice."""
    days = {m.call_date for m in meetings}
    rows = session.execute(select(Note.title, Note.call_date).where(Note.call_date.in_(days)))
    existing = {(title, day) for title, day in rows}
    return [Meeting(**{**m.__dict__, "already_noted": (m.title, m.call_date) in existing}) for m in meetings]


def meeting_body(attendees: list[str], description: str) -> str:
    """The draft note's Markdown: attendees, the invitation's text as agenda, room for notes."""
    parts = ["## Attendees", *(f"- {name}" for name in attendees)] if attendees else []
    if description:
        parts += ["", "## Agenda", description]
    parts += ["", "## Notes", "", "## Next steps", "- [ ] "]
    return "\n".join(parts).lstrip("\n")


def meeting_note(title: str, call_date: date, attendees: list[str], customer_id: int | None,
                 body: str) -> NoteInput:
    """The note a reviewed meeting becomes (the store's rules apply when it is created)."""
    return NoteInput(body=body, call_date=call_date, title=title, customer_id=customer_id,
                     attendees=attendees)
