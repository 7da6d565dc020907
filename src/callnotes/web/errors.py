"""The one place where exceptions become HTTP answers: JSON for the API, an HTML page otherwise.

Never a stack trace to the client: unexpected errors are logged with their trace and answered
with a short message.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from callnotes.web.csrf import CsrfError

_log = logging.getLogger(__name__)


class WebError(Exception):
    """An error the web layer raises itself, with the status it maps to."""

    status_code = 400

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        if status_code is not None:
            self.status_code = status_code


class NotFoundError(WebError):
    status_code = 404


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/api", "/webhooks")) or request.url.path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _validation_messages(errors: list[dict[str, Any]]) -> list[str]:
    messages = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path"))
        messages.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg")))
    return messages


def error_response(request: Request, status: int, detail: Any, messages: list[str] | None = None) -> Response:
    """Answer ``status`` as ``{"detail": …}`` JSON or as the error page."""
    if _wants_json(request):
        return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=status)
    templates = request.app.state.templates
    context = {
        "status": status,
        "title": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error",
        "messages": messages or [str(detail)],
    }
    response: HTMLResponse = templates.TemplateResponse(request, "error.html", context, status_code=status)
    return response


async def _on_validation(request: Request, exc: RequestValidationError) -> Response:
    errors = [{key: error[key] for key in ("loc", "msg", "type") if key in error} for error in exc.errors()]
    return error_response(request, 422, errors, _validation_messages(errors))


async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if exc.detail else HTTPStatus(exc.status_code).phrase
    response = error_response(request, exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _on_csrf(request: Request, exc: CsrfError) -> Response:
    _log.warning("CSRF check failed for %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 403, f"Forbidden: {exc}")


async def _on_web_error(request: Request, exc: WebError) -> Response:
    return error_response(request, exc.status_code, str(exc))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "Internal error: the details are in the server log.")


def install_error_handlers(app: FastAPI, extra: dict[type[Exception], int] | None = None) -> None:
    """Register the handlers; ``extra`` maps further exception types (e.g. the store's) to statuses."""
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfError, _on_csrf)  # type: ignore[arg-type]
    app.add_exception_handler(WebError, _on_web_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)
    for exc_type, status in (extra or {}).items():

        async def _handler(request: Request, exc: Exception, _status: int = status) -> Response:
            return error_response(request, _status, str(exc))

        app.add_exception_handler(exc_type, _handler)
