"""A seller's week over HTTP (SQLite and PostgreSQL): follow-ups ticked off in the note's Markdown, the
calendar import (review before saving; a file that is not iCalendar changes nothing), the quarter
report with its SVG charts and exports, template titles, attendee suggestions, search without a word."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from callnotes.config import Settings
from callnotes.domain import FiscalQuarter, HokCategory
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.models import ActionItem, Milestone, Note, Task
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.repo.people import PersonInput, create_seller, create_solution_engineer
from callnotes.store.repo.templates import TemplateInput, create_template

from .conftest import csrf_of

TODAY = datetime.now(UTC).date()


def _store(web_settings: Settings):
    engine = make_engine(web_settings.resolved_database_url())
    return engine, make_session_factory(engine)


@pytest.fixture()
def week(web_settings: Settings) -> dict[str, int]:
    engine, factory = _store(web_settings)
    try:
        with session_scope(factory) as session:
            seller = create_seller(session, PersonInput(name="Sam Seller", role="growth",
                                                        email="sam@microsoft.com"))
            se = create_solution_engineer(session, PersonInput(name="Dee Data", role="data",
                                                                email="dee@microsoft.com"))
            contoso = create_customer(session, CustomerInput(
                name="Contoso Pharma", tpid="778899", website="https://www.contoso.com",
                seller_ids=[seller.id], solution_engineer_ids=[se.id]))
            fabrikam = create_customer(session, CustomerInput(name="Fabrikam", tpid="112233",
                                                              website="fabrikam.example"))
            note = create_note(session, NoteInput(
                title="Kick-off", call_date=TODAY - timedelta(days=2), customer_id=contoso.id,
                attendees=["Ann Lee", "Bob Stone"],
                body=(f"# Kick-off\n- [ ] Send the quote due: {(TODAY - timedelta(days=1)).isoformat()}\n"
                      f"- [ ] Book the workshop due: {TODAY.isoformat()}\n- [ ] Share the roadmap\n")))
            other = create_note(session, NoteInput(body="Fabrikam sync\n- [ ] Ask about quota",
                                                   call_date=TODAY, customer_id=fabrikam.id,
                                                   attendees=["Ann Lee"]))
            template = create_template(session, TemplateInput("Discovery call", "## Attendees\n\n## Goals\n"))
            milestone = Milestone(name="Fabric POC", customer_id=contoso.id, msx_id="m-1",
                                  status_label="On Track")
            session.add(milestone)
            session.flush()
            note.milestones = [milestone]
            session.add(Task(subject="ADS", category_code=int(HokCategory.ARCHITECTURE_DESIGN_SESSION),
                             is_hok=True, duration_minutes=90, milestone_id=milestone.id, note_id=note.id))
            return {"contoso": contoso.id, "fabrikam": fabrikam.id, "note": note.id, "other": other.id,
                    "template": template.id, "milestone": milestone.id}
    finally:
        engine.dispose()


def _items(web_settings: Settings) -> dict[str, ActionItem]:
    engine, factory = _store(web_settings)
    try:
        with factory() as session:
            return {i.text: i for i in session.scalars(select(ActionItem))}
    finally:
        engine.dispose()


def _body(web_settings: Settings, note_id: int) -> str:
    engine, factory = _store(web_settings)
    try:
        with factory() as session:
            return session.get(Note, note_id).body
    finally:
        engine.dispose()


def test_follow_ups_grouped_and_ticked_off_in_the_markdown(client: TestClient, web_settings: Settings,
                                                           week: dict[str, int]) -> None:
    page = client.get("/follow-ups").text
    overdue = page.split('id="items-overdue"')[1].split("</ul>")[0]
    this_week = page.split('id="items-this-week"')[1].split("</ul>")[0]
    assert "Send the quote" in overdue and "Book the workshop" in this_week
    assert "Share the roadmap" in page.split('id="items-later"')[1] and "Fabrikam" in page
    item = _items(web_settings)["Send the quote"]
    assert client.post(f"/follow-ups/{item.id}/done").status_code == 403  # no CSRF token
    token = csrf_of(client)
    answer = client.post(f"/follow-ups/{item.id}/done", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert answer.status_code == 200 and "☑" in answer.text and "the note now says [x]" in answer.text
    assert "- [x] Send the quote" in _body(web_settings, week["note"])
    assert "Send the quote" not in client.get("/follow-ups").text.split('id="done-h"')[0]
    assert "Send the quote" in client.get("/follow-ups?show=done").text
    back = client.post(f"/follow-ups/{item.id}/reopen", data={"csrf_token": token}, follow_redirects=False)
    assert back.status_code == 303 and "- [ ] Send the quote" in _body(web_settings, week["note"])
    assert client.post("/follow-ups/999999/done", headers={"X-CSRF-Token": token}).status_code == 404


def test_follow_ups_search_and_the_note_page_panel(client: TestClient, week: dict[str, int]) -> None:
    found = client.get("/follow-ups", params={"q": "quota"}).text
    assert "Ask about quota" in found and "Send the quote" not in found
    only = client.get("/follow-ups", params={"customer_id": week["contoso"]}).text
    assert "Ask about quota" not in only and "Share the roadmap" in only
    panel = client.get(f"/notes/{week['note']}/action-items").text
    assert panel.count('<li class="action-item') == 3 and "Follow-ups" in panel
    assert f'hx-get="/notes/{week["note"]}/action-items"' in client.get(f"/notes/{week['note']}").text


ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r
BEGIN:VEVENT\r
UID:one\r
SUMMARY:Architecture review 778899\r
DTSTART:{d1}T090000Z\r
ORGANIZER;CN=Sam Seller:mailto:sam@microsoft.com\r
ATTENDEE;CN=Ann Lee:mailto:ann@contoso.com\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:two\r
SUMMARY:Quarterly sync with fabrikam\r
DTSTART;VALUE=DATE:{d2}\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:three\r
SUMMARY:Pricing call\r
DTSTART:{d2}T150000Z\r
ATTENDEE;CN=Ann Lee:mailto:ann@contoso.com\r
ATTENDEE:mailto:joe@contoso.com\r
DESCRIPTION:Agenda: the savings plan\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:four\r
SUMMARY:Team lunch\r
DTSTART:{d2}T120000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:five\r
SUMMARY:No start\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _ics() -> bytes:
    return ICS.format(d1="20261203", d2="20261204").encode()


def _count_notes(web_settings: Settings) -> int:
    engine, factory = _store(web_settings)
    try:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(Note))
    finally:
        engine.dispose()


def test_calendar_import_matches_reviews_and_saves(client: TestClient, web_settings: Settings,
                                                   week: dict[str, int]) -> None:
    token = csrf_of(client)
    review = client.post("/calendar/import", data={"csrf_token": token},
                         files={"file": ("calendar.ics", _ics(), "text/calendar")})
    assert review.status_code == 200, review.text
    page = review.text
    assert "TPID 778899 in the title" in page and "“Fabrikam” in the title" in page
    assert "attendee(s) from contoso.com" in page and "1 event(s) without a start date were skipped" in page
    assert _count_notes(web_settings) == 2  # nothing saved yet
    kept = re.findall(r'name="keep" value="(\d+)" checked', page)
    assert len(kept) == 3  # the three matched meetings; "Team lunch" is not ticked
    form = dict(re.findall(r'name="((?:title|date|customer|attendees)_\d+)" value="([^"]*)"', page))
    picked = re.findall(r'name="customer_(\d+)"><option value="">— none —</option>\s*'
                        r'(?:<option[^>]*>[^<]*</option>)*?'
                        r'<option value="(\d+)" selected', page)
    form |= {f"customer_{i}": v for i, v in picked}
    form |= dict(re.findall(r'name="(body_\d+)">([^<]*)</textarea>', page))
    form |= {"csrf_token": token, "count": "4"}
    saved = client.post("/calendar/save", data={**form, "keep": kept}, follow_redirects=True)
    assert saved.status_code == 200 and "Saved 3 notes from your calendar" in saved.text
    engine, factory = _store(web_settings)
    try:
        with factory() as session:
            notes = {n.title: n for n in session.scalars(select(Note))}
            review_note = notes["Architecture review 778899"]
            assert review_note.call_date == date(2026, 12, 3) and review_note.customer_id == week["contoso"]
            assert review_note.attendees == ["Sam Seller", "Ann Lee"]
            assert notes["Quarterly sync with fabrikam"].customer_id == week["fabrikam"]
            assert "Agenda: the savings plan" in notes["Pricing call"].body and "Team lunch" not in notes
    finally:
        engine.dispose()
    again = client.post("/calendar/import", data={"csrf_token": token},
                        files={"file": ("calendar.ics", _ics(), "text/calendar")}).text
    assert again.count("a note with this title and date exists") == 3
    assert not re.findall(r'name="keep" value="\d+" checked', again)


@pytest.mark.parametrize("content", [b"not a calendar at all", b"BEGIN:VCARD\r\nFN:Ann\r\nEND:VCARD\r\n",
                                     b"\xff\xfe\x00garbage", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", b""])
def test_a_file_that_is_not_icalendar_gets_a_sentence_and_changes_nothing(
        client: TestClient, web_settings: Settings, week: dict[str, int], content: bytes) -> None:
    answer = client.post("/calendar/import", data={"csrf_token": csrf_of(client)},
                         files={"file": ("notes.ics", content, "text/calendar")})
    assert answer.status_code == 400
    sentence = re.search(r'id="calendar-error">([^<]+)<', answer.text).group(1)
    assert "iCalendar" in sentence or "no meetings" in sentence
    assert _count_notes(web_settings) == 2


def test_calendar_save_is_all_or_nothing(client: TestClient, web_settings: Settings,
                                         week: dict[str, int]) -> None:
    token = csrf_of(client)
    form = {"csrf_token": token, "count": "2", "keep": ["0", "1"], "title_0": "Good", "date_0": "2026-12-01",
            "title_1": "Bad date", "date_1": "yesterday", "attendees_0": "Ann", "body_0": "x", "body_1": "y"}
    answer = client.post("/calendar/save", data=form)
    assert answer.status_code == 422 and "Nothing was saved" in answer.text and "yesterday" in answer.text
    assert _count_notes(web_settings) == 2
    assert client.post("/calendar/save", data={"csrf_token": token, "count": "1", "title_0": "x",
                                               "date_0": "2026-12-01"}).status_code == 422  # none ticked


def test_quarter_report_with_charts_and_exports(client: TestClient, week: dict[str, int]) -> None:
    quarter = FiscalQuarter.of(TODAY)
    page = client.get("/report").text
    assert f"<h1>{quarter.label}" in page
    chart = page.split('id="chart-customers"')[1].split("</figure>")[0]
    assert "<svg" in chart and chart.count('class="bar-fill"') == 2 and "Contoso Pharma" in chart
    assert "Architecture Design Session" in page.split('id="chart-hok"')[1].split("</figure>")[0]
    assert "Fabric POC" in page.split('id="milestones-touched"')[1]
    assert "<script" not in page.split("<main")[1] and 'style="' not in page
    markdown = client.get(f"/report.md?quarter={quarter.slug}")
    assert markdown.headers["content-disposition"] == f'attachment; filename="callnotes-{quarter.slug}.md"'
    assert "| Contoso Pharma | 1 |" in markdown.text
    assert "| Architecture Design Session | 1 | 90 |" in markdown.text
    rows = list(csv.reader(io.StringIO(client.get(f"/report.csv?quarter={quarter.slug}").text)))
    assert rows[0] == ["quarter", "section", "label", "detail", "count", "minutes", "hok_tasks"]
    assert [quarter.slug, "hok by category", "Architecture Design Session", "", "1", "90", "0"] in rows
    empty = client.get(f"/report?quarter={quarter.previous().previous().slug}").text
    assert "Nothing in this quarter." in empty
    assert client.get("/report?quarter=Q5-2026").status_code == 422


def test_template_gives_its_name_as_title(client: TestClient, web_settings: Settings,
                                          week: dict[str, int]) -> None:
    token = csrf_of(client)
    inserted = client.post("/editor/template",
                           data={"template_id": week["template"], "body": "", "title": ""},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"}).text
    assert 'id="title"' in inserted and 'value="Discovery call"' in inserted
    assert 'hx-swap-oob="true"' in inserted
    typed = client.post("/editor/template", data={"template_id": week["template"], "title": "My own"},
                        headers={"X-CSRF-Token": token, "HX-Request": "true"}).text
    assert 'id="title"' not in typed
    saved = client.post("/notes", data={"csrf_token": token, "title": "",
                                        "template_id": str(week["template"]),
                                        "body": "## Attendees\nAnn\n\n## Goals\n",
                                        "call_date": "2026-12-01", "customer_id": "", "draft_key": ""},
                        follow_redirects=True)
    assert saved.status_code == 200 and re.search(r'<h1 id="note-title">Discovery call</h1>', saved.text)


def test_attendee_suggestions_from_the_account_team_and_earlier_calls(client: TestClient,
                                                                      week: dict[str, int]) -> None:
    names = re.findall(r'data-add-attendee="([^"]+)"',
                       client.get("/editor/attendees", params={"customer_id": week["contoso"]}).text)
    assert names[:2] == ["Sam Seller", "Dee Data"] and {"Ann Lee", "Bob Stone"} <= set(names)
    narrowed = client.get("/editor/attendees", params={"customer_id": week["contoso"],
                                                       "attendees": "Ann Lee, bo"}).text
    assert re.findall(r'data-add-attendee="([^"]+)"', narrowed) == ["Bob Stone"]
    anyone = client.get("/editor/attendees", params={"attendees": "an"}).text
    assert "Ann Lee" in anyone
    editor = client.get(f"/notes/new?customer_id={week['contoso']}").text
    assert 'hx-get="/editor/attendees"' in editor
    assert 'id="title" name="title" value="" maxlength="300" class="full" autofocus' in editor
    assert 'data-suggestions="#customer-suggestions"' in editor and "Add a follow-up" in editor


def test_search_without_a_word_by_customer_attendee_topic_and_newest_first(client: TestClient,
                                                                           week: dict[str, int]) -> None:
    def note_links(html: str) -> list[str]:
        return re.findall(r'<a href="/notes/(\d+)">', html)

    by_attendee = client.get("/search", params={"attendee": "ann lee"}).text
    assert note_links(by_attendee) == [str(week["other"]), str(week["note"])]
    assert "newest first" in by_attendee
    by_customer = client.get("/search", params={"customer_id": week["fabrikam"]}).text
    assert note_links(by_customer) == [str(week["other"])]
    newest = client.get("/search", params={"q": "quota OR roadmap", "order": "newest"}).text
    assert "follow-up" not in newest.split('id="search-results"')[1]
    items = client.get("/search", params={"q": "roadmap"}).text
    assert "follow-up" in items and f'/notes/{week["note"]}#note-action-items' in items


def test_pages_have_a_skip_link_a_menu_button_and_the_new_pages(client: TestClient) -> None:
    page = client.get("/").text
    assert page.index('class="skip-link" href="#main"') < page.index('<nav class="nav"')
    assert 'class="nav-toggle" aria-expanded="false" aria-controls="nav-links"' in page
    for link in ("/follow-ups", "/report", "/calendar/import"):
        assert f'href="{link}"' in page
    assert client.get("/static/keys.js").status_code == 200
    assert client.get("/static/pages.css").status_code == 200
