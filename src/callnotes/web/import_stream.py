"""The MSX import's progress as Server-Sent Events (``text/event-stream``).

Events: ``phase`` (``{"phase", "done", "total"}``) whenever a phase moves, then exactly one
``summary`` (``{"state", "lines", "error"}``) when the import is over, after which the stream ends.
A client connecting while no import runs gets the last result's summary at once.
Format: the WHATWG HTML "server-sent events" section (``event:`` / ``data:`` lines, blank line ends one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

from callnotes.msx.jobs import ImportJob

#: How often the stream looks at the job (the import runs in its own thread).
POLL_SECONDS = 0.15


def sse_event(name: str, payload: dict[str, Any]) -> str:
    """One event; JSON never contains a raw newline, so one ``data:`` line is enough."""
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _summary(job: ImportJob) -> dict[str, Any]:
    lines = job.summary.lines() if job.summary is not None else []
    return {"state": str(job.state), "lines": lines, "error": job.error}


async def import_events(job: ImportJob, request: Request, poll: float = POLL_SECONDS) -> AsyncIterator[str]:
    """Phase events while ``job`` runs, then its summary."""
    sent: dict[str, tuple[int, int]] = {}
    yield "retry: 2000\n\n"
    while True:
        running = job.running  # read before the phases: the job records its last phase, then finishes
        for event in job.phases.values():
            if sent.get(event.phase) != (event.done, event.total):
                sent[event.phase] = (event.done, event.total)
                yield sse_event("phase", {"phase": event.phase, "done": event.done, "total": event.total})
        if not running:
            yield sse_event("summary", _summary(job))
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(poll)
