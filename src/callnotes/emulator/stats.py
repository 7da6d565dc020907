"""Traffic counters and a bounded request log, read through ``GET /_emulator/stats`` and
``GET /_emulator/requests``.

``requests`` counts Web API HTTP requests (a ``$batch`` is one request, whatever it carries);
``batch_parts`` counts the operations found inside ``$batch`` bodies. Control endpoints
(``/_emulator/*``) are never counted. All methods are thread-safe: the server thread writes,
test threads read.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

REQUEST_LOG_SIZE = 500


@dataclass(frozen=True)
class RequestLogEntry:
    """One Web API HTTP request as the emulator saw it (never the Authorization header)."""

    at: str
    method: str
    path: str
    query: str
    status: int | None
    duration_ms: float
    entity_set: str | None = None
    batch_parts: int = 0
    outcome: str = "ok"  # ok | unauthorized | throttled | fault | dropped | vpn_blocked | error


class TrafficStats:
    """Counters since the last reset plus the most recent requests, oldest first."""

    def __init__(self, log_size: int = REQUEST_LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._log: deque[RequestLogEntry] = deque(maxlen=log_size)
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._requests = 0
        self._batch_requests = 0
        self._batch_parts = 0
        self._by_status: Counter[str] = Counter()
        self._by_entity_set: Counter[str] = Counter()
        self._by_method: Counter[str] = Counter()
        self._by_outcome: Counter[str] = Counter()
        self._since = datetime.now(UTC)

    def reset(self) -> None:
        with self._lock:
            self._reset_counters()
            self._log.clear()

    def record_request(self, entry: RequestLogEntry) -> None:
        """Count one Web API HTTP request (called once per HTTP request, batches included)."""
        with self._lock:
            self._requests += 1
            self._by_method[entry.method] += 1
            self._by_outcome[entry.outcome] += 1
            self._by_status[str(entry.status) if entry.status is not None else "dropped"] += 1
            if entry.batch_parts:
                self._batch_requests += 1
            if entry.entity_set:
                self._by_entity_set[entry.entity_set] += 1
            self._log.append(entry)

    def record_batch_parts(self, count: int, entity_sets: list[str | None]) -> None:
        """Count the ``count`` operations of one ``$batch`` body and the entity sets of those run."""
        with self._lock:
            self._batch_parts += count
            for name in entity_sets:
                if name:
                    self._by_entity_set[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "batch_requests": self._batch_requests,
                "batch_parts": self._batch_parts,
                "by_status": dict(self._by_status),
                "by_entity_set": dict(self._by_entity_set),
                "by_method": dict(self._by_method),
                "by_outcome": dict(self._by_outcome),
                "since": self._since.isoformat(),
            }

    def recent(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._log)
        if limit is not None:
            entries = entries[-limit:] if limit > 0 else []
        return [asdict(e) for e in entries]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
