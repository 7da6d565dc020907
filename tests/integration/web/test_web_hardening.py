"""Issue 14, the bad inputs found by trying the app as an attacker and as a busy user would — each
answered with the one error shape (``{"detail": [{loc, msg, type}]}``), nothing stored changed.
SQLite and PostgreSQL; the connection-level checks against real uvicorn."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from callnotes.config import Settings
from callnotes.store import make_engine, make_session_factory, session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.models import Customer, OutboxItem, OutboxKind, OutboxState
from callnotes.web.app import create_app
from callnotes.web.server import running_server

from .conftest import csrf_of, error_text


def _note(api: TestClient, **fields: object) -> dict:
    response = api.post("/api/notes", json={"body": "keep", "call_date": "2026-11-20", **fields})
    assert response.status_code == 201, response.text
    return api.get(f"/api/notes/{response.json()['id']}").json()


@pytest.mark.parametrize("name", ["topics", "attendees", "milestone_ids", "body", "call_date"])
def test_patch_with_null_lists_is_a_422_and_changes_nothing(api: TestClient, name: str) -> None:
    note = _note(api, topics=["AKS"], attendees=["Ann"])
    response = api.patch(f"/api/notes/{note['id']}", json={name: None})
    assert response.status_code == 422
    assert "null" in error_text(response) and response.json()["detail"][0]["loc"] == ["body", name]
    assert api.get(f"/api/notes/{note['id']}").json() == note


@pytest.mark.parametrize(("field", "value"), [
    ("call_date", 0), ("call_date", 1_700_000_000), ("call_date", "2026-11-20T00:00:00"),
    ("call_date", "20261120"), ("call_date", "2026-02-30"), ("call_date", True),
    ("customer_id", "float"), ("customer_id", "text"), ("customer_id", True), ("milestone_ids", ["float"]),
])
def test_strict_dates_and_ids_in_bodies(api: TestClient, field: str, value: object) -> None:
    customer = api.post("/api/customers", json={"name": "Contoso"}).json()["id"]
    spelled = {"float": float(customer), "text": str(customer)}  # the customer's id, written otherwise
    if isinstance(value, list):
        value = [spelled[v] for v in value]
    elif isinstance(value, str) and value in spelled:
        value = spelled[value]
    response = api.post("/api/notes", json={"body": "x", "call_date": "2026-11-20", "customer_id": customer,
                                            field: value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert api.get("/api/notes").json() == []


def test_strict_ids_and_dates_in_paths_and_queries(api: TestClient) -> None:
    note = _note(api)
    for path in (f"/api/notes/{note['id']}.0", f"/api/notes/+{note['id']}", "/api/notes/1e0"):
        response = api.get(path)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "note_id"]
    for path in (f"/notes/{note['id']}.0", f"/notes/+{note['id']}", f"/notes/{note['id']}%20",
                 f"/notes/{note['id']}.0/edit", f"/milestones/{note['id']}.0/team"):
        page = api.get(path, headers={"Accept": "text/html"})  # pages: no such page, in HTML
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), path
    assert api.get(f"/notes/0{note['id']}").status_code == 200
    assert api.post(f"/notes/{note['id']}.0/delete").status_code == 404
    assert api.get(f"/api/notes/{note['id']}").status_code == 200  # not deleted
    assert api.get("/api/notes", params={"customer_id": "1.0"}).status_code == 422
    assert api.get("/api/notes", params={"date_from": "0"}).status_code == 422
    assert api.get("/api/notes", params={"date_from": "2026-11-01"}).json()[0]["id"] == note["id"]


def _sent_outbox_row(settings: Settings) -> int:
    """An outbox row already sent (approving it is a conflict with its state)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            row = OutboxItem(kind=OutboxKind.CREATE_TASK, state=OutboxState.SENT, payload={},
                             crm_record_id=str(uuid.uuid4()), attempts=1, next_attempt_at=utcnow())
            session.add(row)
            session.flush()
            return row.id
    finally:
        engine.dispose()


def test_every_error_has_the_one_shape(api: TestClient, web_settings: Settings) -> None:
    note = _note(api)
    sent = _sent_outbox_row(web_settings)
    cases = {
        "404 note": api.get("/api/notes/999999"),
        "404 path": api.get("/api/nothing-here"),
        "405": api.put(f"/api/notes/{note['id']}", json={}),
        "409": api.post(f"/api/outbox/{sent}/approve"),
        "422 pydantic": api.post("/api/notes", json={"body": "x"}),
        "422 store rule": api.post("/api/notes", json={"body": "x", "call_date": "2026-11-20",
                                                       "milestone_ids": [999_999]}),
        "403": api.post("/api/notes", json={}, headers={"X-CSRF-Token": "wrong"}),
    }
    for name, response in cases.items():
        assert response.status_code == int(name[:3]), (name, response.text)
        assert error_text(response), name
    schema = api.get("/openapi.json").json()
    responses = schema["paths"]["/api/notes/{note_id}"]["get"]["responses"]
    for status in ("404", "409", "503", "500"):
        schema_of = responses[status]["content"]["application/json"]["schema"]
        assert schema_of == {"$ref": "#/components/schemas/ErrorOut"}, status
    item = schema["components"]["schemas"]["ErrorItem"]
    assert set(item["required"]) == {"loc", "msg", "type"}


