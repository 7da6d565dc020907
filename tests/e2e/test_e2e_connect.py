"""Connecting to MSX in the browser (issue 10), real headless Chromium against the app under real
uvicorn: the first-run screen → "Connect to MSX" → the connection settings → "Sign in" shows a device
code, which the test approves at the emulator's /devicelogin in a second page (as the user would in
another tab) → the page updates itself to signed in → import → the header badge names the user.
Sign-in goes through the real MSAL library to the emulator's identity endpoints over HTTPS
(``CALLNOTES_AUTHORITY_HOST``)."""

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
from tests.fixtures.signin import CLIENT_ID, TENANT, trust_emulator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 20_000


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(ignore_https_errors=True)  # the emulator's throw-away certificate
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any console error (a CSP violation, a script error)."""
    with watched_page(context) as page:
        yield page


def test_first_run_connect_with_a_device_code_import_and_the_badge_names_the_user(
    page: Page, context: BrowserContext, tls_emulator: EmulatorServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust_emulator(monkeypatch, tls_emulator)
    monkeypatch.delenv("CALLNOTES_DEMO_CRM_URL", raising=False)
    monkeypatch.setenv("CALLNOTES_DATA_DIR", str(tmp_path / "data"))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}", authority_host=tls_emulator.url)
    user = tls_emulator.app.state.issuer.identity.name
    with running_server(create_app(settings)) as base:
        page.goto(f"{base}/")
        expect(page.locator("#connection-badge")).to_contain_text("Demo")
        page.click("#first-run-link")
        expect(page.locator("#welcome-msx")).to_contain_text("az login --tenant")
        expect(page.locator("#connection-check-list")).to_be_visible()
        page.click("#welcome-connect")

        page.fill("#conn-crm-url", tls_emulator.url)
        page.check("#conn-auth-device-code")
        page.fill("#conn-tenant", TENANT)
        page.fill("#conn-client-id", "not-a-guid")
        page.click("#connection-save")
        expect(page.locator("#connection-errors")).to_contain_text("client id must be a GUID")
        page.fill("#conn-client-id", CLIENT_ID)
        page.click("#connection-save")
        expect(page.locator("#connection-saved")).to_be_visible()
        expect(page.locator("#connection-state")).to_contain_text("Signed out")

        page.click("#connection-sign-in")
        code = page.locator("#device-code-value").inner_text()
        link = page.locator("#device-code-link").get_attribute("href")
        assert link == f"{tls_emulator.url}/devicelogin" and len(code) == 8

        login = context.new_page()  # the user's other tab: the verification page
        login.goto(link)
        login.fill("input[name=user_code]", code)
        login.click("#approve")
        expect(login.locator("body")).to_contain_text("Signed in as")
        login.close()

        expect(page.locator("#connection-state")).to_contain_text("Signed in")  # the page updated itself
        expect(page.locator("#connection-user")).to_contain_text(user)
        page.click("#msx-import-start")
        expect(page.locator("#msx-import-summary")).to_contain_text("customers: 10 (10 new")

        page.goto(f"{base}/")
        expect(page.locator("#connection-badge")).to_contain_text(user)
        expect(page.locator("#connection-badge")).to_contain_text("token valid until")
        expect(page.locator("#first-run")).to_have_count(0)
