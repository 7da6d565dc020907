"""Retry policy: which answers are retried, how long to wait, and when to give up.

Dataverse service protection limits answer 429 with a ``Retry-After`` header the client must honour
(powerapps-docs/developer/data-platform/api-limits.md, "How to re-try"); RFC 9110 §10.2.3 allows
``Retry-After`` as delay-seconds or an HTTP-date. Transient 408/5xx and dropped connections are
retried with exponential backoff and jitter inside a total time budget.

The clock, the sleep and the random source are injectable so tests never wait for real.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: Statuses that mean "try again later" (the MSX helper's list, reference/000 "How Requests Are Made").
RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

#: Per-request timeout and the hard cap a caller may raise it to (reference/000).
DEFAULT_TIMEOUT_S = 20.0
MAX_TIMEOUT_S = 30.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def clamp_timeout(seconds: float | None) -> float:
    """The per-request timeout: 20 s by default, never above the 30 s cap, never below 1 s."""
    if seconds is None:
        return DEFAULT_TIMEOUT_S
    return min(MAX_TIMEOUT_S, max(1.0, float(seconds)))


@dataclass
class RetryPolicy:
    """How retries behave. One policy per client; each request gets its own :class:`RetryState`."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    budget: float = 120.0
    statuses: frozenset[int] = RETRY_STATUSES
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential, capped, with equal jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def start(self) -> RetryState:
        return RetryState(self, started=self.clock())


@dataclass
class RetryState:
    """Book-keeping for one logical request across its attempts."""

    policy: RetryPolicy
    started: float
    attempts: int = 0
    waited: float = 0.0

    def should_retry_status(self, status: int) -> bool:
        return status in self.policy.statuses

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to sleep before the next attempt, or None when attempts or budget are spent.

        ``Retry-After`` wins over the computed backoff; a wait that would overrun the budget ends it.
        """
        if self.attempts >= self.policy.max_attempts:
            return None
        delay = retry_after if retry_after is not None else self.policy.backoff(self.attempts)
        elapsed = self.policy.clock() - self.started
        if elapsed + delay > self.policy.budget:
            return None
        return delay

    def wait(self, delay: float) -> None:
        self.waited += delay
        if delay > 0:
            self.policy.sleep(delay)
