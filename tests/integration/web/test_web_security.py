"""Security of the web app: CSRF on every state change, sanitised notes, headers, no stack traces."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from callnotes.web.csrf import COOKIE_NAME

from .conftest import csrf_of, error_text

_XSS_BODY = (
    "# Call\n<script>window.pwned = 1</script>\n\n"
    "[click me](javascript:alert(document.cookie))\n\n"
    '<a href="javascript:alert(1)">raw link</a> <img src=x onerror="alert(1)">'
)


class _Tags(HTMLParser):
    """The real elements of an HTML fragment (escaped text that looks like a tag is not one)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def _assert_harmless(html: str) -> None:
    for tag, attrs in _Tags(html).tags:
        assert tag not in {"script", "img", "iframe", "svg", "style", "object", "embed"}, tag
        assert not any(name.startswith("on") for name in attrs), attrs
        for name in ("href", "src"):
            assert not attrs.get(name, "").strip().lower().startswith(("javascript:", "vbscript:", "data:"))


def _create_note_via_api(client: TestClient, body: str) -> int:
    token = csrf_of(client)
    response = client.post("/api/notes", json={"body": body, "call_date": "2026-11-20"},
                           headers={"X-CSRF-Token": token})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_script_and_javascript_links_in_a_note_are_neutralised_on_render(client: TestClient) -> None:
    note_id = _create_note_via_api(client, _XSS_BODY)
    page = client.get(f"/notes/{note_id}").text
    article = page[page.index('id="note-body"'):page.index("</article>")]
    _assert_harmless(article)
    scripts = [attrs for tag, attrs in _Tags(page).tags if tag == "script"]
    assert scripts and all(attrs.get("src", "").startswith("/static/") for attrs in scripts)
    assert "&lt;script&gt;" in article  # shown as text, so nothing the user wrote disappears
    # the raw Markdown is kept as written
    assert client.get(f"/api/notes/{note_id}").json()["body"] == _XSS_BODY


def test_preview_is_sanitised_like_the_note_page(client: TestClient) -> None:
    token = csrf_of(client)
    html = client.post("/editor/preview", data={"body": _XSS_BODY, "csrf_token": token}).text
    _assert_harmless(html)
    assert "&lt;script&gt;" in html


def test_every_page_sends_a_strict_content_security_policy(client: TestClient) -> None:
    for path in ("/", "/notes/new", "/api/notes", "/nope"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"


def test_csrf_cookie_is_strict_and_http_only(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie
    assert "Max-Age=" in cookie  # survives a browser restart, like the drafts


def test_cross_site_form_post_without_token_is_refused(client: TestClient) -> None:
    """What an evil page's auto-submitting form does: no token, a foreign Origin, cross-site fetch."""
    client.get("/")  # the victim has a session cookie
    response = client.post(
        "/customers", data={"name": "Evil Corp"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Accept": "text/html"},
    )
    assert response.status_code == 403
    assert "Forbidden" in response.text and "Traceback" not in response.text
    assert client.get("/api/customers").json() == []


@pytest.mark.parametrize(
    ("headers", "form_token", "why"),
    [
        ({}, None, "missing CSRF token"),
        ({}, "wrong-token", "does not match"),
        ({"X-CSRF-Token": "wrong-token"}, None, "does not match"),
        ({"Sec-Fetch-Site": "cross-site"}, "GOOD", "cross-site"),
        ({"Sec-Fetch-Site": "same-site"}, "GOOD", "cross-site"),
        ({"Origin": "https://evil.example"}, "GOOD", "another origin"),
        ({"Origin": "null"}, "GOOD", "another origin"),
    ],
)
def test_state_changes_fail_each_csrf_check(client: TestClient, headers: dict, form_token: str | None,
                                            why: str) -> None:
    good = csrf_of(client)
    data = {"name": "Contoso"}
    if form_token:
        data["csrf_token"] = good if form_token == "GOOD" else form_token
    response = client.post("/customers", data=data, headers={**headers, "Accept": "application/json"})
    assert response.status_code == 403
    assert why in error_text(response)
    assert client.get("/api/customers").json() == []


def test_a_post_without_the_cookie_is_refused_even_with_a_token(client: TestClient) -> None:
    token = csrf_of(client)
    client.cookies.clear()
    response = client.post("/api/customers", json={"name": "X"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 403 and "cookie" in error_text(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/notes"), ("patch", "/api/notes/1"), ("delete", "/api/notes/1"), ("post", "/notes"),
     ("post", "/notes/1/delete"), ("post", "/editor/draft"), ("post", "/settings/import"),
     ("post", "/customers/1")],
)
def test_every_state_changing_route_needs_the_token(client: TestClient, method: str, path: str) -> None:
    note_id = _create_note_via_api(client, "keep")
    response = client.request(method.upper(), path.replace("/1", f"/{note_id}"),
                              headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert client.get(f"/api/notes/{note_id}").json()["body"] == "keep"


def test_same_origin_browser_post_with_token_is_accepted(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/customers", data={"name": "Contoso", "csrf_token": token},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}, follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/customers/")


def test_errors_never_show_a_stack_trace(client: TestClient) -> None:
    for path in ("/notes/123456", "/customers/abc", "/api/notes/abc", "/definitely/not/here"):
        response = client.get(path)
        assert response.status_code in (404, 422)
        assert "Traceback" not in response.text and 'File "' not in response.text
    page = client.get("/customers/abc", headers={"Accept": "text/html"})
    assert "customer_id" in page.text and "<html" in page.text


def test_a_server_error_is_a_short_message(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the database under the app: the answer is a 500 with no internals."""
    for name in ("session_factory", "read_session_factory"):
        monkeypatch.setattr(client.app.state, name, _broken_factory)  # type: ignore[attr-defined]
    response = client.get("/api/notes")
    assert response.status_code == 500
    assert response.json() == {"detail": [
        {"loc": [], "msg": "Internal error: the details are in the server log.", "type": "internal"}]}
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 500 and "Traceback" not in page.text and "server log" in page.text


def _broken_factory() -> object:
    raise RuntimeError("database exploded at /secret/path")
