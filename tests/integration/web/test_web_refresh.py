"""``POST /api/refresh`` → 202 and ``GET /api/refresh`` (DESIGN.md §Connection contracts), CSRF on the
POSTs, the home page's "Refresh now" button and "Last refreshed …" line, a failed refresh's sentence,
the settings page's interval —
the real app with its in-process worker against the emulator over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.sync.refresh_job import refresh_minutes
from callnotes.web.app import create_app
from tests.integration.web.conftest import csrf_of, error_text

_KEYS = {"state", "started_at", "finished_at", "http_requests", "changed", "error"}


@pytest.fixture()
def refresh_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(accounts=5, seed=13)) as server:
        yield server


@pytest.fixture()
def app_client(refresh_server, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", crm_url=refresh_server.url,
                        auth="emulator", queue_name=f"web-refresh-{tmp_path.name[-30:]}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.app.state.runtime.queue.huey.flush()
        yield client


def _until_finished(client: TestClient, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/api/refresh").json()
        if body.get("state") != "running":
            return body
        time.sleep(0.1)
    raise AssertionError("the refresh did not finish")


def test_api_refresh_starts_one_and_reports_the_last(app_client, refresh_server) -> None:
    client = app_client
    missing = client.get("/api/refresh")
    assert missing.status_code == 404 and "No refresh has run yet" in error_text(missing)
    assert client.post("/api/refresh").status_code == 403  # no CSRF token: refused, nothing queued
    assert client.get("/api/refresh").status_code == 404
    headers = {"X-CSRF-Token": csrf_of(client)}

    started = client.post("/api/refresh", headers=headers)  # nothing imported yet: a full import

    assert started.status_code == 202 and set(started.json()) == _KEYS
    first = _until_finished(client)
    assert set(first) == _KEYS and first["state"] == "done" and first["error"] is None
    assert first["changed"] > 0 and first["finished_at"] >= first["started_at"]
    assert client.post("/api/refresh", headers=headers).status_code == 202
    second = _until_finished(client)
    assert (second["state"], second["changed"], second["http_requests"]) == ("done", 0, 1)

    refresh_server.configure(vpn_blocked=True)
    try:
        assert client.post("/api/refresh", headers=headers).status_code == 202
        failed = _until_finished(client)
    finally:
        refresh_server.configure(vpn_blocked=False)
    assert failed["state"] == "failed" and failed["error"].startswith("VPN seems down")
    assert "The mirror was not changed" in failed["error"]
    home = client.get("/").text  # the home page says it failed; the header's one banner says why
    assert "Last refresh failed: MSX could not be reached; the mirror was not changed." in home

    refresh_server.configure(fail_next=[{"fault": 429, "retry_after": 1, "times": 50}])
    try:
        assert client.post("/api/refresh", headers=headers).status_code == 202
        throttled = _until_finished(client, timeout=60)
    finally:
        refresh_server.configure(fail_next=[])
    assert throttled["state"] == "failed" and "throttling" in throttled["error"]
    assert "Last refresh failed: MSX is throttling requests" in client.get("/").text


def test_home_shows_last_refreshed_and_refresh_now_works(app_client) -> None:
    client = app_client
    page = client.get("/")
    assert 'id="refresh-now"' in page.text and "Not refreshed yet." in page.text
    fragment = client.post("/refresh", headers={"X-CSRF-Token": csrf_of(client), "HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="refresh-status"' in fragment.text
    assert "Refreshing from MSX" in fragment.text or "Last refreshed" in fragment.text
    _until_finished(client)
    home = client.get("/").text
    assert "Last refreshed" in home and "change" in home
    assert client.get("/refresh").text.count('id="refresh-now"') == 1


def test_the_settings_page_saves_the_refresh_interval(app_client, monkeypatch) -> None:
    client = app_client
    assert 'hx-get="/settings/refresh"' in client.get("/settings").text
    section = client.get("/settings/refresh")
    assert section.status_code == 200 and 'id="refresh-minutes"' in section.text
    assert 'value="30"' in section.text
    assert client.post("/settings/refresh", data={"minutes": "45"}).status_code == 403  # no CSRF token
    token = csrf_of(client)
    saved = client.post("/settings/refresh", data={"minutes": "45", "csrf_token": token})
    assert saved.status_code == 200 and "every 45 minutes" in saved.text
    settings = client.app.state.settings
    assert refresh_minutes(settings) == 45  # what the next minute's check uses: no restart
    for bad in ("abc", "0", "1441", ""):
        refused = client.post("/settings/refresh", data={"minutes": bad, "csrf_token": token})
        assert refused.status_code == 422 and "nothing was saved" in refused.text
    assert refresh_minutes(settings) == 45
    monkeypatch.setenv("CALLNOTES_REFRESH_MINUTES", "30")
    locked = client.post("/settings/refresh", data={"minutes": "10", "csrf_token": token})
    assert locked.status_code == 409 and "environment" in locked.text
    assert 'id="refresh-env"' in client.get("/settings/refresh").text
