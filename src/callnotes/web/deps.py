"""FastAPI dependencies shared by the routes: a database session per request, templates, settings.

How a request reaches the database (why the server never stalls under concurrent edits):

* Routes that touch the database are plain ``def``: FastAPI runs them in a worker thread, so a
  query never blocks the event loop (a blocked loop cannot even start the commit of the request
  that holds the lock it waits for). Request bodies are read before, on the loop (``NoteFormDep``).
* :class:`DatabaseGate` admits requests to the database: at most ``slots`` at once (fewer than
  the connection pool and the thread pool hold, so no admitted request waits for either), and, on
  SQLite, one writing request at a time, queued in arrival order on the event loop. SQLite allows
  one writer; without the queue every waiting writer would sit in a worker thread polling the lock
  (SQLite's busy handler), the unlucky ones for seconds.
* Reading requests (``GET``/``HEAD``/``OPTIONS``) get read-only sessions, which on SQLite never take
  the write lock (``make_session_factory(read_only=True)``): pages and ``/healthz`` never wait for a
  writer.
* The commit happens before the response is sent (an acknowledged write is stored); a database
  still busy after the waits becomes :class:`DatabaseBusy` (503 with ``Retry-After``), never a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from callnotes.config import Settings
from callnotes.store.column_types import utcnow
from callnotes.store.db import POOL_CAPACITY, end_session, is_postgres
from callnotes.store.errors import DatabaseBusy, NotFound
from callnotes.store.limits import MAX_ID
from callnotes.web.csrf import SAFE_METHODS

#: Requests of this process using the database at once (the pool holds POOL_CAPACITY connections;
#: the rest stay for the job queue's threads).
DATABASE_SLOTS = POOL_CAPACITY - 6
#: How long a request may queue for the database before it is answered 503 (seconds).
ADMISSION_WAIT_SECONDS = 10.0


class DatabaseGate:
    """Admission of this process's requests to the database (see the module docstring)."""

    def __init__(self, *, serial_writes: bool, slots: int = DATABASE_SLOTS,
                 wait_seconds: float = ADMISSION_WAIT_SECONDS) -> None:
        # Semaphores, not a Lock: fair (first come, first served) and not tied to the task that took it.
        self._writer = anyio.Semaphore(1) if serial_writes else None
        self._slots = anyio.Semaphore(slots)
        self._wait = wait_seconds

    @classmethod
    def for_engine(cls, engine: Engine) -> DatabaseGate:
        """Serial writes on SQLite (one writer at a time); PostgreSQL locks rows, not the database."""
        return cls(serial_writes=not is_postgres(engine))

    @asynccontextmanager
    async def admit(self, *, write: bool) -> AsyncIterator[None]:
        """Wait for a turn (writers first queue for the write turn, holding no slot meanwhile)."""
        try:
            with anyio.fail_after(self._wait):
                if write and self._writer is not None:
                    await self._writer.acquire()
                try:
                    await self._slots.acquire()
                except BaseException:
                    self._release_writer(write)
                    raise
        except TimeoutError:
            raise DatabaseBusy("The server is busy with other changes; nothing changed. "
                               "Try again in a moment.") from None
        try:
            yield
        finally:
            self._slots.release()
            self._release_writer(write)

    def _release_writer(self, write: bool) -> None:
        if write and self._writer is not None:
            self._writer.release()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed when the handler returns, rolled back on error.

    The session is used in the route's worker thread; it is committed or rolled back and closed in a
    worker thread too (shielded: a cancelled request still releases its connection and its turn)."""
    state = request.app.state
    write = request.method not in SAFE_METHODS
    async with state.database_gate.admit(write=write):
        session: Session = (state.session_factory if write else state.read_session_factory)()
        try:
            yield session
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(end_session, session, exc)
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(end_session, session)


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


async def stamp_request_start(request: Request) -> None:
    """FastAPI dependency applied to every route, before any reads: when this request began. A page
    hands it to its outbox badge (``page_started``), which then raises ``outbox-changed`` for any
    write that changed after it — one that landed while the page was being made included."""
    request.state.started_at = utcnow()


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
    if not (text.isascii() and text.isdigit()) or len(text) > 10:  # "²".isdigit() is True too
        return None
    return int(text) if 1 <= int(text) <= MAX_ID else None


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
