"""Helpers for the dataverse tests (imported as ``tests.integration.dataverse.dv_helpers``):
a fake clock for retries (so nothing waits for real) and a real loopback HTTP(S) server in a thread for
apps other than the emulator."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from callnotes.dataverse import DataverseClient, EmulatorToken, RetryPolicy


class FakeClock:
    """Monotonic clock + sleep that only advance when slept on; records every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fast_policy(
    clock: FakeClock, *, max_attempts: int = 12, budget: float = 600.0, **options: Any
) -> RetryPolicy:
    """A retry policy on ``clock`` (seeded jitter): waits are recorded, never slept for real."""
    return RetryPolicy(
        max_attempts=max_attempts,
        budget=budget,
        sleep=clock.sleep,
        clock=clock.monotonic,
        rng=random.Random(5),
        **options,
    )


def client_for(emulator: Any, clock: FakeClock | None = None, **options: Any) -> DataverseClient:
    clock = clock or FakeClock()
    options.setdefault("retry", fast_policy(clock))
    options.setdefault("timeout", 5.0)  # a hung answer fails fast in tests
    return DataverseClient(emulator.api_url, EmulatorToken(emulator.url), **options)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, **ssl: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port; yields the base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        **ssl,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if ssl else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout=10)


def settled_stats(emulator: Any, *, at_least: int, timeout: float = 2.0) -> dict[str, Any]:
    """The emulator's stats once ``at_least`` requests are counted (it counts after answering)."""
    deadline = time.monotonic() + timeout
    stats = emulator.stats()
    while stats["requests"] < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
        stats = emulator.stats()
    return stats
