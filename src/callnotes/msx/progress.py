"""Progress events, cancellation and the end-of-import summary, shared by the CLI and the web UI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

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
    """Set from any thread; the import checks it between rounds and before committing."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise ImportCancelled()


@dataclass
class KindCounts:
    """Per record kind: how many MSX returned, how many were new, how many were marked gone."""

    seen: int = 0
    created: int = 0
    marked_gone: int = 0


@dataclass
class ImportSummary:
    """What an import did, by record kind, plus the HTTP cost. ``updated`` counts every kind."""

    counts: dict[str, KindCounts] = field(default_factory=dict)
    updated: int = 0
    http_requests: int = 0
    batch_parts: int = 0
    seconds: float = 0.0

    def kind(self, name: str) -> KindCounts:
        return self.counts.setdefault(name, KindCounts())

    @property
    def changed(self) -> int:
        return self.updated + sum(c.created + c.marked_gone for c in self.counts.values())

    def lines(self) -> list[str]:
        rows = [f"{name}: {c.seen} ({c.created} new, {c.marked_gone} gone from MSX)"
                for name, c in self.counts.items()]
        rows.append(f"{self.updated} existing records updated")
        cost = f"{self.http_requests} HTTP requests ({self.batch_parts} batched reads)"
        rows.append(f"{cost} in {self.seconds:.1f} s")
        return rows
