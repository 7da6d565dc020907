"""HTTP details the framework leaves open: ``HEAD`` and ``OPTIONS`` for every route, and a bound on
request bodies.

* ``HEAD`` is answered as ``GET`` without the body (RFC 9110 §9.3.2); FastAPI routes only list the
  methods they were declared with, so without this every ``HEAD`` was a 405.
* ``OPTIONS`` answers 204 with ``Allow`` naming the path's methods (RFC 9110 §9.3.7), or the 404 of
  an unknown path. No CORS headers: other origins get nothing from this app.
* A request body larger than its bound (:func:`body_limit`) is refused with 413 before it is read
  (``Content-Length``), or as soon as it grows past the bound (chunked).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callnotes.store.limits import IMPORT_FILE_MAX_BYTES, NOTE_BODY_MAX
from callnotes.web.errors import error_response, item

#: Paths that take file uploads (the settings page's import), and their bound; every other body
#: may hold a note at its longest, each character escaped in JSON (``\\uXXXX``), and then some.
UPLOAD_PATHS = ("/settings/import",)
UPLOAD_BODY_MAX = IMPORT_FILE_MAX_BYTES + 1024 * 1024
BODY_MAX = 6 * NOTE_BODY_MAX + 1024 * 1024


def body_limit(path: str) -> int:
    return UPLOAD_BODY_MAX if path in UPLOAD_PATHS else BODY_MAX


#: The methods a route can be declared with (HEAD and OPTIONS are answered here).
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(scope: Scope) -> set[str]:
    """The methods the app answers at the scope's path (empty: no route there). Asks each route
    whether it fully matches the path with each method (the public ``matches`` of Starlette routes;
    a mount, the static files, answers GET)."""
    methods: set[str] = set()
    for method in _METHODS:
        probe = dict(scope, method=method)
        for route in scope["app"].router.routes:
            if route.matches(probe)[0] is Match.FULL:
                methods.add("GET" if isinstance(route, Mount) else method)
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else set()


class ProtocolMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await self._options(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            await self.app(dict(scope, method="GET"), receive, _without_body(send))
            return
        await self._bounded(scope, receive, send)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = _allowed_methods(scope)
        response: Response
        if methods:
            response = Response(status_code=204, headers={"Allow": ", ".join(sorted(methods))})
        else:
            response = error_response(Request(scope, receive), 404, [item("Not Found", "not_found")])
        await response(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            too_large = [item(_too_large(limit), "too_large", ["body"])]
            response = error_response(Request(scope, receive), 413, too_large)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # answered by the app's HTTPException handler
                    raise StarletteHTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit // (1024 * 1024)} MB."


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
