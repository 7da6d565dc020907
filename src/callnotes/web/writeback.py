"""What the routes need of write-back: the mode in force, the queue, and a drain once the request's
transaction has committed (a worker that looked earlier would find nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import BackgroundTasks, Request
from jinja2 import Environment

from callnotes.config import Settings, current_writeback
from callnotes.domain import HokCategory, WritebackMode
from callnotes.store.models import OutboxItem, OutboxState
from callnotes.store.repo.outbox import describe
from callnotes.sync.queue import JobQueue
from callnotes.web.links import task_msx_url


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


def _category(code: object) -> HokCategory | None:
    if isinstance(code, int) and not isinstance(code, bool) and code in HokCategory._value2member_map_:
        return HokCategory(code)
    return None


def category_label(code: object) -> str:
    """An MSX task category's label ("Workshop"), or "" for a code that is none."""
    category = _category(code)
    return category.label if category is not None else ""


def is_hok(code: object) -> bool:
    """Whether ``code`` is one of the eight hands-on-keyboard categories."""
    category = _category(code)
    return category is not None and category.is_hok


def install_writeback_helpers(env: Environment) -> None:
    """What the write-back templates use: a write in words, MSX task links, category labels."""
    env.globals["describe_write"] = describe
    env.globals["task_link"] = task_msx_url
    env.filters["category_label"] = category_label
    env.filters["is_hok"] = is_hok
