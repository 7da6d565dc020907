"""Write-back in the browser (real headless Chromium, the app under real uvicorn with its in-process
worker, MSX = the emulator over HTTP): write a note, link a milestone, log a HoK task, watch it go
from queued to "In MSX" with its link; the same with the VPN blocked (the note saves, the task waits,
one banner says the VPN seems down), then unblocked (it lands once); join milestone teams from the
milestones page, one at a time and several with one click. Screenshots of the changed pages at
1366 px and 390 px wide go to ``CALLNOTES_SCREENSHOTS`` (a folder) when it is set."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from callnotes.config import Settings
from callnotes.emulator import EmulatorServer
from callnotes.store import make_engine, make_session_factory, upgrade_database
from callnotes.store.models import Customer, Milestone, OutboxItem
from callnotes.store.repo.milestones import open_condition
from callnotes.sync.connection import open_client
from callnotes.sync.importing import run_import
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.e2e.pages import HTTP_ERRORS, ConsoleErrors

pytestmark = [pytest.mark.browser, pytest.mark.slow]
_TIMEOUT_MS = 20_000
_WIDTHS = (1366, 390)


@dataclass(frozen=True)
class Picked:
    milestone_id: int
    milestone_msx_id: str
    customer: str
    customer_id: int = 0


@pytest.fixture()
def settings(writeback_emulator: EmulatorServer, tmp_path: Path) -> Settings:
    """A store imported from the emulator (the import itself is tested elsewhere)."""
    settings = Settings(
        crm_url=writeback_emulator.url,
        auth="emulator",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'e2e.db'}",
        queue_name=f"e2e-{tmp_path.name[-40:]}",
    )
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with open_client(settings) as client:
            run_import(client, make_session_factory(engine))
    finally:
        engine.dispose()
    return settings


@pytest.fixture()
def base(settings: Settings) -> Iterator[str]:
    with running_server(create_app(settings)) as url:
        yield url


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails the test on any console error (a CSP violation, a script error). Not counted:
    HTTP error answers, and htmx's note that it aborted a request a newer one replaced (the customer
    field's ``hx-sync="this:replace"`` while typing)."""
    page = context.new_page()
    errors = ConsoleErrors(page)
    yield page
    aborted = any(e.startswith("htmx:sendAbort") for e in errors.messages)
    noise = (*HTTP_ERRORS, *(("htmx:sendAbort", "htmx:afterRequest") if aborted else ()))
    assert not errors.unexpected(noise), errors.messages


def _store(settings: Settings):
    return make_engine(settings.resolved_database_url())


def _pick(settings: Settings, *, count: int = 1, off_team: bool = False) -> list[Picked]:
    engine = _store(settings)
    try:
        with make_session_factory(engine)() as session:
            query = select(Milestone).where(
                Milestone.msx_id.is_not(None),
                Milestone.customer_id.is_not(None),
                Milestone.gone_from_msx_at.is_(None),
            )
            if off_team:  # open ones of one customer: the tracker lists them (closed ones are hidden)
                query = query.where(Milestone.on_my_team.is_(False), open_condition())
            rows = session.scalars(query.order_by(Milestone.id)).all()
            if off_team:
                per_customer: dict[int | None, list[Milestone]] = {}
                for m in rows:
                    per_customer.setdefault(m.customer_id, []).append(m)
                rows = next(ms for ms in per_customer.values() if len(ms) >= count)
            return [Picked(m.id, m.msx_id or "", session.get(Customer, m.customer_id).name,
                           m.customer_id or 0) for m in rows[:count]]
    finally:
        engine.dispose()


def _outbox(settings: Settings) -> list[OutboxItem]:
    engine = _store(settings)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
    finally:
        engine.dispose()


