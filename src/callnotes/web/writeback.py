"""What the routes need of write-back: the mode in force, the queue, and a drain once the request's
transaction has committed (a worker that looked earlier would find nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import BackgroundTasks, Request

from callnotes.config import Settings, current_writeback
from callnotes.domain import WritebackMode
from callnotes.store.models import OutboxItem, OutboxState
from callnotes.sync.queue import JobQueue


def mode(request: Request) -> WritebackMode:
    settings: Settings = request.app.state.settings
    return current_writeback(settings)


def queue_of(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.runtime.queue
    return queue


def drain_after_response(request: Request, background: BackgroundTasks, items: Sequence[OutboxItem]) -> None:
    """Wake a drain once the response is out (the session commits before it is sent) when any of
    ``items`` may leave now."""
    if any(item.state is OutboxState.PENDING for item in items):
        background.add_task(queue_of(request).enqueue_drain)
