"""The MSX import's progress as Server-Sent Events, over real HTTP (uvicorn) against the emulator:
phase events with done / total, one final summary, and a cancel that leaves the store untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from callnotes.config import Settings
from callnotes.emulator import EmulatorServer
from callnotes.store import Customer, make_engine, make_session_factory
from callnotes.web.app import create_app
from callnotes.web.server import running_server


@pytest.fixture()
def settings(fresh_emulator: EmulatorServer, tmp_path: Path) -> Settings:
    return Settings(crm_url=fresh_emulator.api_url, auth="emulator", data_dir=tmp_path / "data",
                    database_url=f"sqlite:///{tmp_path / 'stream.db'}")


@pytest.fixture()
def http(settings: Settings) -> Iterator[httpx.Client]:
    with running_server(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.headers["X-CSRF-Token"] = client.get("/api/csrf").json()["csrf_token"]
        yield client


def _events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """Parse the stream as the WHATWG event-stream format says: fields until a blank line."""
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def _customers(settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url())
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count(Customer.id))) or 0
    finally:
        engine.dispose()


def test_an_import_streams_phases_then_a_summary(http, settings):
    assert http.post("/msx/import").status_code == 200
    with http.stream("GET", "/msx/import/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(_events(response))
    kinds = [name for name, _ in events]
    assert kinds[-1] == "summary" and kinds.count("summary") == 1 and "phase" in kinds
    phases = [payload for name, payload in events if name == "phase"]
    assert all(isinstance(p["done"], int) and isinstance(p["total"], int) and p["phase"] for p in phases)
    assert all(p["done"] <= p["total"] or p["total"] == 0 for p in phases)
    summary = events[-1][1]
    assert summary["state"] == "done" and summary["error"] is None
    assert any(line.startswith("customers: 10 (10 new") for line in summary["lines"])
    assert _customers(settings) == 10


def test_with_no_import_running_the_stream_ends_with_the_last_state(http):
    with http.stream("GET", "/msx/import/events") as response:
        assert list(_events(response)) == [("summary", {"state": "idle", "lines": [], "error": None})]


def test_cancel_while_streaming(http, settings, fresh_emulator):
    fresh_emulator.configure(latency_ms=300)
    try:
        http.post("/msx/import")
        with http.stream("GET", "/msx/import/events") as response:
            events = _events(response)
            first = next(events)
            assert first[0] == "phase"
            cancelled = http.post("/msx/import/cancel")
            assert cancelled.status_code == 200
            rest = list(events)
    finally:
        fresh_emulator.configure(latency_ms=0)
    name, summary = rest[-1]
    assert name == "summary" and summary["state"] == "cancelled"
    assert "Import cancelled" in summary["error"]
    assert _customers(settings) == 0


def test_cancel_and_start_need_the_csrf_token(http):
    for path in ("/msx/import", "/msx/import/cancel"):
        assert http.post(path, headers={"X-CSRF-Token": "forged"}).status_code == 403
