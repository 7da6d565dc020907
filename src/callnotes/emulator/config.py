"""``EmulatorConfig``: how an emulator starts (data set size and seed, address) and the transport
settings that ``POST /_emulator/config`` can change at run time (latency, faults, throttling,
VPN block, MSX quirks, scripted faults). Validated on construction and on every change.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from callnotes.emulator.faults import (
    InvalidFaultSetting,
    ScriptedFault,
    parse_fail_next,
    parse_fault_rate,
    parse_milliseconds,
)
from callnotes.emulator.limits import InvalidLimits, ThrottleLimits, parse_throttle
from callnotes.emulator.messages import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from callnotes.emulator.change_feed import ChangeFeed
    from callnotes.emulator.formatting import RecordWriter
    from callnotes.emulator.tables import Database

# Keys accepted by POST /_emulator/config and EmulatorServer.configure (DESIGN.md §Contracts).
RUNTIME_KEYS = ("latency_ms", "jitter_ms", "fault_rate", "throttle", "vpn_blocked", "msx_quirks", "fail_next")


class ConfigError(ValueError):
    """An emulator setting that cannot be applied; the message names it and says why."""


class Service(Protocol):
    """What the transport needs from ``callnotes.emulator.service.DataverseService``."""

    demo_user_id: str
    msx_quirks: bool
    database: Database
    writer: RecordWriter
    feed: ChangeFeed

    def handle(self, request: ApiRequest) -> ApiResponse: ...

    def transaction(self) -> Any: ...


@dataclass
class EmulatorConfig:
    """Start-up and run-time settings of one emulator instance."""

    accounts: int = 20
    seed: int = 7
    latency_ms: int = 0
    jitter_ms: int = 0
    fault_rate: float = 0.0
    throttle: bool | Mapping[str, Any] | ThrottleLimits | None = False
    vpn_blocked: bool = False
    msx_quirks: bool = True
    fail_next: list[ScriptedFault] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False

    def __post_init__(self) -> None:
        try:
            self._validate()
        except (InvalidFaultSetting, InvalidLimits) as exc:
            raise ConfigError(str(exc)) from exc

    def _validate(self) -> None:
        for name in ("accounts", "seed", "port"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if not 1 <= self.accounts <= 5000:
            raise ConfigError(f"accounts must be between 1 and 5000, got {self.accounts}")
        if self.port > 65535:
            raise ConfigError(f"port must be at most 65535, got {self.port}")
        self.latency_ms = parse_milliseconds(self.latency_ms, "latency_ms")
        self.jitter_ms = parse_milliseconds(self.jitter_ms, "jitter_ms")
        self.fault_rate = parse_fault_rate(self.fault_rate)
        self.throttle = parse_throttle(self.throttle) or False
        for name in ("vpn_blocked", "msx_quirks", "allow_remote"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        self.fail_next = parse_fail_next(self.fail_next)
        if not self.allow_remote and not is_loopback(self.host):
            raise ConfigError(
                f"host {self.host!r} is not a loopback address; the emulator has no real security, "
                "so binding another interface needs allow_remote=True (--allow-remote)"
            )

    @property
    def throttle_limits(self) -> ThrottleLimits | None:
        return self.throttle if isinstance(self.throttle, ThrottleLimits) else None

    def with_changes(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """A validated copy with run-time ``changes`` applied (unknown keys are refused)."""
        if not isinstance(changes, Mapping):
            raise ConfigError("the configuration must be a JSON object")
        unknown = sorted(set(changes) - set(RUNTIME_KEYS))
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; allowed: {list(RUNTIME_KEYS)}")
        return dataclasses.replace(self, **dict(changes))

    def runtime_view(self) -> dict[str, Any]:
        """The run-time settings as JSON (what GET/POST /_emulator/config answer)."""
        limits = self.throttle_limits
        return {
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "fault_rate": self.fault_rate,
            "throttle": limits.as_dict() if limits else False,
            "vpn_blocked": self.vpn_blocked,
            "msx_quirks": self.msx_quirks,
        }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
