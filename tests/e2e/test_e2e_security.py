"""Security in a real browser: a hostile note cannot run script, and a page on another origin cannot
make the user's browser change anything (CSRF), against the app under real uvicorn."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Response

from callnotes.config import Settings
from callnotes.web.app import create_app
from callnotes.web.server import free_port, running_server

pytestmark = [pytest.mark.browser]

_HOSTILE = (
    "# Hostile\n<script>window.pwned = 'inline'</script>\n\n"
    "[click me](javascript:window.pwned='link')\n\n"
    "<img src=x onerror=\"window.pwned='img'\">"
)


@pytest.fixture()
def base_url(tmp_path: Path) -> Iterator[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sec.db'}", data_dir=tmp_path, crm_url=None)
    with running_server(create_app(settings)) as base:
        yield base


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture()
def evil_site(tmp_path: Path, base_url: str) -> Iterator[str]:
    """Another origin (``localhost`` on another port) serving a self-submitting form aimed at the app."""
    site = tmp_path / "evil"
    site.mkdir()
    (site / "index.html").write_text(
        f'<form id="f" method="post" action="{base_url}/customers">'
        '<input name="name" value="Evil Corp"></form>'
        '<script>document.getElementById("f").submit()</script>',
        encoding="utf-8",
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    port = free_port("127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def _post_note(base_url: str, body: str) -> int:
    with httpx.Client(base_url=base_url) as client:
        token = client.get("/api/csrf").json()["csrf_token"]
        response = client.post("/api/notes", json={"body": body, "call_date": "2026-11-20"},
                               headers={"X-CSRF-Token": token})
        response.raise_for_status()
        return response.json()["id"]


def test_hostile_note_runs_no_script_in_the_browser(context: BrowserContext, base_url: str) -> None:
    note_id = _post_note(base_url, _HOSTILE)
    page = context.new_page()
    page.goto(f"{base_url}/notes/{note_id}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.pwned") is None
    body = page.locator("#note-body")
    assert body.locator("script, img, iframe").count() == 0
    hrefs = body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript")]
    if body.get_by_text("click me").count():
        body.get_by_text("click me").click()
    assert page.evaluate("window.pwned") is None
    assert "<script>" in body.inner_text()  # shown to the reader as text


def test_cross_site_form_post_is_refused(context: BrowserContext, base_url: str, evil_site: str) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/")  # the user has the app open: the browser holds its cookie
    def is_attack(response: Response) -> bool:
        return response.url.endswith("/customers") and response.request.method == "POST"

    with page.expect_response(is_attack) as answer:
        page.goto(evil_site)
    assert answer.value.status == 403
    with httpx.Client(base_url=base_url) as client:
        assert client.get("/api/customers").json() == []