def test_draft_key_with_a_trailing_newline_is_refused(api: TestClient) -> None:
    token = csrf_of(api)
    key = "new:123e4567-e89b-12d3-a456-426614174000"
    for bad in (f"{key}\n", f"{key}\r\n", f" {key}", "note:1\n", "note:1.0"):
        response = api.post("/editor/draft", data={"draft_key": bad, "body": "x", "csrf_token": token},
                            headers={"Accept": "application/json"})
        assert response.status_code == 422, repr(bad)
        assert "draft key" in error_text(response)
    saved = api.post("/editor/draft", data={"draft_key": key, "body": "x", "csrf_token": token})
    assert saved.status_code == 200


def test_head_and_options(client: TestClient) -> None:
    head = client.head("/api/notes")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert client.head("/").status_code == 200 and client.head("/static/app.css").status_code == 200
    options = client.options("/api/notes")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "access-control-allow-origin" not in options.headers
    assert client.options("/api/notes/1").headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    missing = client.options("/api/nothing-here")
    assert missing.status_code == 404 and error_text(missing)


def test_oversized_bodies_are_refused_before_they_are_read(api: TestClient) -> None:
    huge = b'{"body": "' + b"x" * (7 * 1024 * 1024) + b'", "call_date": "2026-11-20"}'
    response = api.post("/api/notes", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than" in error_text(response)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"body": "'
        for _ in range(8):
            yield b"x" * (1024 * 1024)
        yield b'", "call_date": "2026-11-20"}'

    chunked = api.post("/api/notes", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert api.get("/api/notes").json() == []


def test_link_urls_are_checked_on_the_way_in_and_when_rendered(
    api: TestClient, web_settings: Settings
) -> None:
    bad = api.post("/api/customers", json={"name": "Evil", "website": "javascript:alert(1)"})
    assert bad.status_code == 422 and "https://" in error_text(bad)
    customer = api.post("/api/customers", json={"name": "Contoso", "website": "contoso.example"}).json()["id"]
    assert api.get(f"/api/customers/{customer}").json()["website"] == "https://contoso.example"
    engine = make_engine(web_settings.resolved_database_url())  # as stored by an older version
    try:
        with session_scope(make_session_factory(engine)) as session:
            session.execute(update(Customer).values(website="javascript:alert(1)", msx_id="abc",
                                                    msx_url="javascript:alert(2)"))
    finally:
        engine.dispose()
    page = api.get(f"/customers/{customer}").text
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown as text only
    assert 'id="open-in-msx"' not in page
    assert 'href="javascript:' not in api.get(f"/customers/{customer}/edit").text


@pytest.fixture()
def served(web_settings: Settings) -> Iterator[tuple[str, object]]:
    app = create_app(web_settings)
    with running_server(app) as base:
        yield base, app


def _broken_factory() -> object:
    raise RuntimeError("database exploded at /secret/path")


def test_a_500_keeps_the_connection_and_a_422_too(served: tuple[str, object]) -> None:
    base, app = served
    with httpx.Client(base_url=base) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        created = client.post("/api/notes", json={"body": "x", "call_date": "2026-11-20"},
                              headers={"X-CSRF-Token": token})
        stream = created.extensions["network_stream"]
        refused = client.patch(f"/api/notes/{created.json()['id']}", json={"topics": None},
                               headers={"X-CSRF-Token": token})
        assert refused.status_code == 422 and refused.extensions["network_stream"] is stream
        working = app.state.read_session_factory  # type: ignore[attr-defined]
        app.state.read_session_factory = _broken_factory  # type: ignore[attr-defined]
        failed = client.get("/api/notes")
        assert failed.status_code == 500 and "secret" not in failed.text and error_text(failed)
        assert failed.headers.get("connection") != "close"
        app.state.read_session_factory = working  # type: ignore[attr-defined]
        again = client.get("/api/notes")
        assert again.status_code == 200 and again.extensions["network_stream"] is stream  # same connection


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_data_dir_and_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    settings = Settings(data_dir=data, crm_url=None)
    with TestClient(create_app(settings)) as client:
        token = csrf_of(client)
        assert client.post("/api/notes", json={"body": "x", "call_date": "2026-11-20"},
                           headers={"X-CSRF-Token": token}).status_code == 201
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"callnotes.db", "queue.db"} <= set(files)
    assert {name: mode for name, mode in files.items() if mode & 0o077} == {}, files


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_files_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    old = data / "callnotes.db"
    old.touch()
    old.chmod(0o644)
    with TestClient(create_app(Settings(data_dir=data, crm_url=None))) as client:
        assert client.get("/healthz").status_code == 200
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and stat.S_IMODE(old.stat().st_mode) == 0o600
