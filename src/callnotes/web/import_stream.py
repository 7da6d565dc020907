"""The MSX import's progress as Server-Sent Events (``text/event-stream``).

Events: ``phase`` (``{"phase", "done", "total"}``) whenever a phase moves, then exactly one
``summary`` (``{"state", "lines", "error"}``) when the import is over, after which the stream ends.
A client connecting while no import runs gets the last result's summary at once.
Format: the WHATWG HTML "server-sent events" section (``event:`` / ``data:`` lines, blank line ends one).
The run is read from the store (the job queue runs the import, maybe in another process); each read
runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from callnotes.sync import jobs

#: How often the stream looks at the run.
POLL_SECONDS = 0.15


@dataclass(frozen=True)
class _Snapshot:
    active: bool
    progress: dict[str, list[int]]
    summary: dict[str, Any]


def sse_event(name: str, payload: dict[str, Any]) -> str:
    """One event; JSON never contains a raw newline, so one ``data:`` line is enough."""
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _read(factory: sessionmaker[Session]) -> _Snapshot:
    with factory() as session:
        run = jobs.latest_import(session)
        if run is None:
            return _Snapshot(False, {}, {"state": "idle", "lines": [], "error": None})
        summary = {"state": str(run.state), "lines": list(run.summary or []), "error": run.error}
        return _Snapshot(run.state.active, dict(run.progress or {}), summary)


async def import_events(
    factory: sessionmaker[Session], request: Request, poll: float = POLL_SECONDS
) -> AsyncIterator[str]:
    """Phase events while the latest import runs, then its summary."""
    sent: dict[str, tuple[int, int]] = {}
    yield "retry: 2000\n\n"
    while True:
        snapshot = await run_in_threadpool(_read, factory)
        for phase, (done, total) in snapshot.progress.items():
            if sent.get(phase) != (done, total):
                sent[phase] = (done, total)
                yield sse_event("phase", {"phase": phase, "done": done, "total": total})
        if not snapshot.active:
            yield sse_event("summary", snapshot.summary)
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(poll)
