"""Progress events and cancellation of a long read, shared by the CLI, the web UI and the job queue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from callnotes.msx.errors import ImportCancelled


@dataclass(frozen=True)
class ProgressEvent:
    """``done`` of ``total`` units of ``phase`` are finished (total 0 = not known yet)."""

    phase: str
    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(_event: ProgressEvent) -> None:
    """The default callback: drop events."""


class CancelToken:
    """Set from any thread; the import checks it between rounds and before committing. A subclass
    may look elsewhere in ``cancelled`` (the job queue's looks at the run's row in the store)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise ImportCancelled()
