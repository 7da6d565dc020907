"""Service protection API limits: number of requests, combined execution time and concurrent
requests, each evaluated per user, answered with 429 + ``Retry-After``.

Follows powerapps-docs/developer/data-platform/api-limits.md: three facets (number of requests,
execution time, concurrent requests), a 300-second window in Dataverse, hex codes
0x80072322 / 0x80072321 / 0x80072326 and a ``Retry-After`` header in seconds.

The number of requests is metered like a sliding window that refills steadily (a token bucket,
computed as GCRA): a caller may send ``requests_per_window`` requests at once, then one more every
``window_seconds / requests_per_window`` seconds. ``Retry-After`` is honest (the next request
fits after it) and short, whatever the window. The defaults of ``throttle: true`` (100 requests
per 300 s, as in Dataverse's 300-second window) mean a burst of a few hundred requests meets 429
with ``Retry-After: 3`` on any machine that sends more than one request every two seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Hex codes from powerapps-docs/developer/data-platform/api-limits.md
# ("Service Protection API Limit Errors returned").
CODE_NUMBER_OF_REQUESTS = "0x80072322"
CODE_EXECUTION_TIME = "0x80072321"
CODE_CONCURRENT_REQUESTS = "0x80072326"

_THROTTLE_KEYS = ("requests_per_window", "window_seconds", "max_concurrent", "execution_ms_per_window")


class InvalidLimits(ValueError):
    """A throttle setting that cannot be applied (message says which and why)."""


@dataclass(frozen=True)
class ThrottleLimits:
    """Service-protection numbers. ``None`` switches one facet off."""

    requests_per_window: int | None = 100
    window_seconds: float = 300.0
    max_concurrent: int | None = 20
    execution_ms_per_window: int | None = None

    def __post_init__(self) -> None:
        for name in ("requests_per_window", "max_concurrent", "execution_ms_per_window"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidLimits(f"throttle.{name} must be a positive integer or null, got {value!r}")
        seconds = self.window_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 3600:
            raise InvalidLimits(f"throttle.window_seconds must be a number in (0, 3600], got {seconds!r}")

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _THROTTLE_KEYS}


def parse_throttle(value: object) -> ThrottleLimits | None:
    """``false``/``null`` → off; ``true`` → the tight defaults; an object tunes the numbers."""
    if value is None or value is False:
        return None
    if value is True:
        return ThrottleLimits()
    if isinstance(value, ThrottleLimits):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(_THROTTLE_KEYS))
        if unknown:
            raise InvalidLimits(f"unknown throttle setting(s) {unknown}; allowed: {list(_THROTTLE_KEYS)}")
        return ThrottleLimits(**dict(value))
    raise InvalidLimits(f"throttle must be true, false or an object, got {value!r}")


@dataclass(frozen=True)
class Rejection:
    """Why a request was refused: the documented code, a message and the wait in seconds."""

    code: str
    message: str
    retry_after: int


# Float slack so that exactly ``requests_per_window`` simultaneous requests always fit.
_SLACK = 1e-9


@dataclass
class _CallerUsage:
    next_free: float | None = None  # GCRA "theoretical arrival time" of the caller's next request
    executions: deque[tuple[float, float]] = field(default_factory=deque)  # (finished_at, ms)
    in_flight: int = 0


class ServiceProtection:
    """Admits or refuses Web API requests per caller; ``release`` must follow each admission."""

    def __init__(self, limits: ThrottleLimits | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._usage: dict[str, _CallerUsage] = {}

    @property
    def limits(self) -> ThrottleLimits | None:
        return self._limits

    def configure(self, limits: ThrottleLimits | None) -> None:
        with self._lock:
            self._limits = limits
            self._usage.clear()

    def admit(self, caller: str) -> Rejection | None:
        """Count the request in; a ``Rejection`` means it must be answered with 429."""
        with self._lock:
            usage = self._usage.setdefault(caller, _CallerUsage())
            limits = self._limits
            if limits is not None:
                now = self._clock()
                self._expire(usage, now, limits.window_seconds)
                rejection = self._check(usage, now, limits)
                if rejection is not None:
                    return rejection
                if limits.requests_per_window is not None:
                    usage.next_free = _spent_until(usage, now) + _interval(limits)
            usage.in_flight += 1
            return None

    def release(self, caller: str, elapsed_ms: float) -> None:
        with self._lock:
            usage = self._usage.setdefault(caller, _CallerUsage())
            usage.in_flight = max(0, usage.in_flight - 1)
            if self._limits is not None and self._limits.execution_ms_per_window is not None:
                usage.executions.append((self._clock(), elapsed_ms))

    def remaining_headers(self, caller: str) -> dict[str, str]:
        """The informational ``x-ms-ratelimit-*`` headers api-limits.md describes ("HTTP Response
        headers"): requests and execution milliseconds left in the window. Empty when limits are off."""
        with self._lock:
            limits, usage = self._limits, self._usage.get(caller)
            if limits is None or usage is None:
                return {}
            headers: dict[str, str] = {}
            if limits.requests_per_window is not None:
                left = _requests_left(usage, limits, self._clock())
                headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(left)
            if limits.execution_ms_per_window is not None:
                spent = sum(ms for _, ms in usage.executions)
                headers["x-ms-ratelimit-time-remaining-xrm-requests"] = (
                    f"{max(0.0, limits.execution_ms_per_window - spent):.2f}"
                )
            return headers

    @staticmethod
    def _expire(usage: _CallerUsage, now: float, window: float) -> None:
        while usage.executions and usage.executions[0][0] <= now - window:
            usage.executions.popleft()

    @staticmethod
    def _check(usage: _CallerUsage, now: float, limits: ThrottleLimits) -> Rejection | None:
        window = limits.window_seconds
        # Concurrency is refused at once (api-limits.md: "exceeding the number of concurrent
        # requests will immediately return an error").
        if limits.max_concurrent is not None and usage.in_flight >= limits.max_concurrent:
            return Rejection(
                CODE_CONCURRENT_REQUESTS,
                f"Number of concurrent requests exceeded the limit of {limits.max_concurrent}.",
                1,
            )
        if limits.requests_per_window is not None and _requests_left(usage, limits, now) < 1:
            wait = _spent_until(usage, now) + _interval(limits) - window - now
            return Rejection(
                CODE_NUMBER_OF_REQUESTS,
                f"Number of requests exceeded the limit of {limits.requests_per_window} "
                f"over time window of {_fmt_seconds(window)} seconds.",
                _retry_after(wait),
            )
        budget = limits.execution_ms_per_window
        if budget is not None and sum(ms for _, ms in usage.executions) >= budget:
            wait = usage.executions[0][0] + window - now
            return Rejection(
                CODE_EXECUTION_TIME,
                f"Combined execution time of incoming requests exceeded limit of {budget:,} milliseconds "
                f"over time window of {_fmt_seconds(window)} seconds. Decrease number of concurrent "
                "requests or reduce the duration of requests and try again later.",
                _retry_after(wait),
            )
        return None


def _interval(limits: ThrottleLimits) -> float:
    """Seconds the bucket takes to earn back one request."""
    assert limits.requests_per_window is not None
    return limits.window_seconds / limits.requests_per_window


def _spent_until(usage: _CallerUsage, now: float) -> float:
    """Up to when the caller's past requests use the window (never in the past)."""
    return now if usage.next_free is None else max(usage.next_free, now)


def _requests_left(usage: _CallerUsage, limits: ThrottleLimits, now: float) -> int:
    """Requests the caller may still send at once (``x-ms-ratelimit-burst-remaining-xrm-requests``)."""
    free = limits.window_seconds - (_spent_until(usage, now) - now)
    return max(0, math.floor(free / _interval(limits) + _SLACK))


def _retry_after(seconds: float) -> int:
    """Whole seconds, at least 1 (the header carries an integer number of seconds)."""
    return max(1, math.ceil(seconds - 1e-6))


def _fmt_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
