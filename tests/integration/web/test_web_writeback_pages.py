"""Write-back in the pages (SQLite and PostgreSQL, the emulator over HTTP, the app's own worker):
the editor's "Log a task in MSX" controls, the note page's task states, the Outbox page and home
panel, the header badge and its one banner, milestone tasks / edits / team changes through the
outbox, opportunity close dates and deal teams from the customer page, the settings page's write-back
mode. Bad input shows the form again and saves nothing."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from callnotes.config import Settings, save_preferences
from callnotes.domain import HOK_CATEGORIES, HokCategory, WritebackMode
from callnotes.emulator import EmulatorServer
from callnotes.msx import teams
from callnotes.store import make_engine, make_session_factory
from callnotes.store.models import Draft, Milestone, Note, Opportunity, OutboxItem, OutboxState, Task
from callnotes.store.repo.milestones import is_open
from callnotes.sync.connection import open_client
from callnotes.sync.importing import run_import
from callnotes.web.app import create_app
from tests.fixtures.msx import make_client

_WORKSHOP = str(int(HokCategory.WORKSHOP))


@pytest.fixture()
def app_settings(writeback_emulator: EmulatorServer, tmp_path, database_url) -> Settings:
    settings = Settings(
        crm_url=writeback_emulator.url,
        auth="emulator",
        data_dir=tmp_path / "data",
        database_url=database_url,
        queue_name=f"wbp-{tmp_path.name[-40:]}",
    )
    engine = make_engine(database_url)
    try:
        with open_client(settings) as client:
            run_import(client, make_session_factory(engine))
    finally:
        engine.dispose()
    return settings


@pytest.fixture()
def web(app_settings: Settings) -> Iterator[TestClient]:
    """A browser-like client holding its CSRF cookie, sending the token as htmx does."""
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as client:
        client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
        yield client


@contextmanager
def _store(settings: Settings):
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _rows(settings: Settings) -> list[OutboxItem]:
    with _store(settings) as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def _wait(done: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def _milestones(web: TestClient) -> list[dict]:
    return [m for m in web.get("/api/milestones").json() if m["msx_id"] and m["customer_id"]]


def _task_fields(milestone_id: int, **fields: str) -> dict[str, object]:
    values = {"category": _WORKSHOP, "duration": "60", "subject": "", "due": "", "description": ""} | fields
    return {"task_milestone_ids": str(milestone_id)} | {
        f"task_{k}_{milestone_id}": v for k, v in values.items()
    }


def _note_form(milestone: dict, **extra: object) -> dict[str, object]:
    return {
        "customer_id": str(milestone["customer_id"]),
        "call_date": "2026-11-20",
        "title": "ADS with Contoso",
        "body": "# Landing zone\n\nWe drew the hub and spokes.",
        "topics": "AKS",
        "milestone_ids": str(milestone["id"]),
        "draft_key": "",
        **extra,
    }


def _note_id(answer) -> int:
    return int(re.search(r"/notes/(\d+)$", answer.headers["location"]).group(1))


def test_the_editor_offers_a_task_per_milestone_hok_categories_first(web: TestClient) -> None:
    milestone = _milestones(web)[0]
    page = web.get("/editor/customer", params={"customer_id": milestone["customer_id"]}).text
    assert f'name="task_milestone_ids" value="{milestone["id"]}"' in page and "Log a task in MSX" in page
    assert f'name="task_duration_{milestone["id"]}" value="60"' in page
    select_html = page.split(f'id="task_category_{milestone["id"]}"', 1)[1].split("</select>", 1)[0]
    labels = re.findall(r'<option value="\d+">([^<]+)</option>', select_html)
    assert labels[:8] == [f"{c.label} (HoK)" for c in HOK_CATEGORIES]
    assert (
        len(labels) == len(HokCategory) and "Internal" in labels[8:] and "(HoK)" not in " ".join(labels[8:])
    )
    assert "wait for your approval" not in page


def test_ask_and_off_modes_say_so_in_the_editor(web: TestClient, app_settings: Settings) -> None:
    milestone = _milestones(web)[0]
    save_preferences(app_settings, writeback="ask")
    page = web.get("/editor/customer", params={"customer_id": milestone["customer_id"]}).text
    assert "wait for your approval" in page and 'name="task_milestone_ids"' in page
    save_preferences(app_settings, writeback="off")
    page = web.get("/editor/customer", params={"customer_id": milestone["customer_id"]}).text
    assert 'name="task_milestone_ids"' not in page and "write-back to MSX is off" in page
    # a stale page that still posts a task: refused, everything typed comes back, nothing saved
    answer = web.post("/notes", data=_note_form(milestone, **_task_fields(milestone["id"], subject="Stale")))
    assert answer.status_code == 409 and "Write-back to MSX is off" in answer.text
    assert "We drew the hub and spokes." in answer.text
    assert web.get("/api/notes").json() == [] and _rows(app_settings) == []
    detail = web.get(f"/milestones/{milestone['id']}").text
    assert 'id="writeback-off"' in detail and 'id="milestone-edit-form"' not in detail
    assert "team changes off" in detail and 'hx-post="/milestones/' not in detail
    assert 'id="bulk-team"' not in web.get("/milestones").text
    assert web.post(f"/milestones/{milestone['id']}/team", data={"action": "join"}).status_code == 409
    edit = web.post(
        f"/milestones/{milestone['id']}/edit",
        data={"comment": "hello", "milestone_date": "", "monthly_use": "", "status": ""},
    )
    assert edit.status_code == 409 and ">hello</textarea>" not in edit.text and _rows(app_settings) == []


def test_saving_a_note_queues_its_task_and_the_note_page_follows_it_into_msx(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    milestone = _milestones(web)[0]
    form = _note_form(milestone, **_task_fields(milestone["id"], duration="90", due="2026-11-27"))
    saved = web.post("/notes", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    note_id = _note_id(saved)
    (row,) = _rows(app_settings)
    assert (row.note_id, row.milestone_id, row.payload["subject"]) == (
        note_id,
        milestone["id"],
        "ADS with Contoso",
    )
    assert "Landing zone\nWe drew" in row.payload["description"] and row.payload["due"] == "2026-11-27"
    _wait(lambda: _rows(app_settings)[0].state is OutboxState.SENT, "the task lands")
    page = web.get(f"/notes/{note_id}").text
    task = page.split('id="note-task-list"', 1)[1].split("</ul>", 1)[0]
    assert "ADS with Contoso" in task and "Workshop" in task and "HoK" in task and "In MSX" in task
    crm_id = _rows(app_settings)[0].crm_id
    assert re.search(
        rf'href="{re.escape(writeback_emulator.url)}/main\.aspx\?[^"]*etn=task&amp;id={crm_id}"', task
    )
    msx = writeback_emulator.service.dataset.database.table("task").rows
    assert [t["subject"] for t in msx.values() if t["activityid"] == crm_id] == ["ADS with Contoso"]
    assert msx[crm_id]["scheduleddurationminutes"] == 90
    fragment = web.get(f"/notes/{note_id}/tasks")
    assert fragment.status_code == 200 and "In MSX" in fragment.text and "<html" not in fragment.text


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"category": "42"}, "not an MSX task category"),
        ({"category": ""}, "choose a task category"),
        ({"subject": "x" * 201}, "at most 200 characters"),
        ({"duration": "abc"}, "is not a whole number"),
        ({"duration": "0"}, "between 1 and 1440 minutes"),
        ({"due": "27/11/2026"}, "is not a date"),
    ],
)
def test_a_bad_task_shows_the_form_again_as_typed_and_saves_nothing(
    web: TestClient, app_settings: Settings, fields: dict[str, str], says: str
) -> None:
    milestone = _milestones(web)[0]
    typed = {"subject": "My own subject", "description": "typed words"} | fields
    answer = web.post("/notes", data=_note_form(milestone, **_task_fields(milestone["id"], **typed)))
    assert answer.status_code == 422 and says in answer.text
    assert f"Task on milestone '{milestone['name']}'" in html.unescape(answer.text)
    page = answer.text
    assert "We drew the hub and spokes." in page and 'value="ADS with Contoso"' in page
    assert f'id="log-task-{milestone["id"]}" data-milestone="{milestone["id"]}" checked' in page
    assert ">typed words</textarea>" in page and f'id="task-error-{milestone["id"]}"' in page
    for name, value in typed.items():
        if name in ("subject", "duration", "due") and len(value) < 100:
            assert f'name="task_{name}_{milestone["id"]}" value="{value}"' in page, name
    assert web.get("/api/notes").json() == [] and _rows(app_settings) == []


def test_a_task_on_another_customers_milestone_saves_nothing(web: TestClient, app_settings: Settings) -> None:
    milestones = _milestones(web)
    mine = milestones[0]
    other = next(m for m in milestones if m["customer_id"] != mine["customer_id"])
    answer = web.post("/notes", data=_note_form(mine, **_task_fields(other["id"])))
    assert answer.status_code == 422
    assert web.get("/api/notes").json() == [] and _rows(app_settings) == []


def test_task_fields_naming_no_possible_milestone_are_ignored(
    web: TestClient, app_settings: Settings
) -> None:
    milestone = _milestones(web)[0]
    fields = _task_fields(milestone["id"]) | {
        "task_milestone_ids": [str(milestone["id"]), "9999999999"],
        "task_subject_9999999999": "x",
        "task_subject_abc": "y",
    }
    saved = web.post("/notes", data=_note_form(milestone, **fields), follow_redirects=False)
    assert saved.status_code == 303 and [r.milestone_id for r in _rows(app_settings)] == [milestone["id"]]


def test_a_draft_keeps_the_task_fields(web: TestClient, app_settings: Settings) -> None:
    milestone = _milestones(web)[0]
    key = "new:12345678-1234-4234-8234-123456789abc"
    fields = _task_fields(milestone["id"], subject="Half a subj", duration="4", description="half")
    saved = web.post("/editor/draft", data=_note_form(milestone, draft_key=key, **fields))
    assert saved.status_code == 200 and "Draft saved" in saved.text
    with _store(app_settings) as session:
        draft = session.scalar(select(Draft).where(Draft.key == key))
        assert draft.extra["tasks"][str(milestone["id"])]["subject"] == "Half a subj"
    page = web.get("/notes/new", params={"draft": key}).text
    assert f'name="task_subject_{milestone["id"]}" value="Half a subj"' in page
    assert f'name="task_duration_{milestone["id"]}" value="4"' in page and ">half</textarea>" in page
    assert f'id="log-task-{milestone["id"]}" data-milestone="{milestone["id"]}" checked' in page
    assert _rows(app_settings) == []  # a draft queues nothing


def test_editing_a_note_logs_a_new_task_and_keeps_the_old_ones(
    web: TestClient, app_settings: Settings
) -> None:
    milestone = _milestones(web)[0]
    note_id = _note_id(web.post("/notes", data=_note_form(milestone), follow_redirects=False))
    assert _rows(app_settings) == []
    form = _note_form(
        milestone, draft_key=f"note:{note_id}", **_task_fields(milestone["id"], subject="Follow-up")
    )
    assert web.post(f"/notes/{note_id}", data=form, follow_redirects=False).status_code == 303
    assert [r.payload["subject"] for r in _rows(app_settings)] == ["Follow-up"]
    _wait(lambda: _rows(app_settings)[0].state is OutboxState.SENT, "the task lands")
    assert "Tasks this note already logs" in web.get(f"/notes/{note_id}/edit").text


def test_ask_mode_outbox_page_approve_edit_discard_and_approve_all(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    save_preferences(app_settings, writeback="ask")
    milestone = _milestones(web)[0]
    for subject in ("First", "Second", "Third"):
        form = _note_form(milestone, title=subject, **_task_fields(milestone["id"]))
        assert web.post("/notes", data=form, follow_redirects=False).status_code == 303
    first, second, third = (r.id for r in _rows(app_settings))
    page = web.get("/outbox").text
    assert "Create HoK task 'First' (Workshop, 60 min) on milestone" in html.unescape(page)
    assert "Waiting for approval" in page and "Approve all (3)" in page
    assert web.get("/outbox/status").text.count("3 waiting") == 1
    # edit the second one before it leaves; a bad edit shows the form again as typed
    edit = web.get(f"/outbox/{second}/edit").text
    assert f'name="task_subject_{milestone["id"]}" value="Second"' in edit
    bad = web.post(
        f"/outbox/{second}/edit",
        data={
            f"task_subject_{milestone['id']}": "Renamed",
            f"task_category_{milestone['id']}": "7",
            f"task_duration_{milestone['id']}": "30",
        },
    )
    assert bad.status_code == 422 and "not an MSX task category" in bad.text and 'value="Renamed"' in bad.text
    good = web.post(
        f"/outbox/{second}/edit",
        follow_redirects=False,
        data={
            f"task_subject_{milestone['id']}": "Renamed",
            f"task_category_{milestone['id']}": str(int(HokCategory.DEMO)),
            f"task_duration_{milestone['id']}": "30",
        },
    )
    assert good.status_code == 303
    discarded = web.post(f"/outbox/{third}/discard", headers={"HX-Request": "true"})
    assert discarded.status_code == 200 and discarded.headers["HX-Trigger"] == "outbox-changed"
    time.sleep(0.5)
    assert {r.state for r in _rows(app_settings)} == {OutboxState.AWAITING_APPROVAL, OutboxState.DISCARDED}
    approved = web.post("/outbox/approve-all", data={"return_to": "/"}, follow_redirects=False)
    assert approved.status_code == 303 and approved.headers["location"] == "/"
    _wait(lambda: [r.state for r in _rows(app_settings)].count(OutboxState.SENT) == 2, "two tasks land")
    subjects = sorted(
        t["subject"]
        for t in writeback_emulator.service.dataset.database.table("task").rows.values()
        if t["subject"] in ("First", "Renamed", "Third", "Second")
    )
    assert subjects == ["First", "Renamed"]
    # a sent row cannot be discarded nor approved again; an unknown one is a 404
    assert web.post(f"/outbox/{first}/discard").status_code == 409
    assert web.post(f"/outbox/{third}/approve").status_code == 409
    assert web.post("/outbox/999999/retry").status_code == 404
    assert web.post(f"/outbox/{first}/explode").status_code == 422
    assert web.get(f"/outbox/{first}/edit").status_code == 409
    assert web.post(f"/outbox/{first}/edit", data={}).status_code == 409  # it left already
    sent = web.get("/outbox?show=sent").text
    assert "In MSX" in sent and "Renamed" in sent and "Third" not in sent


def test_state_changes_need_the_csrf_token(app_settings: Settings) -> None:
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as bare:
        bare.get("/")  # the cookie, but no token sent back
        for path in (
            "/outbox/approve-all",
            "/outbox/send-now",
            "/outbox/sync",
            "/outbox/1/retry",
            "/milestones/team",
            "/milestones/1/team",
            "/milestones/1/edit",
            "/settings/writeback",
        ):
            assert bare.post(path, data={"action": "join"}).status_code == 403, path


def test_vpn_down_one_banner_then_sent_once(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    milestone = _milestones(web)[0]
    writeback_emulator.configure(vpn_blocked=True)
    try:
        for title in ("One", "Two"):
            form = _note_form(milestone, title=title, **_task_fields(milestone["id"]))
            assert web.post("/notes", data=form, follow_redirects=False).status_code == 303
        _wait(
            lambda: all(r.error_kind == "unreachable" for r in _rows(app_settings)), "the drain meets the VPN"
        )
        status = web.get("/outbox/status", params={"seen": "stale"})
        assert status.headers.get("HX-Trigger") == "outbox-changed"
        assert status.text.count("VPN seems down — 2 writes waiting") == 1 and "2 waiting" in status.text
        assert 'id="send-now"' in status.text
        for page in ("/", "/outbox", f"/notes/{_rows(app_settings)[0].note_id}"):
            assert "VPN seems down" not in web.get(page).text, page  # only the header's banner says it
        assert "waiting for MSX" in web.get("/outbox").text
    finally:
        writeback_emulator.configure(vpn_blocked=False)
    now = web.post("/outbox/send-now", headers={"HX-Request": "true"})
    assert now.status_code == 200 and now.headers["HX-Trigger"] == "outbox-changed"
    _wait(lambda: all(r.state is OutboxState.SENT for r in _rows(app_settings)), "both land")
    crm_ids = {r.crm_id for r in _rows(app_settings)}
    tasks = writeback_emulator.service.dataset.database.table("task").rows
    assert sorted(t["subject"] for t in tasks.values() if t["activityid"] in crm_ids) == ["One", "Two"]
    quiet = web.get("/outbox/status")
    assert "VPN seems down" not in quiet.text and "waiting" not in quiet.text
    fingerprint = re.search(r'"seen": "([^"]+)"', quiet.text).group(1)
    assert "HX-Trigger" not in web.get("/outbox/status", params={"seen": fingerprint}).headers


def test_a_write_that_changes_while_the_page_is_made_reloads_what_the_page_shows(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    """The badge's first load carries when the page began: a row changed after that (the drain met
    the VPN between the page's reads and the badge's load) raises outbox-changed, so the note's task
    list does not keep saying "Queued" until its next poll."""
    milestone = _milestones(web)[0]
    page = web.get("/")
    began = re.search(r'"since": "([^"]+)"', page.text).group(1)
    assert "HX-Trigger" not in web.get("/outbox/status", params={"since": began}).headers  # nothing since
    writeback_emulator.configure(vpn_blocked=True)
    try:
        form = _note_form(milestone, title="Made meanwhile", **_task_fields(milestone["id"]))
        assert web.post("/notes", data=form, follow_redirects=False).status_code == 303
        _wait(lambda: all(r.error_kind == "unreachable" for r in _rows(app_settings)), "the drain waits")
        loaded = web.get("/outbox/status", params={"since": began})
        assert loaded.headers.get("HX-Trigger") == "outbox-changed"
        later = re.search(r'"since": "([^"]+)"', web.get("/outbox").text).group(1)
        assert "HX-Trigger" not in web.get("/outbox/status", params={"since": later}).headers
        for bad in ("yesterday", "2026-12-02T10:00:00", "9" * 40):  # not a time, no offset, too long
            answer = web.get("/outbox/status", params={"since": bad})
            assert answer.status_code in (200, 422) and "HX-Trigger" not in answer.headers, bad
    finally:
        writeback_emulator.configure(vpn_blocked=False)


def test_a_refused_write_says_why_and_can_be_fixed_and_retried(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    save_preferences(app_settings, writeback="ask")
    milestone = _milestones(web)[0]
    note_id = _note_id(
        web.post(
            "/notes", data=_note_form(milestone, **_task_fields(milestone["id"])), follow_redirects=False
        )
    )
    engine = make_engine(app_settings.resolved_database_url())
    try:  # a category MSX does not know slipped through: MSX refuses the write
        with make_session_factory(engine).begin() as session:
            row = session.scalars(select(OutboxItem)).one()
            row.payload = {**row.payload, "category": 42}
    finally:
        engine.dispose()
    web.post(f"/outbox/{row.id}/approve")
    _wait(lambda: _rows(app_settings)[0].state is OutboxState.FAILED, "MSX refuses it")
    page = web.get(f"/notes/{note_id}").text
    assert "Failed" in page and "42" in page.split('id="note-task-list"', 1)[1]
    assert f'action="/outbox/{row.id}/retry"' in page and f'href="/outbox/{row.id}/edit"' in page
    assert "1 failed" in web.get("/outbox/status").text
    fixed = web.post(
        f"/outbox/{row.id}/edit",
        follow_redirects=False,
        data={
            f"task_category_{milestone['id']}": _WORKSHOP,
            f"task_duration_{milestone['id']}": "60",
            f"task_subject_{milestone['id']}": "Fixed",
        },
    )
    assert fixed.status_code == 303
    back = web.post(
        f"/outbox/{row.id}/retry", data={"return_to": f"/notes/{note_id}"}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"] == f"/notes/{note_id}"
    _wait(lambda: _rows(app_settings)[0].state is OutboxState.SENT, "the retry lands")
    assert "In MSX" in web.get(f"/notes/{note_id}").text
    tasks = writeback_emulator.service.dataset.database.table("task").rows
    assert [t["subject"] for t in tasks.values() if t["activityid"] == row.crm_record_id] == ["Fixed"]


def test_home_panel_lists_pending_writes_in_words(web: TestClient, app_settings: Settings) -> None:
    save_preferences(app_settings, writeback="ask")
    milestone = _milestones(web)[0]
    web.post("/notes", data=_note_form(milestone, **_task_fields(milestone["id"])), follow_redirects=False)
    home = web.get("/").text
    panel = home.split('id="pending-h"', 1)[1].split("</section>", 1)[0]
    assert "Create HoK task" in panel and "Waiting for approval" in panel and "/outbox/" in panel
    assert 'name="return_to" value="/"' in panel
    fragment = web.get("/outbox/list", params={"place": "home"}).text
    assert "Create HoK task" in fragment and "<html" not in fragment
    assert web.get("/outbox/list", params={"place": "elsewhere"}).status_code == 422
    assert web.get("/outbox", params={"show": "lost"}).status_code == 422


def _task_queries(web: TestClient, path: str) -> tuple[int, int, int]:
    """SELECTs the page made: of tasks, of my writes by milestone, and in all (the app's worker may
    query the outbox meanwhile: only the first two are counted exactly)."""
    engine = web.app.state.runtime.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert web.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in seen if s.upper().startswith("SELECT")]
    tasks = [s for s in selects if "FROM tasks" in s]
    writes = [s for s in selects if "FROM outbox" in s and "outbox.milestone_id IN" in s]
    return len(tasks), len(writes), len(selects)


def test_milestones_list_their_tasks_in_a_fixed_number_of_queries(
    web: TestClient, app_settings: Settings
) -> None:
    with _store(app_settings) as session:
        imported = session.scalars(select(Task).where(Task.milestone_id.is_not(None))).all()
        assert imported, "the import brought tasks"
        task = imported[0]
        milestone = session.get(Milestone, task.milestone_id)
        customer_id = milestone.customer_id
        many = len(session.scalars(select(Milestone)).all())
    page = web.get(f"/milestones?customer_id={customer_id}&closed=1").text  # it may be a closed one
    row = page.split(f'id="milestone-{milestone.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'id="milestone-tasks-{milestone.id}"' in row and task.subject in row
    assert f"etn=task&amp;id={task.msx_id}" in row
    if is_open(milestone):  # the customer's page lists the active ones
        assert task.subject in web.get(f"/customers/{customer_id}").text
    detail = web.get(f"/milestones/{milestone.id}").text
    assert task.subject in detail.split('id="milestone-task-table"', 1)[1]
    # one query for all tasks and one for my writes, whatever the number of milestones shown
    assert many > 5
    everything = _task_queries(web, "/milestones")
    one_customer = _task_queries(web, f"/milestones?customer_id={customer_id}")
    assert everything[:2] == one_customer[:2] == (1, 1)
    assert _task_queries(web, f"/customers/{customer_id}")[:2] == (1, 1)
    assert all(n <= 1 for n in _task_queries(web, "/")[:2])  # (none when nothing is due soon)


def test_a_logged_task_shows_under_its_milestone_until_and_after_it_lands(
    web: TestClient, app_settings: Settings
) -> None:
    save_preferences(app_settings, writeback="ask")
    milestone = _milestones(web)[0]
    web.post("/notes", data=_note_form(milestone, title="Mine now", **_task_fields(milestone["id"])))
    row = web.get("/milestones").text.split(f'id="milestone-{milestone["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Mine now" in row and "1 on the way" in row and "Waiting for approval" in row
    web.post("/outbox/approve-all")
    _wait(lambda: _rows(app_settings)[0].state is OutboxState.SENT, "the task lands")
    row = web.get("/milestones").text.split(f'id="milestone-{milestone["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Mine now" in row and "on the way" not in row and "my note" in row


def test_milestone_edit_goes_through_the_outbox_and_the_mirror_follows(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    milestone = _milestones(web)[0]
    page = web.get(f"/milestones/{milestone['id']}").text
    assert 'id="milestone-edit-form"' in page and "At Risk" in page
    unchanged = {
        "milestone_date": milestone["milestone_date"] or "",
        "status": milestone["status_label"] or "",
        "monthly_use": "",
        "comment": "",
    }
    nothing = web.post(f"/milestones/{milestone['id']}/edit", data=unchanged)
    assert nothing.status_code == 422 and "nothing to change" in nothing.text
    for bad, says in (
        ({"milestone_date": "31/12/2027"}, "is not a date"),
        ({"monthly_use": "lots"}, "not a number"),
        ({"status": "Sort of fine"}, "is not a milestone status"),
        ({"monthly_use": "-3"}, "cannot be negative"),
    ):
        answer = web.post(
            f"/milestones/{milestone['id']}/edit", data=unchanged | {"comment": "keep me"} | bad
        )
        assert answer.status_code == 422 and says in answer.text, bad
        assert ">keep me</textarea>" in answer.text
        if "status" not in bad:  # what was typed comes back
            assert f'value="{next(iter(bad.values()))}"' in answer.text
    assert _rows(app_settings) == []
    changes = unchanged | {
        "milestone_date": "2027-03-01",
        "status": "At Risk",
        "monthly_use": "12,500",
        "comment": "Slipping a quarter",
    }
    saved = web.post(f"/milestones/{milestone['id']}/edit", data=changes, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/milestones/{milestone['id']}"
    assert len(_rows(app_settings)) == 2
    _wait(lambda: all(r.state is OutboxState.SENT for r in _rows(app_settings)), "the edit lands")
    page = web.get(f"/milestones/{milestone['id']}").text
    assert "2027-03-01" in page and "12,500" in page and "At Risk" in page
    msx = writeback_emulator.service.dataset.database.table("msp_engagementmilestone").get(
        milestone["msx_id"]
    )
    assert "Slipping a quarter" in (msx.get("msp_forecastcomments") or "")
    assert web.post("/milestones/999999/edit", data=changes).status_code == 404


def test_team_join_goes_through_the_outbox_joining_until_it_lands(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    save_preferences(app_settings, writeback="ask")  # so "joining…" can be seen before it lands
    milestone = next(m for m in _milestones(web) if not m["on_my_team"])
    joining = web.post(f"/milestones/{milestone['id']}/team", data={"action": "join"})
    assert joining.status_code == 200 and "Join: waiting for approval" in joining.text
    assert joining.headers["HX-Trigger"] == "outbox-changed" and "Cancel" in joining.text
    cancelled = web.post(f"/milestones/{milestone['id']}/team", data={"action": "leave"})
    assert "Join team" in cancelled.text and [r.state for r in _rows(app_settings)] == [OutboxState.DISCARDED]
    save_preferences(app_settings, writeback="auto")
    web.post(f"/milestones/{milestone['id']}/team", data={"action": "join"})
    _wait(lambda: _rows(app_settings)[-1].state is OutboxState.SENT, "the join lands")
    assert "Leave team" in web.get(f"/milestones/{milestone['id']}/team").text
    with make_client(writeback_emulator) as crm:
        user = writeback_emulator.demo_user_id
        assert teams.team_memberships(crm, user, teams.TeamKind.MILESTONE, [milestone["msx_id"]]) == {
            milestone["msx_id"]
        }
    assert web.post(f"/milestones/{milestone['id']}/team", data={"action": "delete"}).status_code == 422
    assert web.post("/milestones/999999/team", data={"action": "join"}).status_code == 404
    assert web.post("/msx/milestones/1/team", data={"action": "join"}).status_code in (
        404,
        405,
    )  # the old way is gone


def test_one_click_joins_many_milestone_teams(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    chosen = [m for m in _milestones(web) if not m["on_my_team"]][:3]
    page = web.get("/milestones").text
    assert 'id="bulk-team"' in page and 'form="bulk-team"' in page
    answer = web.post(
        "/milestones/team",
        follow_redirects=False,
        data={
            "action": "join",
            "milestone_ids": [str(m["id"]) for m in chosen],
            "return_to": "/milestones?show=team",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/milestones?show=team"
    assert len(_rows(app_settings)) == 3
    _wait(lambda: all(r.state is OutboxState.SENT for r in _rows(app_settings)), "three joins land")
    with make_client(writeback_emulator) as crm:
        ids = [m["msx_id"] for m in chosen]
        assert teams.team_memberships(
            crm, writeback_emulator.demo_user_id, teams.TeamKind.MILESTONE, ids
        ) == set(ids)
    assert web.post("/milestones/team", data={"action": "join"}).status_code == 422  # nothing ticked
    assert web.post("/milestones/team", data={"action": "join", "milestone_ids": "abc"}).status_code == 422
    away = web.post(
        "/milestones/team",
        data={"action": "leave", "milestone_ids": str(chosen[0]["id"]), "return_to": "https://evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/milestones"


def test_settings_save_the_write_back_mode_unless_the_environment_sets_it(
    web: TestClient, app_settings: Settings, monkeypatch
) -> None:
    page = web.get("/settings").text
    section = page.split('id="writeback"', 1)[1].split("</section>", 1)[0]
    assert 'value="auto" checked' in section and "disabled" not in section
    saved = web.post("/settings/writeback", data={"writeback": "ask"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Saved: write-back is ask" in saved.text
    assert 'value="ask" checked' in web.get("/settings").text
    assert "ask: each write waits" in web.get("/outbox").text
    bad = web.post("/settings/writeback", data={"writeback": "sometimes"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "not a write-back mode" in bad.text
    assert web.post("/settings/writeback", data={"writeback": "sometimes"}).status_code == 422
    plain = web.post("/settings/writeback", data={"writeback": "off"}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/settings#writeback"
    monkeypatch.setenv("CALLNOTES_WRITEBACK", "auto")
    with TestClient(
        create_app(app_settings.model_copy(update={"writeback": WritebackMode.AUTO})),
        raise_server_exceptions=False,
    ) as env_client:
        env_client.headers["X-CSRF-Token"] = env_client.get("/api/csrf").json()["csrf_token"]
        section = env_client.get("/settings").text.split('id="writeback"', 1)[1].split("</section>", 1)[0]
        assert "<fieldset disabled>" in section and "CALLNOTES_WRITEBACK=auto" in section
        assert "environment wins" in section and 'id="writeback-save"' not in section
        refused = env_client.post(
            "/settings/writeback", data={"writeback": "ask"}, headers={"HX-Request": "true"}
        )
        assert refused.status_code == 409 and "nothing was saved" in refused.text
    with _store(app_settings) as session:  # the saved choice was left alone
        assert session.scalar(select(Note)) is None
    assert '"off"' in (app_settings.data_dir / "settings.json").read_text()


def _open_opportunity(settings: Settings) -> Opportunity:
    """An open opportunity of a customer (shown on the customer page), linked to MSX, whose deal team
    I am not on."""
    with _store(settings) as session:
        opportunity = session.scalars(select(Opportunity).where(
            Opportunity.msx_id.is_not(None), Opportunity.customer_id.is_not(None),
            Opportunity.state == "Open", Opportunity.on_my_team.is_(False)).order_by(Opportunity.id)).first()
        assert opportunity is not None
        session.expunge(opportunity)
        return opportunity


def test_close_date_and_deal_team_from_the_customer_page_go_through_the_outbox(
    web: TestClient, app_settings: Settings, writeback_emulator: EmulatorServer
) -> None:
    opportunity = _open_opportunity(app_settings)
    page = web.get(f"/customers/{opportunity.customer_id}")
    assert f'id="opportunity-writes-{opportunity.id}"' in page.text and "Join deal team" in page.text
    assert not opportunity.on_my_team and "Leave deal team" not in web.get(
        f"/opportunities/{opportunity.id}/writes").text  # not on it: only Join is offered
    save_preferences(app_settings, writeback="ask")  # so the changes can be seen before they land
    moved = web.post(f"/opportunities/{opportunity.id}/close-date", data={"close_date": "2027-06-30"})
    assert moved.status_code == 200 and moved.headers["HX-Trigger"] == "outbox-changed"
    assert "→ 2027-06-30" in moved.text and "Waiting for approval" in moved.text
    again = web.post(f"/opportunities/{opportunity.id}/close-date", data={"close_date": "2027-07-31"})
    assert "→ 2027-07-31" in again.text and "2027-06-30" not in again.text  # the newer date replaces it
    joining = web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "join"})
    assert "Joining the deal team" in joining.text and "Cancel" in joining.text
    cancelled = web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "leave"})
    assert "Join deal team" in cancelled.text
    assert [r.state for r in _rows(app_settings)] == [
        OutboxState.DISCARDED, OutboxState.AWAITING_APPROVAL, OutboxState.DISCARDED]
    save_preferences(app_settings, writeback="auto")
    web.post(f"/outbox/{_rows(app_settings)[1].id}/approve")
    web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "join"})
    _wait(lambda: all(r.state in (OutboxState.SENT, OutboxState.DISCARDED) for r in _rows(app_settings)),
          "the close date and the join land")
    with make_client(writeback_emulator) as crm:
        row = crm.get(f"opportunities({opportunity.msx_id})", params={"$select": "estimatedclosedate"})
        assert row["estimatedclosedate"].startswith("2027-07-31")
        assert teams.on_team(crm, writeback_emulator.demo_user_id, teams.TeamKind.OPPORTUNITY,
                             [opportunity.msx_id or ""]) == {opportunity.msx_id}
    landed = web.get(f"/opportunities/{opportunity.id}/writes").text
    assert "→" not in landed  # nothing on its way
    # the mirror knows I am on the deal team now: Leave is offered, Join no longer
    assert "On the deal team" in landed and "Leave deal team" in landed and "Join deal team" not in landed
    with _store(app_settings) as session:
        assert session.get(Opportunity, opportunity.id).on_my_team is True
    web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "join"})  # already on it
    assert len(_rows(app_settings)) == 4  # nothing queued
    web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "leave"})
    _wait(lambda: all(r.state in (OutboxState.SENT, OutboxState.DISCARDED) for r in _rows(app_settings)),
          "the leave lands")
    assert "Join deal team" in web.get(f"/opportunities/{opportunity.id}/writes").text
    with make_client(writeback_emulator) as crm:
        assert teams.on_team(crm, writeback_emulator.demo_user_id, teams.TeamKind.OPPORTUNITY,
                             [opportunity.msx_id or ""]) == set()


def test_bad_opportunity_changes_say_why_and_queue_nothing(web: TestClient, app_settings: Settings) -> None:
    opportunity = _open_opportunity(app_settings)
    for bad in ("", "31/12/2027", "2027-02-30", "x" * 41):
        answer = web.post(f"/opportunities/{opportunity.id}/close-date", data={"close_date": bad})
        assert answer.status_code == 422, bad
        if len(bad) <= 40:
            assert "is not a date" in html.unescape(answer.text) and 'role="alert"' in answer.text
    refused = web.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "delete"})
    assert refused.status_code == 422
    assert web.post("/opportunities/999999/deal-team", data={"action": "join"}).status_code == 404
    assert web.post(f"/opportunities/{opportunity.id}.0/close-date", data={"close_date": "2027-01-01"}
                    ).status_code == 404
    save_preferences(app_settings, writeback="off")
    off = web.post(f"/opportunities/{opportunity.id}/close-date", data={"close_date": "2027-01-01"})
    assert off.status_code == 409 and "Write-back to MSX is off" in html.unescape(off.text)
    assert "changes to MSX off" in off.text
    assert _rows(app_settings) == []
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as no_token:
        forged = no_token.post(f"/opportunities/{opportunity.id}/deal-team", data={"action": "join"})
        assert forged.status_code == 403 and _rows(app_settings) == []
