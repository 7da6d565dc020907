"""The app as ``callnotes serve`` runs it (real uvicorn, loopback, trusted hosts) with a plain HTTP
client doing what the README tells an API client to do."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from callnotes.config import Settings
from callnotes.web.app import create_app
from callnotes.web.server import running_server, trusted_hosts


@pytest.fixture()
def base_url(web_settings: Settings) -> Iterator[str]:
    app = create_app(web_settings, trusted_hosts=trusted_hosts("127.0.0.1", allow_remote=False))
    with running_server(app) as base:
        yield base


def test_api_client_flow_from_the_readme(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        token = client.get("/api/csrf").json()["csrf_token"]  # also sets the cookie
        headers = {"X-CSRF-Token": token}
        customer = client.post("/api/customers", json={"name": "Contoso", "tpid": "42"}, headers=headers)
        assert customer.status_code == 201
        note = client.post("/api/notes", headers=headers, json={
            "customer_id": customer.json()["id"], "body": "Kickoff", "call_date": "2026-11-20",
            "topics": ["AKS"]})
        assert note.status_code == 201
        assert client.get("/api/notes").json()[0]["id"] == note.json()["id"]
        assert client.post("/api/customers", json={"name": "No token"}).status_code == 403


def test_dns_rebinding_host_is_refused(base_url: str) -> None:
    """A hostile name resolving to 127.0.0.1 is not accepted as this app's host."""
    with httpx.Client(base_url=base_url) as client:
        port = base_url.rsplit(":", 1)[1]
        assert client.get("/healthz", headers={"Host": f"evil.example:{port}"}).status_code == 400
        assert client.get("/api/notes", headers={"Host": f"localhost:{port}"}).status_code == 200
