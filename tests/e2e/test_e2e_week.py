"""A seller's week in real headless Chromium, at a laptop's width (1366 px) and a phone's (390 px):

* a note written from the keyboard (customer picked with the arrow keys, focus moving on, the
  template's name as title, an attendee suggested from the account team, a follow-up with a date
  picked), then ticked off in the follow-ups list — the note's Markdown says ``[x]``;
* an ``.ics`` file read, reviewed (one meeting unticked, one customer changed) and saved as notes —
  after a file that is not iCalendar was refused with a sentence;
* the quarter report with its SVG charts, and its CSV export;
* the menu collapsed behind a button on a phone, no page wider than the screen, the skip link and
  the ``/`` shortcut.

Every page is checked for console errors (a CSP violation or a script error fails the test).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from callnotes.config import Settings
from callnotes.domain import FiscalQuarter, HokCategory
from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.models import Milestone, Task
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.repo.people import PersonInput, create_seller, create_solution_engineer
from callnotes.store.repo.templates import TemplateInput, create_template
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.e2e.pages import assert_fits, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 15_000
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
TODAY = datetime.now(UTC).date()


def _seed(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        seller = create_seller(session, PersonInput(name="Sam Seller", role="growth",
                                                    email="sam@microsoft.com"))
        se = create_solution_engineer(session, PersonInput(name="Dee Data", role="data",
                                                            email="dee@microsoft.com"))
        contoso = create_customer(session, CustomerInput(
            name="Contoso Pharma", tpid="778899", website="https://contoso.com", seller_ids=[seller.id],
            solution_engineer_ids=[se.id]))
        create_customer(session, CustomerInput(name="Fabrikam Retail", tpid="112233"))
        create_template(session, TemplateInput("Discovery call", "## Attendees\n\n## Goals\n"))
        note = create_note(session, NoteInput(body="Design session notes", title="ADS with the platform team",
                                              call_date=TODAY, customer_id=contoso.id))
        milestone = Milestone(name="Fabric POC complete", customer_id=contoso.id, msx_id="m-e2e",
                              status_label="At Risk", milestone_date=TODAY + timedelta(days=20))
        session.add(milestone)
        session.flush()
        note.milestones = [milestone]
        session.add(Task(subject="ADS", category_code=int(HokCategory.ARCHITECTURE_DESIGN_SESSION),
                         is_hok=True, duration_minutes=120, milestone_id=milestone.id, note_id=note.id))
    engine.dispose()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


@pytest.fixture()
def base(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'week.db'}"
    _seed(url)
    settings = Settings(database_url=url, data_dir=tmp_path / "data", crm_url=None)
    with running_server(create_app(settings)) as server:
        yield server


@pytest.fixture()
def context(browser: Browser, viewport: dict[str, int]) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on a console error (a CSP violation, a script error)."""
    with watched_page(context, ("status of 4",)) as page:
        yield page


