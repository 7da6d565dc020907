"""The one place where exceptions become HTTP answers: JSON for the API, an HTML page otherwise.

Every JSON error has one shape, documented in the OpenAPI schema (:data:`ERROR_RESPONSES`)::

    {"detail": [{"loc": ["body", "call_date"], "msg": "…", "type": "…"}, …]}

the shape FastAPI gives request validation errors (422), used for every other error too: 400, 403
(CSRF), 404, 405, 409, 413, 422 raised by the store's rules, 503 (database busy) and 500.

Never a stack trace to the client: unexpected errors are logged with their trace and answered with
a short message — by :class:`CatchAllMiddleware`, so the connection stays usable (an exception left
to Starlette's outermost middleware is re-raised to the server, which then drops the connection).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callnotes.store import errors as store_errors
from callnotes.sync.webhooks import WebhookMalformed, WebhookUnauthorized
from callnotes.web.csrf import CsrfError

_log = logging.getLogger(__name__)
#: Seconds a client is told to wait before sending a request again after a 503.
RETRY_AFTER_SECONDS = 1


class ErrorItem(BaseModel):
    """One thing wrong with a request: where (``loc``), what (``msg``), which kind (``type``)."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'call_date'], ['path', 'note_id'], []")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer of the JSON API."""

    detail: list[ErrorItem]


#: Added to every operation of the OpenAPI schema (``FastAPI(responses=…)``); 422 keeps FastAPI's
#: own ``HTTPValidationError``, which is the same shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "Bad request (e.g. an import file that cannot be read, a malformed webhook body)"),
        (401, "Not authenticated (a webhook without its key or signature)"),
        (403, "CSRF check failed"),
        (404, "No such record or page"),
        (405, "Method not allowed"),
        (409, "Conflicts with stored data or with the record's state"),
        (413, "Request body too large"),
        (500, "Internal error (details in the server log)"),
        (503, "Database busy; send the request again after Retry-After seconds"),
    )
}


class WebError(Exception):
    """An error the web layer raises itself, with the status it maps to."""

    status_code = 400

    def __init__(self, message: str, *, status_code: int | None = None, loc: Sequence[str | int] = (),
                 kind: str = "bad_request") -> None:
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code
        self.loc, self.kind = list(loc), kind


class NotFoundError(WebError):
    status_code = 404


def item(msg: str, kind: str, loc: Sequence[str | int] = ()) -> dict[str, Any]:
    """One ``{loc, msg, type}`` entry of ``detail``."""
    return {"loc": list(loc), "msg": msg, "type": kind}


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/api", "/webhooks")) or request.url.path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _message(entry: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in entry["loc"] if part not in ("body", "query", "path", "header"))
    return f"{where}: {entry['msg']}" if where else str(entry["msg"])


def error_response(
    request: Request, status: int, items: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Response:
    """Answer ``status`` as ``{"detail": [items]}`` JSON or as the error page listing the messages."""
    response: Response
    if _wants_json(request):
        response = JSONResponse({"detail": items}, status_code=status, headers=headers)
        return response
    context = {
        "status": status,
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "messages": [_message(entry) for entry in items],
    }
    templates = request.app.state.templates
    response = templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)
    return response


def error_json(status: int, msg: str, kind: str, loc: Sequence[str | int] = ()) -> JSONResponse:
    """A JSON error answer in the one shape, for routes that answer JSON themselves."""
    return JSONResponse({"detail": [item(msg, kind, loc)]}, status_code=status)


#: The store's errors: status and ``type``.
_STORE_ERRORS: dict[type[store_errors.StoreError], tuple[int, str]] = {
    store_errors.NotFound: (404, "not_found"),
    store_errors.ValidationError: (422, "value_error"),
    store_errors.NaiveDatetimeError: (422, "value_error"),
    store_errors.Conflict: (409, "conflict"),
    store_errors.ImportFileError: (400, "import_file"),
    store_errors.DatabaseBusy: (503, "busy"),
}


def _store_kind(exc: store_errors.StoreError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in _STORE_ERRORS:
            return _STORE_ERRORS[kind]
    return 500, "internal"


def store_error_status(exc: store_errors.StoreError) -> int:
    """The HTTP status of a store error (pages that show a refusal in place, not as an error page)."""
    return _store_kind(exc)[0]


async def _on_store_error(request: Request, exc: store_errors.StoreError) -> Response:
    status, kind = _store_kind(exc)
    if status == 500:
        _log.error("unmapped store error on %s %s: %r", request.method, request.url.path, exc)
        return _internal(request)
    loc: list[str | int] = []
    if isinstance(exc, store_errors.ValidationError) and exc.field:
        loc = ["body", exc.field]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return error_response(request, status, [item(str(exc), kind, loc)], headers)


#: Errors of the sync layer that requests can cause: status and ``type``.
_SYNC_ERRORS: dict[type[Exception], tuple[int, str]] = {
    WebhookUnauthorized: (401, "unauthorized"),
    WebhookMalformed: (400, "malformed"),
}


async def _on_sync_error(request: Request, exc: Exception) -> Response:
    status, kind = _SYNC_ERRORS[type(exc)]
    return error_response(request, status, [item(str(exc), kind)])


async def _on_validation(request: Request, exc: RequestValidationError) -> Response:
    items = [item(str(e.get("msg", "invalid")), str(e.get("type", "value_error")), e.get("loc", ()))
             for e in exc.errors()]
    return error_response(request, 422, items)


_HTTP_KINDS = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
    message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
    kind = _HTTP_KINDS.get(exc.status_code, "http_error")
    return error_response(request, exc.status_code, [item(message, kind)], dict(exc.headers or {}))


async def _on_csrf(request: Request, exc: CsrfError) -> Response:
    _log.warning("CSRF check failed for %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 403, [item(f"Forbidden: {exc}", "csrf", ["header", "x-csrf-token"])])


async def _on_web_error(request: Request, exc: WebError) -> Response:
    return error_response(request, exc.status_code, [item(str(exc), exc.kind, exc.loc)])


def _internal(request: Request) -> Response:
    message = "Internal error: the details are in the server log."
    return error_response(request, 500, [item(message, "internal")])


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _internal(request)


class CatchAllMiddleware:
    """Answers an unexpected exception with the short 500 itself (logged with its trace), so the
    server keeps the connection; after the response has started there is nothing to answer: the
    exception goes on (the server drops the connection), or, once the response is complete (a
    background task failed), it is only logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress = {"started": False, "complete": False}

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                progress["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            request = Request(scope, receive)
            _log.exception("unhandled error on %s %s", request.method, request.url.path)
            if progress["complete"]:
                return
            if progress["started"]:
                raise
            await _internal(request)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers and the catch-all (innermost of the app's own middlewares)."""
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfError, _on_csrf)  # type: ignore[arg-type]
    app.add_exception_handler(WebError, _on_web_error)  # type: ignore[arg-type]
    app.add_exception_handler(store_errors.StoreError, _on_store_error)  # type: ignore[arg-type]
    for sync_error in _SYNC_ERRORS:
        app.add_exception_handler(sync_error, _on_sync_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(CatchAllMiddleware)
