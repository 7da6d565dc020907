"""FastAPI dependencies shared by the routes: a database session per request, templates, settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from callnotes.config import Settings
from callnotes.store.db import session_scope
from callnotes.store.errors import NotFound
from callnotes.store.limits import MAX_ID


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the handler returns, rolled back on error."""
    with session_scope(request.app.state.session_factory) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


#: ``scope="function"``: the commit happens before the response is sent, so a client that gets a 2xx
#: (or follows a redirect) always reads its own write, and a failed commit is an error response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with ``context`` (plus the CSRF token and settings)."""
    response: HTMLResponse = get_templates(request).TemplateResponse(
        request, name, context, status_code=status_code
    )
    return response


def checked_id(value: int, kind: str) -> int:
    """``value`` if it can be a database id (32-bit on PostgreSQL), else the store's NotFound."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(kind, value)
    return value


def id_or_none(text: str) -> int | None:
    """The database id written in ``text`` (a form or query field), or None when it is not one."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_ID else None


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