def _active_id(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_note_from_the_keyboard_and_its_follow_up_ticked_off(page: Page, base: str) -> None:
    page.goto(f"{base}/notes/new")
    assert _active_id(page) == "customer_q"  # no Tabs needed to reach the customer
    page.keyboard.type("Cont")
    expect(page.locator("#customer-suggestions button").first).to_contain_text("Contoso Pharma")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#customer-picked")).to_contain_text("Contoso Pharma")
    expect(page.locator("#title")).to_be_focused()  # focus moved on, not lost
    page.select_option("#template", label="Discovery call")
    expect(page.locator("#title")).to_have_value("Discovery call")
    expect(page.locator("#body")).to_have_value(re.compile("## Goals"))
    page.locator("#attendee-suggestions button", has_text="Sam Seller").click()
    expect(page.locator("#attendees")).to_have_value(re.compile("Sam Seller"))
    page.fill("#new-action", "Send the sizing sheet")
    page.fill("#new-action-due", (TODAY - timedelta(days=1)).isoformat())
    page.click("#add-action")
    expect(page.locator("#body")).to_have_value(
        re.compile(r"- \[ \] Send the sizing sheet due: \d{4}-\d\d-\d\d"))
    page.focus("#body")
    page.keyboard.press("Control+s")
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    note_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#note-title")).to_have_text("Discovery call")
    expect(page.locator("#note-action-items")).to_contain_text("Send the sizing sheet")

    page.goto(f"{base}/follow-ups")
    assert_fits(page)
    row = page.locator("#items-overdue li", has_text="Send the sizing sheet")
    expect(row).to_be_visible()
    row.locator("button.tick-box").click()
    expect(page.locator("li.action-item.done", has_text="Send the sizing sheet")).to_contain_text(
        "the note now says [x]")
    body = httpx.get(f"{base}/api/notes/{note_id}", timeout=10).json()["body"]
    assert "- [x] Send the sizing sheet" in body
    page.goto(f"{base}/follow-ups")
    expect(page.locator("#items-overdue")).to_have_count(0)
    page.goto(f"{base}/notes/{note_id}")
    expect(page.locator("#note-action-items li.done")).to_contain_text("Send the sizing sheet")


def _ics(folder: Path) -> Path:
    day = (TODAY + timedelta(days=1)).strftime("%Y%m%d")
    path = folder / "calendar.ics"
    path.write_bytes(("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook//EN\r\n"
                      "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Contoso Pharma architecture review\r\n"
                      f"DTSTART:{day}T090000Z\r\nORGANIZER;CN=Sam Seller:mailto:sam@microsoft.com\r\n"
                      "ATTENDEE;CN=Ann Lee:mailto:ann@contoso.com\r\nEND:VEVENT\r\n"
                      "BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Pricing call\r\n"
                      f"DTSTART:{day}T140000Z\r\nATTENDEE;CN=Joe:mailto:joe@contoso.com\r\nEND:VEVENT\r\n"
                      "BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Renewal 112233\r\n"
                      f"DTSTART;VALUE=DATE:{day}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode())
    return path


def test_calendar_file_reviewed_then_saved_as_notes(page: Page, base: str, tmp_path: Path) -> None:
    page.goto(f"{base}/calendar/import")
    not_ics = tmp_path / "minutes.ics"
    not_ics.write_text("These are meeting minutes, not a calendar.", encoding="utf-8")
    page.set_input_files("#ics-file", str(not_ics))
    page.click("#calendar-upload button[type=submit]")
    expect(page.locator("#calendar-error")).to_contain_text("not an iCalendar (.ics) file")
    page.set_input_files("#ics-file", str(_ics(tmp_path)))
    page.click("#calendar-upload button[type=submit]")
    expect(page.locator("fieldset.meeting")).to_have_count(3)
    assert_fits(page)
    review = page.locator("fieldset.meeting",
                          has=page.locator("input[value='Contoso Pharma architecture review']"))
    expect(review).to_contain_text("“Contoso Pharma” in the title")
    pricing = page.locator("fieldset.meeting", has=page.locator("input[value='Pricing call']"))
    expect(pricing).to_contain_text("1 attendee(s) from contoso.com")
    renewal = page.locator("fieldset.meeting", has=page.locator("input[value='Renewal 112233']"))
    expect(renewal).to_contain_text("TPID 112233 in the title")
    pricing.locator("input[name=keep]").uncheck()
    renewal.locator("select").select_option(label="Contoso Pharma")
    page.click("#save-meetings")
    expect(page.locator("#calendar-saved")).to_contain_text("Saved 2 notes from your calendar")
    page.locator("#calendar-saved a", has_text="Renewal 112233").click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    expect(page.locator("main")).to_contain_text("Contoso Pharma")
    expect(page.locator("main")).to_contain_text((TODAY + timedelta(days=1)).isoformat())


def test_quarter_report_chart_and_csv(page: Page, base: str, tmp_path: Path) -> None:
    quarter = FiscalQuarter.of(TODAY)
    page.goto(f"{base}/report")
    expect(page.locator("h1")).to_contain_text(quarter.label)
    chart = page.locator("#chart-hok svg.bar-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar-fill")).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= page.viewport_size["width"]
    expect(page.locator("#chart-hok")).to_contain_text("Architecture Design Session")
    expect(page.locator("#milestones-touched")).to_contain_text("Fabric POC complete")
    assert_fits(page)
    with page.expect_download() as download:
        page.click("#export-csv")
    target = tmp_path / "report.csv"
    download.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [quarter.slug, "hok by category", "Architecture Design Session", "", "1", "120", "0"] in rows
    page.click(f"text=← {quarter.previous().label}")
    expect(page.locator("h1")).to_contain_text(quarter.previous().label)


def test_menu_skip_link_and_search_shortcut(page: Page, base: str, viewport: dict[str, int]) -> None:
    page.goto(f"{base}/")
    links = page.locator("#nav-links")
    toggle = page.locator(".nav-toggle")
    if viewport["width"] < 820:
        expect(links).to_be_hidden()
        nav_height = page.locator("#nav").bounding_box()["height"]
        assert nav_height < 80, f"the collapsed menu takes {nav_height}px"
        toggle.click()
        expect(links).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        toggle.click()
        expect(links).to_be_hidden()
    else:
        expect(toggle).to_be_hidden()
        expect(links).to_be_visible()
    for path in ("/", "/follow-ups", "/search", "/milestones", "/notes/new", "/calendar/import"):
        page.goto(f"{base}{path}")
        assert_fits(page)
    page.goto(f"{base}/follow-ups")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#nav-search")).to_be_focused()
    page.keyboard.type("design")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=design"))
    expect(page.locator("#search-results")).to_contain_text("ADS with the platform team")
    page.goto(f"{base}/search?attendee=&customer_id=1")
    expect(page.locator("#search-results")).to_contain_text("newest first")
