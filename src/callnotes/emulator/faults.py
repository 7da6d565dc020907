"""Fault injection: random transient failures at ``fault_rate``, latency with jitter, and
scripted faults (``fail_next``) that hit the next matching request deterministically.

A fault is one of: an HTTP status (429, 500, 502, 503, 504), ``drop`` (the TCP connection is
closed before any response byte), ``truncate`` (headers and part of the body, then the
connection closes) or ``drop_after_commit`` (the request is processed and committed, then the
connection is closed: the client cannot tell whether its write landed). Transient statuses
are those Dataverse clients are told to retry
(powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md;
powerapps-docs/developer/data-platform/api-limits.md for 429 + Retry-After).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from callnotes.emulator.limits import CODE_NUMBER_OF_REQUESTS

# 403 answer when the caller's IP is outside the allowed ranges (the MSX VPN case): the error
# code clients match on, with the "IP address is blocked" wording they look for.
CODE_IP_BLOCKED = "0x80095ffe"
MESSAGE_IP_BLOCKED = "Access denied: your IP address is blocked. Connect to the corporate network or VPN."
# Dataverse's generic "An unexpected error occurred." code (UnExpected), used for injected 5xx.
CODE_UNEXPECTED = "0x80040216"

_STATUS_FAULTS = (429, 500, 502, 503, 504)
_NAMED_FAULTS = ("drop", "truncate", "drop_after_commit")
_RANDOM_MENU: tuple[int | str, ...] = (*_STATUS_FAULTS, "drop", "truncate")
_SCRIPT_KEYS = ("method", "path_contains", "fault", "times", "retry_after")
_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class InvalidFaultSetting(ValueError):
    """A fault setting that cannot be applied; the message names the setting."""


@dataclass(frozen=True)
class Fault:
    """What to do to one request instead of (or after) answering it normally."""

    kind: Literal["status", "drop", "truncate"]
    status: int | None = None
    after_commit: bool = False
    retry_after: int | None = None

    def error_body(self) -> tuple[str, str]:
        """(code, message) for a status fault's Dataverse-shaped body."""
        if self.status == 429:
            return (
                CODE_NUMBER_OF_REQUESTS,
                "Number of requests exceeded the limit (injected fault). Retry after the Retry-After delay.",
            )
        reason = _REASONS.get(self.status or 500, "Error")
        return CODE_UNEXPECTED, f"An unexpected error occurred (injected transient {self.status} {reason})."

    def describe(self) -> str:
        if self.kind == "status":
            return str(self.status)
        return "drop_after_commit" if self.after_commit else self.kind


@dataclass
class ScriptedFault:
    """One ``fail_next`` entry: hits the next ``times`` requests that match."""

    fault: Fault
    method: str | None = None
    path_contains: str | None = None
    times: int = 1

    def matches(self, method: str, target: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path_contains is None or self.path_contains.lower() in target.lower()

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path_contains": self.path_contains,
            "fault": self.fault.describe() if self.fault.kind != "status" else self.fault.status,
            "times": self.times,
        }


def parse_fault(value: object, retry_after: object = None) -> Fault:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in _STATUS_FAULTS:
        wait = _positive_int(retry_after, "retry_after") if retry_after is not None else None
        return Fault("status", status=value, retry_after=wait if value == 429 else None)
    if value == "drop":
        return Fault("drop")
    if value == "truncate":
        return Fault("truncate")
    if value == "drop_after_commit":
        return Fault("drop", after_commit=True)
    allowed = [*_STATUS_FAULTS, *_NAMED_FAULTS]
    raise InvalidFaultSetting(f"fail_next fault must be one of {allowed}, got {value!r}")