def _shoot(page: Page, name: str) -> None:
    """Screenshots at both widths when ``CALLNOTES_SCREENSHOTS`` names a folder."""
    folder = os.environ.get("CALLNOTES_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in _WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def _write_note_with_task(page: Page, base: str, picked: Picked, title: str) -> None:
    page.goto(f"{base}/notes/new")
    page.click("#customer_q")
    page.keyboard.type(picked.customer[:12])
    page.locator("#customer-suggestions button", has_text=picked.customer).first.click()
    expect(page.locator("#customer-picked")).to_contain_text(picked.customer)
    task_box = page.locator(f"#log-task-{picked.milestone_id}")
    expect(task_box).to_be_hidden()  # offered on linked milestones only
    page.check(f"#milestone-{picked.milestone_id}-link")
    page.check(f"#log-task-{picked.milestone_id}")
    fields = page.locator(f"#task-fields-{picked.milestone_id}")
    expect(fields).to_be_visible()
    expect(page.locator(f"#task_duration_{picked.milestone_id}")).to_have_value("60")
    page.select_option(f"#task_category_{picked.milestone_id}", label="Architecture Design Session (HoK)")
    page.fill("#title", title)
    page.fill("#body", "# Landing zone\n\nHub and spoke, two regions.")
    expect(page.locator(f"#task_subject_{picked.milestone_id}")).to_have_attribute("placeholder", title)
    _shoot(page, "editor-task")
    page.click("#save-note")
    page.wait_for_url(re.compile(r"/notes/\d+$"))


def test_a_hok_task_from_a_note_goes_from_queued_to_msx(
    page: Page, base: str, settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    picked = _pick(settings)[0]
    writeback_emulator.configure(latency_ms=1500)  # slow enough to see it on its way
    _write_note_with_task(page, base, picked, "ADS: landing zone")
    tasks = page.locator("#note-task-list")
    expect(tasks).to_contain_text(re.compile(r"Queued|Sending…"))
    expect(tasks).to_contain_text("ADS: landing zone")
    expect(tasks).to_contain_text("HoK")
    expect(tasks).to_contain_text("In MSX", timeout=30_000)
    (row,) = _outbox(settings)
    link = tasks.locator("a.msx-link")
    expect(link).to_have_attribute("href", re.compile(rf"etn=task&id={row.crm_id}"))
    _shoot(page, "note-task-sent")
    sent = [
        t
        for t in writeback_emulator.service.dataset.database.table("task").rows.values()
        if t["subject"] == "ADS: landing zone"
    ]
    assert len(sent) == 1 and sent[0]["activityid"] == row.crm_id and sent[0]["msp_taskcategory"] == 861980004
    writeback_emulator.configure(latency_ms=0)
    page.goto(f"{base}/milestones/{picked.milestone_id}")
    expect(page.locator("#milestone-task-table")).to_contain_text("ADS: landing zone")
    _shoot(page, "milestone-page")
    page.goto(f"{base}/outbox?show=sent")
    expect(page.locator("#outbox-list-outbox")).to_contain_text("Create HoK task 'ADS: landing zone'")
    _shoot(page, "outbox-sent")


def test_vpn_blocked_the_task_waits_under_one_banner_then_lands_once(
    page: Page, base: str, settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    picked = _pick(settings)[0]
    writeback_emulator.configure(vpn_blocked=True)
    try:
        _write_note_with_task(page, base, picked, "Workshop behind a dead VPN")
        expect(page.locator("#note-task-list")).to_contain_text("Queued")
        banner = page.locator("#writeback-banner")
        expect(banner).to_contain_text("VPN seems down — 1 write waiting", timeout=30_000)
        expect(page.locator("#outbox-waiting")).to_have_text("1 waiting")
        expect(page.locator("#note-task-list")).to_contain_text("waiting for MSX")
        expect(page.get_by_text("VPN seems down")).to_have_count(1)
        _shoot(page, "note-vpn-down")
        page.goto(f"{base}/")
        expect(page.locator("#writeback-banner")).to_be_visible()
        expect(page.locator("#outbox-list-home")).to_contain_text(
            "Create HoK task 'Workshop behind a dead VPN'"
        )
        expect(page.get_by_text("VPN seems down")).to_have_count(1)  # once, not on every panel
        _shoot(page, "home-vpn-down")
        page.goto(f"{base}/outbox")
        expect(page.locator("#writeback-banner")).to_be_visible()
        expect(page.get_by_text("VPN seems down")).to_have_count(1)
        _shoot(page, "outbox-vpn-down")
        note_id = _outbox(settings)[0].note_id
    finally:
        writeback_emulator.configure(vpn_blocked=False)
    page.goto(f"{base}/notes/{note_id}")
    page.click("#send-now")
    expect(page.locator("#note-task-list")).to_contain_text("In MSX", timeout=_TIMEOUT_MS)
    expect(page.locator("#writeback-banner")).to_have_count(0)
    rows = _outbox(settings)
    sent = [
        t
        for t in writeback_emulator.service.dataset.database.table("task").rows.values()
        if t["subject"] == "Workshop behind a dead VPN"
    ]
    assert len(rows) == 1 and len(sent) == 1 and sent[0]["activityid"] == rows[0].crm_id


def test_join_one_team_then_several_with_one_click(
    page: Page, base: str, settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    one, *several = _pick(settings, count=3, off_team=True)
    page.goto(f"{base}/milestones?customer_id={one.customer_id}")
    cell = page.locator(f"#msx-team-{one.milestone_id}")
    cell.locator("text=Join team").click()
    expect(cell.locator("text=Leave team")).to_be_visible(timeout=_TIMEOUT_MS)  # "Joining…", then it lands
    for picked in several:
        page.check(f"#milestone-{picked.milestone_id} input[name=milestone_ids]")
    _shoot(page, "milestones-bulk")
    page.click("#bulk-join")
    page.wait_for_url(re.compile(r"/milestones"))
    for picked in several:
        expect(page.locator(f"#msx-team-{picked.milestone_id}")).to_contain_text(
            "Leave team", timeout=_TIMEOUT_MS
        )
    joined = {r.crm_record_id for r in _outbox(settings) if r.state.value == "sent"}
    assert joined == {p.milestone_msx_id for p in (one, *several)}
    page.goto(f"{base}/settings")
    _shoot(page, "settings-writeback")
