"""CSRF protection for every state-changing request (HTML forms, htmx and the JSON API).

Two independent checks, both required for POST / PUT / PATCH / DELETE:

1. *Same origin*: a browser's ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``: typed by the
   user) and an ``Origin`` header, when sent, must name this server. Non-browser clients send
   neither header and pass this check.
2. *Double-submit token*: the ``callnotes_csrf`` cookie (random, ``SameSite=Strict``) must equal the
   ``X-CSRF-Token`` header or, for a plain HTML form, the ``csrf_token`` form field.

Pages carry the token in a ``<meta>`` tag and a hidden form field; htmx sends it as a header.
An API client gets a token (and the cookie) from ``GET /api/csrf`` and echoes it in the header.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser
from starlette.types import Message, Scope

from callnotes.web.asgi import ResponseStartMiddleware, StartEditor

COOKIE_NAME = "callnotes_csrf"
HEADER_NAME = "x-csrf-token"
FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
#: Routes that authenticate every request themselves with a secret a browser does not send on its own
#: (a key in the URL or a header, an HMAC of the body — never a cookie): a cross-site page cannot forge
#: them, so they take no CSRF token. Only the Dataverse webhook receiver (web/routes/webhooks.py).
SELF_AUTHENTICATED_PATHS = frozenset({"/webhooks/dataverse"})
#: Persistent (a year), so an editor tab restored after a browser crash still holds a valid token.
_COOKIE_ATTRIBUTES = "Path=/; Max-Age=31536000; SameSite=Strict; HttpOnly"


class CsrfError(Exception):
    """A state-changing request failed the CSRF checks; ``str(exc)`` says which."""


def _cookie_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            token = cookie_parser(value.decode("latin-1")).get(COOKIE_NAME)
            if token:
                return token
    return None


class CsrfCookieMiddleware(ResponseStartMiddleware):
    """Gives every client a CSRF token cookie and exposes it as ``request.state.csrf_token``."""

    def prepare(self, scope: Scope) -> StartEditor | None:
        existing = _cookie_token(scope)
        token = existing or secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token
        if existing:
            return None

        def set_cookie(message: Message) -> None:
            MutableHeaders(scope=message).append("set-cookie", f"{COOKIE_NAME}={token}; {_COOKIE_ATTRIBUTES}")

        return set_cookie


def _check_same_origin(request: Request) -> None:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _ALLOWED_FETCH_SITES:
        raise CsrfError(f"cross-site request refused (Sec-Fetch-Site: {fetch_site})")
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise CsrfError(f"request from another origin refused (Origin: {origin})")


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER_NAME)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency applied to every route: refuses unsafe requests that fail the checks."""
    if request.method in SAFE_METHODS or request.url.path in SELF_AUTHENTICATED_PATHS:
        return
    _check_same_origin(request)
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        raise CsrfError("missing CSRF cookie: load a page or GET /api/csrf first")
    submitted = await _submitted_token(request)
    if not submitted:
        raise CsrfError("missing CSRF token: send the X-CSRF-Token header or the csrf_token form field")
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise CsrfError("CSRF token does not match the cookie")


def csrf_token(request: Request) -> str:
    """The token for this client (set by :class:`CsrfCookieMiddleware`)."""
    return str(request.state.csrf_token)
