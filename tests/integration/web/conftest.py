"""Web app fixtures: the real app (``create_app``) over the store's SQLite / PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.web.app import create_app


@pytest.fixture()
def web_settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own migrated database (``[sqlite]`` and ``[postgresql]``)."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data", crm_url=None)


@pytest.fixture()
def client(web_settings: Settings) -> Iterator[TestClient]:
    """A browser-like client: it has loaded no page yet, so it holds no CSRF cookie."""
    with TestClient(create_app(web_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def api(client: TestClient) -> TestClient:
    """An API client that fetched its CSRF token from ``GET /api/csrf`` and sends it on every call."""
    token = client.get("/api/csrf").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return client


def csrf_of(client: TestClient) -> str:
    """The token a page would embed for ``client`` (loads one page first if needed)."""
    return client.get("/api/csrf").json()["csrf_token"]


def error_text(response: object) -> str:
    """The messages of a JSON error answer, after checking its one shape: ``{"detail": [{loc, msg,
    type}, …]}`` (``response`` is an httpx / TestClient response)."""
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"detail"} and isinstance(body["detail"], list) and body["detail"], body
    for entry in body["detail"]:
        assert set(entry) == {"loc", "msg", "type"}, entry
        assert isinstance(entry["loc"], list) and isinstance(entry["msg"], str) and entry["type"], entry
    return " | ".join(entry["msg"] for entry in body["detail"])
