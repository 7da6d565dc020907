"""The home page's "Refresh now" in the browser (real headless Chromium, app under real uvicorn with its
worker, CRM = the emulator): the first click imports (nothing was imported yet), a milestone renamed in
MSX is the one change of the next click, and "Last refreshed …" tells the time and the number of changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from callnotes.config import Settings
from callnotes.emulator import EmulatorServer
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.e2e.pages import watched_page
from tests.fixtures.emulator import web_api_client

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 20_000


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A page that fails the test on any console error (a CSP violation, a script error)."""
    context: BrowserContext = browser.new_context()
    context.set_default_timeout(_TIMEOUT_MS)
    try:
        with watched_page(context, noise=()) as page:
            yield page
    finally:
        context.close()


def test_refresh_now_on_home_brings_changes_and_says_when(page: Page, fresh_emulator: EmulatorServer,
                                                          tmp_path: Path) -> None:
    settings = Settings(crm_url=fresh_emulator.api_url, auth="emulator", data_dir=tmp_path / "data",
                        database_url=f"sqlite:///{tmp_path / 'e2e.db'}", queue_name="e2e-refresh")
    dataset = fresh_emulator.service.dataset
    mine = {a.lower() for a in dataset.my_account_ids}
    milestone = next(m for m in sorted(dataset.database.table("msp_engagementmilestone").rows.values(),
                                       key=lambda m: str(m["msp_engagementmilestoneid"]))
                     if str(m["msp_parentaccount"]).lower() in mine)
    with running_server(create_app(settings)) as base:
        page.goto(base)
        expect(page.locator("#refresh-line")).to_have_text("Not refreshed yet.")
        page.click("#refresh-now")
        expect(page.locator("#refresh-line")).to_contain_text("Last refreshed")
        with web_api_client(fresh_emulator, json_body=True) as other:
            other.patch(f"msp_engagementmilestones({milestone['msp_engagementmilestoneid']})",
                        json={"msp_name": "Renamed while you were away"}).raise_for_status()
        page.click("#refresh-now")
        expect(page.locator("#refresh-line")).to_contain_text("· 1 change")
        expect(page.locator("#refresh-now")).to_be_visible()