def parse_fail_next(value: object) -> list[ScriptedFault]:
    """Validate a ``fail_next`` list (see docs/emulator.md for the shape)."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise InvalidFaultSetting("fail_next must be a list of objects")
    return [_parse_script_entry(i, entry) for i, entry in enumerate(value)]


def _parse_script_entry(index: int, entry: object) -> ScriptedFault:
    if isinstance(entry, ScriptedFault):
        return entry
    if not isinstance(entry, Mapping):
        raise InvalidFaultSetting(f"fail_next[{index}] must be an object")
    unknown = sorted(set(entry) - set(_SCRIPT_KEYS))
    if unknown:
        raise InvalidFaultSetting(
            f"fail_next[{index}]: unknown key(s) {unknown}; allowed: {list(_SCRIPT_KEYS)}"
        )
    if "fault" not in entry:
        raise InvalidFaultSetting(f"fail_next[{index}]: 'fault' is required")
    method = entry.get("method")
    if method is not None and (not isinstance(method, str) or method.upper() not in _METHODS):
        raise InvalidFaultSetting(
            f"fail_next[{index}].method must be one of {list(_METHODS)}, got {method!r}"
        )
    path = entry.get("path_contains")
    if path is not None and not isinstance(path, str):
        raise InvalidFaultSetting(f"fail_next[{index}].path_contains must be a string")
    return ScriptedFault(
        fault=parse_fault(entry["fault"], entry.get("retry_after")),
        method=method.upper() if isinstance(method, str) else None,
        path_contains=path,
        times=_positive_int(entry.get("times", 1), f"fail_next[{index}].times"),
    )


def parse_fault_rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise InvalidFaultSetting(f"fault_rate must be a number between 0 and 1, got {value!r}")
    return float(value)


def parse_milliseconds(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60_000:
        raise InvalidFaultSetting(
            f"{name} must be a number of milliseconds between 0 and 60000, got {value!r}"
        )
    return int(value)


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFaultSetting(f"{name} must be a positive integer, got {value!r}")
    return value


class FaultInjector:
    """Decides, per Web API request, whether it meets a fault and how long it is delayed."""

    def __init__(
        self, *, fault_rate: float = 0.0, latency_ms: int = 0, jitter_ms: int = 0, seed: int = 0
    ) -> None:
        self.fault_rate = fault_rate
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._script: list[ScriptedFault] = []

    def set_script(self, script: list[ScriptedFault]) -> None:
        with self._lock:
            self._script = list(script)

    def pending_script(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.as_dict() for entry in self._script]

    def pick(self, method: str, target: str) -> Fault | None:
        """A scripted fault for this request if one matches, else a random one at ``fault_rate``."""
        with self._lock:
            for i, entry in enumerate(self._script):
                if entry.matches(method, target):
                    entry.times -= 1
                    if entry.times <= 0:
                        del self._script[i]
                    return entry.fault
            if self.fault_rate <= 0.0 or self._rng.random() >= self.fault_rate:
                return None
            choice = self._rng.choice(_RANDOM_MENU)
        if isinstance(choice, int):
            return Fault("status", status=choice, retry_after=1 if choice == 429 else None)
        return Fault("drop") if choice == "drop" else Fault("truncate")

    def delay_seconds(self) -> float:
        """Latency to add to this request: ``latency_ms`` plus up to ``jitter_ms`` either way."""
        base = float(self.latency_ms)
        if self.jitter_ms:
            with self._lock:
                base += self._rng.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, base) / 1000.0


# --- how a dropped or truncated response reaches the wire --------------------------------


async def drop_connection(send: Any) -> None:
    """Close the TCP connection without writing a response byte.

    The ASGI interface has no "close" message, so this reaches for the server's transport:
    uvicorn's ``send`` is a bound method of its request cycle, which holds the asyncio
    transport. Where that is not available, the response is truncated instead (the client sees
    a protocol error either way, never a 500).
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "close"):
        await truncate_response(send)
        return
    transport.close()
    for _ in range(100):  # let connection_lost run so the server does not answer 500 afterwards
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.001)


async def truncate_response(send: Any) -> None:
    """Send headers announcing a body, part of it, then stop: the connection is closed early."""
    partial = b'{"@odata.context":"truncated","value":['
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json; odata.metadata=minimal"),
                (b"content-length", b"65536"),
                (b"odata-version", b"4.0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": partial, "more_body": True})
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        await asyncio.sleep(0.001)
