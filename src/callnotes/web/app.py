"""The FastAPI application factory: pages, JSON API, static assets, CSRF and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Message, Scope

from callnotes import __version__
from callnotes.config import Settings, load_settings
from callnotes.store.db import make_session_factory
from callnotes.sync.runtime import open_runtime
from callnotes.sync.signin import Connection
from callnotes.web.asgi import ResponseStartMiddleware, StartEditor
from callnotes.web.csrf import CsrfCookieMiddleware, verify_csrf
from callnotes.web.deps import DatabaseGate, stamp_request_start
from callnotes.web.errors import ERROR_RESPONSES, install_error_handlers
from callnotes.web.links import milestone_msx_url, opportunity_msx_url, safe_href
from callnotes.web.markdown import render_markdown
from callnotes.web.protocol import ProtocolMiddleware
from callnotes.web.writeback import install_writeback_helpers

_log = logging.getLogger(__name__)
_HERE = Path(__file__).parent
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_SECURITY_HEADERS = (
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class _SecurityHeadersMiddleware(ResponseStartMiddleware):
    """Adds CSP and friends to every response (scripts only from /static, no framing)."""

    def prepare(self, scope: Scope) -> StartEditor:
        return _add_security_headers


def _add_security_headers(message: Message) -> None:
    names = {name for name, _ in message.get("headers", [])}
    extra = [header for header in _SECURITY_HEADERS if header[0] not in names]
    message["headers"] = [*message.get("headers", []), *extra]


def _templates() -> Jinja2Templates:
    def _context(request: Request) -> dict[str, Any]:
        token = getattr(request.state, "csrf_token", "")
        started: datetime | None = getattr(request.state, "started_at", None)
        return {"csrf_token": token, "settings": request.app.state.settings,
                "page_started": started.isoformat() if started else ""}

    templates = Jinja2Templates(directory=str(_HERE / "templates"), context_processors=[_context])
    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["datetime"] = _format_datetime
    templates.env.filters["money"] = _format_amount
    templates.env.globals["version"] = __version__
    templates.env.globals["milestone_link"] = milestone_msx_url
    templates.env.globals["opportunity_link"] = opportunity_msx_url
    install_writeback_helpers(templates.env)
    templates.env.filters["safe_href"] = safe_href
    return templates


def _format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _format_amount(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _routers() -> list[APIRouter]:
    from callnotes.web.routes import (
        action_items,
        api,
        calendar,
        connection,
        customers,
        directory,
        editor,
        hok,
        home,
        milestone_writes,
        milestones,
        msx,
        notes,
        opportunity_writes,
        outbox,
        outbox_api,
        refresh,
        report,
        search,
        settings,
        templates,
        webhooks,
        writeback_settings,
    )

    return [api.router, outbox_api.router, home.router, milestones.router, customers.router, editor.router,
            notes.router, search.router, directory.router, templates.router, settings.router, msx.router,
            webhooks.router, action_items.router, calendar.router, report.router, hok.router,
            outbox.router, milestone_writes.router, opportunity_writes.router, writeback_settings.router,
            refresh.router, connection.api, connection.router]


def _lifespan(settings: Settings, *, worker: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's life: the store and the job queue open (a consumer in-process unless ``worker`` is
    False) while it serves; on the way out the consumer stops, the sign-in closes, demo servers end."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.session_factory = runtime.session_factory
            app.state.read_session_factory = make_session_factory(runtime.engine, read_only=True)
            app.state.database_gate = DatabaseGate.for_engine(runtime.engine)
            consumer = runtime.queue.consumer() if worker else None
            if consumer is not None:
                consumer.start()
            try:
                yield
            finally:
                if consumer is not None:
                    consumer.stop(graceful=True)
                app.state.connection.close()
                for server in app.state.demo_servers:  # started by "Try the demo" (/welcome)
                    server.stop()

    return lifespan


def create_app(
    settings: Settings | None = None, *, trusted_hosts: Sequence[str] | None = None, worker: bool = True
) -> FastAPI:
    """Build the app for ``settings``; the database is upgraded to the latest schema on start.

    ``trusted_hosts``: when given, requests whose ``Host`` header names another host get a 400 —
    ``callnotes serve`` passes the loopback names, so a web page cannot reach the app through DNS
    rebinding (a hostile name that resolves to 127.0.0.1 would otherwise count as same-origin).
    ``worker``: run a job-queue consumer in this process (``callnotes serve --no-worker`` leaves the
    queue to ``callnotes worker`` processes).
    """
    settings = settings or load_settings()
    app = FastAPI(
        title="callnotes",
        version=__version__,
        lifespan=_lifespan(settings, worker=worker),
        dependencies=[Depends(stamp_request_start), Depends(verify_csrf)],
        responses=ERROR_RESPONSES,
        docs_url=None,  # Swagger UI needs a CDN and inline scripts; /openapi.json is enough
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = _templates()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    app.state.has_msx = True
    app.state.connection = Connection()  # the MSX sign-in in progress and the last check
    app.state.demo_servers = []
    for router in _routers():
        app.include_router(router)
    app.add_middleware(ProtocolMiddleware)
    app.add_middleware(CsrfCookieMiddleware)
    app.add_middleware(_SecurityHeadersMiddleware)
    if trusted_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(trusted_hosts))
    return app
