"""A seller's week, second part, in real headless Chromium at 1366 px and 390 px:

* the customer page first things first: the newest notes (20, then "More notes" through htmx), the
  active milestones with the overdue one flagged, the open opportunities (a new close date and a
  deal-team join queued for MSX from their row), the account team collapsed;
* the milestone tracker: filters picked in the form land in a shareable URL and combine, a column
  sorted, a milestone starred and found again under "Favourites", closed ones only when asked;
* HoK coverage → outbox: a draft prefilled from a note approved into the outbox (write-back ``ask``),
  then the others all at once.

No page is wider than the screen; every page is checked for console errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from callnotes.config import Settings, save_preferences
from callnotes.domain import SellerType, SeSpecialty
from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.models import Customer, Milestone, Opportunity, Seller, SolutionEngineer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.e2e.pages import assert_fits, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 15_000
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
TODAY = datetime.now(UTC).date()


def _team(session: object, customers: list[Customer]) -> None:
    """Me (a Data SE on every account), 3 sellers, and 6 SEs of every kind on the first account."""
    me = SolutionEngineer(name="Me Myself", specialty=SeSpecialty.DATA, msx_id="me")
    sellers = [
        Seller(name=f"Seller {n}", seller_type=list(SellerType)[n % 2], msx_id=f"s{n}") for n in range(3)
    ]
    engineers = [
        SolutionEngineer(
            name=f"Engineer {n}",
            specialty=list(SeSpecialty)[n % 3],
            msx_id=f"e{n}",
            email=f"e{n}@microsoft.com",
        )
        for n in range(6)
    ]
    customers[0].sellers, customers[0].solution_engineers = sellers, [me, *engineers]
    for customer in customers[1:]:
        customer.solution_engineers = [me]


def _seed(url: str) -> dict[str, int]:
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        contoso, fabrikam = Customer(name="Contoso Pharma", tpid="778899"), Customer(name="Fabrikam Retail")
        session.add_all([contoso, fabrikam])
        session.flush()
        _team(session, [contoso, fabrikam])

        def milestone(name: str, customer: Customer, days: int, status: str, team: bool) -> Milestone:
            row = Milestone(
                name=name,
                customer_id=customer.id,
                status_label=status,
                on_my_team=team,
                milestone_date=TODAY + timedelta(days=days),
                msx_id=str(uuid.uuid4()),
                commitment="Committed",
                workload="Azure AI",
            )
            session.add(row)
            return row

        late = milestone("Migration wave 1", contoso, -40, "On Track", True)
        milestone("Fabric POC", contoso, 15, "At Risk", True)
        milestone("Old pilot", contoso, -10, "Completed", True)
        milestone("Retail analytics", fabrikam, 25, "Blocked", False)
        milestone("Store rollout", fabrikam, 60, "On Track", True)
        opportunity = Opportunity(
            name="Contoso AI platform",
            customer_id=contoso.id,
            state="Open",
            stage="Propose",
            estimated_value=480_000.0,
            estimated_close_date=TODAY + timedelta(days=45),
            owner_name="Olga Owner",
            msx_id=str(uuid.uuid4()),
        )
        session.add(opportunity)
        session.flush()
        for n in range(30):
            create_note(
                session,
                NoteInput(
                    body="Notes",
                    title=f"Call {n:02d}",
                    call_date=TODAY - timedelta(days=n),
                    customer_id=contoso.id,
                    milestone_ids=[late.id] if n < 3 else [],
                ),
            )
        ids = {"contoso": contoso.id, "late": late.id, "opportunity": opportunity.id}
    engine.dispose()
    return ids


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    ids = _seed(url)
    settings = Settings(database_url=url, data_dir=tmp_path / "data", crm_url=None)
    save_preferences(settings, writeback="ask")
    with running_server(create_app(settings)) as server:
        yield server, ids


@pytest.fixture()
def context(browser: Browser, viewport: dict[str, int]) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    with watched_page(context, ("status of 4",)) as page:
        yield page


def _top(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["y"]


def test_customer_page_shows_first_things_first(page: Page, app: tuple[str, dict[str, int]]) -> None:
    base, ids = app
    page.goto(f"{base}/customers/{ids['contoso']}")
    tops = [
        _top(page, f"#{panel}")
        for panel in ("notes-panel", "milestones-panel", "opportunities-panel", "team-panel")
    ]
    assert tops == sorted(tops)
    notes = page.locator("#customer-notes li.customer-note")
    expect(notes).to_have_count(20)
    expect(notes.first).to_contain_text("Call 00")
    assert_fits(page)
    page.click("#more-notes-button")
    expect(notes).to_have_count(30)
    expect(page.locator("#more-notes-button")).to_have_count(0)
    late = page.locator(f"#milestone-{ids['late']}")
    expect(late.locator(".overdue-flag")).to_be_visible()
    expect(page.locator("#customer-milestones")).not_to_contain_text("Old pilot")
    expect(page.locator("#customer-opportunities")).to_contain_text("Propose")
    expect(page.locator("#customer-opportunities")).to_contain_text("480,000")
    writes = page.locator(f"#opportunity-writes-{ids['opportunity']}")  # a later close date, for MSX
    writes.locator("input[name=close_date]").fill((TODAY + timedelta(days=75)).isoformat())
    writes.get_by_role("button", name="Move").click()
    expect(page.locator(f"#opportunity-writes-{ids['opportunity']} .close-date-change")).to_contain_text(
        "Waiting for approval")
    writes.get_by_role("button", name="Join deal team").click()
    expect(page.locator(f"#opportunity-writes-{ids['opportunity']} .deal-team")).to_contain_text(
        "Joining the deal team")
    expect(page.locator("#team-mine li")).to_have_count(6)  # 3 sellers, the Data SEs: me, Engineer 0 and 3
    expect(page.locator("#team-rest li").first).to_be_hidden()
    page.click("#team-rest summary")
    expect(page.locator("#team-rest li")).to_have_count(4)
    expect(page.locator("#team-rest li").first).to_be_visible()
    assert_fits(page)


def test_tracker_filters_sort_and_favourites(page: Page, app: tuple[str, dict[str, int]]) -> None:
    base, _ids = app
    page.goto(f"{base}/milestones")
    rows = page.locator("#milestones tbody tr")
    expect(rows).to_have_count(4)  # the completed one is hidden
    expect(page.locator("#glance-overdue strong")).to_have_text("1")
    assert_fits(page)
    page.check("input[name=status][value='At Risk']")
    page.check("input[name=status][value='On Track']")
    page.check("#filter-team")
    page.click("#apply-filters")
    page.wait_for_url("**status=At+Risk**")
    assert "team=1" in page.url and "status=On+Track" in page.url
    expect(rows).to_have_count(3)
    expect(page.locator("#milestones")).not_to_contain_text("Retail analytics")
    if page.viewport_size and page.viewport_size["width"] > 600:
        page.click("#sort-name")  # the column's header
    else:  # a phone stacks the rows: the form's "Sort by"
        page.select_option("#filter-sort", "name")
        page.click("#apply-filters")
    page.wait_for_url("**sort=name**")
    expect(rows.first.locator(".milestone-name")).to_have_text("Fabric POC")
    assert "team=1" in page.url  # sorting keeps the filters
    star = rows.first.locator("button.star")
    star.click()
    expect(rows.first.locator("button.star")).to_have_attribute("aria-pressed", "true")
    page.goto(f"{base}/milestones?favourites=1")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Fabric POC")
    page.goto(f"{base}/milestones?overdue=1")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".overdue-flag")).to_be_visible()
    page.goto(f"{base}/milestones?sort=name")
    page.click("#show-closed-link")
    page.wait_for_url("**closed=1**")
    expect(page.locator("#milestones")).to_contain_text("Old pilot")
    page.goto(f"{base}/milestones?quarter=FY1-Q9")
    expect(page.locator("#tracker-errors")).to_contain_text("fiscal quarter")
    assert_fits(page)


def test_hok_coverage_drafts_go_to_the_outbox(page: Page, app: tuple[str, dict[str, int]]) -> None:
    base, _ids = app
    page.goto(f"{base}/hok")
    drafts = page.locator("#hok-drafts li.hok-draft")
    expect(drafts).to_have_count(3)
    expect(drafts.first).to_contain_text("Call 00")
    expect(page.locator("#hok-milestones")).to_contain_text("no HoK task")
    assert_fits(page)
    drafts.first.locator("select").select_option(label="Workshop (HoK)")
    drafts.first.locator("button.approve-one").click()
    expect(page.locator("#hok-queued")).to_contain_text("1 HoK task waits in the outbox for your approval")
    expect(drafts).to_have_count(2)
    page.click("#approve-all")
    expect(page.locator("#hok-queued")).to_contain_text("2 HoK tasks wait")
    expect(page.locator("#no-drafts")).to_be_visible()
    page.goto(f"{base}/outbox")
    body = page.locator("main")
    expect(body).to_contain_text("Call 00")
    expect(body).to_contain_text("Call 02")
    assert_fits(page)
