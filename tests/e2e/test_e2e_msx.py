"""MSX in the browser (real headless Chromium, app under real uvicorn, CRM = the emulator):
the customer form's TPID lookup fills the MSX link, the settings page's import streams to its end,
and a milestone's access team is joined then left from the milestones page (through the outbox)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from callnotes.config import Settings
from callnotes.emulator import EmulatorServer
from callnotes.msx import teams
from callnotes.store import Milestone, make_engine, make_session_factory
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.e2e.pages import watched_page
from tests.fixtures.msx import make_client

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 15_000


def _serve(server: EmulatorServer, tmp_path: Path) -> tuple[Settings, Iterator[str]]:
    settings = Settings(crm_url=server.api_url, auth="emulator", data_dir=tmp_path / "data",
                        database_url=f"sqlite:///{tmp_path / 'e2e.db'}")
    return settings, running_server(create_app(settings))


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any console error (a CSP violation, a script error)."""
    with watched_page(context) as page:
        yield page


def _lookup(page: Page, tpid: str) -> None:
    page.fill("#tpid", tpid)
    page.click("#tpid-lookup")


def _save_and_expect_link(page: Page, account_id: str) -> None:
    page.click("text=Save customer")
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("#open-in-msx")).to_have_attribute("href", re.compile(f"id={account_id}"))


def test_tpid_lookup_fills_the_msx_link(page: Page, emulator: EmulatorServer, tmp_path: Path) -> None:
    dataset = emulator.service.dataset
    rows = [dataset.database.table("account").get(i) for i in dataset.my_account_ids]
    counts = Counter(r["msp_mstopparentid"] for r in rows)
    single = next(r for r in rows if counts[r["msp_mstopparentid"]] == 1)
    shared = [r for r in rows if counts[r["msp_mstopparentid"]] > 1]
    _, server = _serve(emulator, tmp_path)
    with server as base:
        page.goto(f"{base}/customers/new")
        page.fill("#name", "Typed Co")
        _lookup(page, "12ab")
        expect(page.locator("#tpid-result [role=alert]")).to_contain_text("a TPID is a number")
        _lookup(page, "999999999")
        expect(page.locator("#tpid-none")).to_contain_text("no account with TPID 999999999")
        _lookup(page, single["msp_mstopparentid"])
        expect(page.locator("#tpid-found")).to_be_visible()
        expect(page.locator("#tpid-result")).to_contain_text(single["name"])
        _save_and_expect_link(page, single['accountid'])

        page.goto(f"{base}/customers/new")
        page.fill("#name", "Shared Co")
        _lookup(page, shared[0]["msp_mstopparentid"])
        expect(page.locator("#tpid-several")).to_be_visible()
        page.check(f"input[name=msx_account_id][value='{shared[1]['accountid']}']")
        _save_and_expect_link(page, shared[1]['accountid'])


def _milestone_not_on_my_team(settings: Settings) -> tuple[int, str]:
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_session_factory(engine)() as session:
            milestone = session.scalars(select(Milestone).where(Milestone.on_my_team.is_(False))
                                        .order_by(Milestone.id)).first()
            assert milestone is not None and milestone.msx_id
            return milestone.id, milestone.msx_id
    finally:
        engine.dispose()


def _on_my_team_in_store(settings: Settings, milestone_id: int) -> bool:
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_session_factory(engine)() as session:
            return session.get(Milestone, milestone_id).on_my_team
    finally:
        engine.dispose()


def test_import_then_join_and_leave_a_milestone_team(
    page: Page, fresh_emulator: EmulatorServer, tmp_path: Path
) -> None:
    settings, server = _serve(fresh_emulator, tmp_path)
    user = fresh_emulator.demo_user_id
    with server as base, make_client(fresh_emulator) as crm:
        page.goto(f"{base}/settings")
        with page.expect_response(lambda r: r.url.endswith("/msx/import/events")) as stream:
            page.click("#msx-import-start")  # the page's script follows the progress stream
        assert stream.value.headers["content-type"].startswith("text/event-stream")
        expect(page.locator("#msx-import-summary")).to_contain_text("customers: 10 (10 new")
        milestone_id, msx_id = _milestone_not_on_my_team(settings)

        page.click("nav >> text=Milestones")
        page.wait_for_url(re.compile(r"/milestones$"))
        cell = page.locator(f"#msx-team-{milestone_id}")
        cell.locator("text=Join team").click()  # through the outbox: "Joining…" until it lands
        expect(cell.locator("text=Leave team")).to_be_visible(timeout=_TIMEOUT_MS)
        assert teams.team_memberships(crm, user, teams.TeamKind.MILESTONE, [msx_id]) == {msx_id}
        assert _on_my_team_in_store(settings, milestone_id)

        page.click("#show-team")
        cell = page.locator(f"#msx-team-{milestone_id}")
        cell.locator("text=Leave team").click()
        expect(cell.locator("text=Join team")).to_be_visible(timeout=_TIMEOUT_MS)
        assert teams.team_memberships(crm, user, teams.TeamKind.MILESTONE, [msx_id]) == set()
        assert not _on_my_team_in_store(settings, milestone_id)
