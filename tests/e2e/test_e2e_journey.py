"""What a new user does, in real headless Chromium against the app under real uvicorn:

create a customer, write a note with topics and a template, lose the tab mid-draft and get the draft
back, search and open the note, export, delete the database, import the export, find everything again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.engine import make_url

from callnotes.config import Settings
from callnotes.store.db import downgrade_database
from callnotes.web.app import create_app
from callnotes.web.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 10_000


@pytest.fixture()
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data", crm_url=None)


@pytest.fixture()
def serve(settings: Settings) -> Callable[[], AbstractContextManager[str]]:
    """Start the app (a fresh ``create_app``, so the database is upgraded on start) under uvicorn."""
    return lambda: running_server(create_app(settings))


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


def _delete_database(settings: Settings) -> None:
    url = settings.resolved_database_url()
    if make_url(url).get_backend_name() == "sqlite":
        database = Path(make_url(url).database or "")
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
        assert not database.exists()
    else:
        downgrade_database(url, "base")


def _add_template(page: Page, base: str) -> None:
    page.goto(f"{base}/templates")
    page.fill("#template-name", "Discovery call")
    page.fill("#template-body", "## Pain points\n\n## Next steps\n")
    page.click("text=Add template")
    expect(page.locator("#template-list")).to_contain_text("Discovery call")


def _create_customer(page: Page, base: str) -> None:
    page.goto(f"{base}/customers/new")
    page.fill("#name", "Contoso Pharma")
    page.fill("#tpid", "778899")
    page.click("text=Save customer")
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("h1")).to_have_text("Contoso Pharma")


def _write_draft(page: Page, base: str) -> None:
    page.goto(f"{base}/notes/new")
    page.click("#customer_q")
    page.keyboard.type("Conto")
    page.click("#customer-suggestions button:has-text('Contoso Pharma')")
    expect(page.locator("#customer-picked")).to_contain_text("Contoso Pharma")
    page.select_option("#template", label="Discovery call")
    expect(page.locator("#body")).to_have_value(re.compile("## Pain points"))
    page.click("#body")
    page.keyboard.press("Control+End")
    page.keyboard.type("\nKubernetes migration: move the order service to AKS.")
    expect(page.locator("#preview")).to_contain_text("Kubernetes migration")
    with page.expect_response(lambda r: "/editor/draft" in r.url and r.status == 200):
        page.fill("#topics", "AKS, Migration")
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")


def _recover_draft_and_save(context: BrowserContext, base: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/")
    page.click("#drafts a")
    expect(page.locator("#body")).to_have_value(re.compile("Kubernetes migration"))
    expect(page.locator("#topics")).to_have_value("AKS, Migration")
    expect(page.locator("#customer-picked")).to_contain_text("Contoso Pharma")
    expect(page.locator("#draft-status")).to_contain_text("Draft restored")
    page.focus("#body")
    page.keyboard.press("Control+s")  # the editor's save shortcut
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    expect(page.locator("#note-body h2").first).to_have_text("Pain points")
    expect(page.locator("#note-body")).to_contain_text("Kubernetes migration")
    return page


def _search_and_open(page: Page, base: str) -> None:
    page.goto(f"{base}/search")
    page.fill("#q", "kubernetes")
    result = page.locator("#search-results a[href^='/notes/']").first
    expect(result).to_be_visible()
    expect(page.locator("#search-results mark").first).to_be_visible()
    result.click()
    page.wait_for_url(re.compile(r"/notes/\d+$"))
    expect(page.locator("#note-body")).to_contain_text("Kubernetes migration")
    expect(page.locator("main")).to_contain_text("Contoso Pharma")
    expect(page.locator("main")).to_contain_text("Migration")


def _export(page: Page, base: str, target: Path) -> None:
    page.goto(f"{base}/settings")
    with page.expect_download() as download:
        page.click("#export-link")
    download.value.save_as(target)


def _import(page: Page, base: str, source: Path) -> None:
    page.goto(f"{base}/settings")
    page.set_input_files("#import-file", str(source))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-report")).to_contain_text("No errors")


def test_new_user_journey(context: BrowserContext, serve: Callable[[], AbstractContextManager[str]],
                          settings: Settings, tmp_path: Path) -> None:
    export_path = tmp_path / "export.json"
    with serve() as base:
        page = context.new_page()
        _add_template(page, base)
        _create_customer(page, base)
        _write_draft(page, base)
        page.close()  # the tab is lost mid-draft
        page = _recover_draft_and_save(context, base)
        page.goto(f"{base}/")
        expect(page.locator("#drafts")).to_have_count(0)
        _search_and_open(page, base)
        _export(page, base, export_path)
    document = json.loads(export_path.read_text(encoding="utf-8"))
    assert [c["name"] for c in document["customers"]] == ["Contoso Pharma"]
    assert "Kubernetes migration" in document["notes"][0]["body"]

    _delete_database(settings)
    with serve() as base:
        page = context.new_page()
        page.goto(f"{base}/customers")
        expect(page.locator("#customer-results")).to_contain_text("No customers yet")
        _import(page, base, export_path)
        _search_and_open(page, base)
        page.goto(f"{base}/customers")
        page.click("text=Contoso Pharma")
        expect(page.locator("#customer-notes")).to_contain_text("Discovery call")  # the template names it
        expect(page.locator("main")).to_contain_text("778899")
        page.goto(f"{base}/topics")
        expect(page.locator("main")).to_contain_text("AKS")
