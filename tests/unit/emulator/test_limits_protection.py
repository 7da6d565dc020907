"""Service protection limits, with a fake clock.

Follows powerapps-docs/developer/data-platform/api-limits.md: number of requests over a sliding
window (0x80072322), combined execution time (0x80072321), concurrent requests (0x80072326),
Retry-After in seconds, limits evaluated per user.
"""

from __future__ import annotations

import pytest

from callnotes.emulator.limits import (
    CODE_CONCURRENT_REQUESTS,
    CODE_EXECUTION_TIME,
    CODE_NUMBER_OF_REQUESTS,
    InvalidLimits,
    ServiceProtection,
    ThrottleLimits,
    parse_throttle,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_fits_then_one_request_per_interval() -> None:
    # api-limits.md: the number of requests is metered over a window (300 s in Dataverse); the
    # emulator refills the window steadily, so Retry-After says when the next request fits.
    clock = Clock()
    guard = ServiceProtection(
        ThrottleLimits(requests_per_window=3, window_seconds=10, max_concurrent=None), clock
    )
    for _ in range(3):  # the whole burst at one instant
        assert guard.admit("u") is None
        guard.release("u", 1.0)
    rejection = guard.admit("u")
    assert rejection is not None and rejection.code == CODE_NUMBER_OF_REQUESTS
    assert "limit of 3 over time window of 10 seconds" in rejection.message
    assert rejection.retry_after == 4  # one request is earned back every 10/3 s, rounded up
    clock.now += 3.3
    assert guard.admit("u") is not None
    clock.now += 0.04
    assert guard.admit("u") is None  # after 10/3 s exactly one more fits
    assert guard.admit("u") is not None


def test_throttle_true_refuses_a_few_hundred_requests_even_when_they_are_slow() -> None:
    # DESIGN.md §Contracts: "a burst of a few hundred requests meets 429 + Retry-After of a few
    # seconds", whatever the machine's speed: here one request every 1.5 s still meets 429.
    clock = Clock()
    guard = ServiceProtection(ThrottleLimits(), clock)
    rejections = []
    for _ in range(300):
        rejection = guard.admit("u")
        if rejection is not None:
            rejections.append(rejection)
        else:
            guard.release("u", 1.0)
        clock.now += 1.5
    assert rejections and all(r.code == CODE_NUMBER_OF_REQUESTS for r in rejections)
    assert {r.retry_after for r in rejections} <= {1, 2, 3}


def test_waiting_retry_after_is_always_enough() -> None:
    clock = Clock()
    guard = ServiceProtection(
        ThrottleLimits(requests_per_window=7, window_seconds=2, max_concurrent=None), clock
    )
    admitted = 0
    for _ in range(50):
        rejection = guard.admit("u")
        if rejection is None:
            admitted += 1
            continue
        clock.now += rejection.retry_after
        assert guard.admit("u") is None
        admitted += 1
    assert admitted == 50


def test_limits_are_per_user() -> None:
    guard = ServiceProtection(ThrottleLimits(requests_per_window=1, max_concurrent=None), Clock())
    assert guard.admit("a") is None
    assert guard.admit("a") is not None
    assert guard.admit("b") is None


def test_concurrency_limit_is_immediate_and_released() -> None:
    guard = ServiceProtection(ThrottleLimits(requests_per_window=None, max_concurrent=2), Clock())
    assert guard.admit("u") is None and guard.admit("u") is None
    rejection = guard.admit("u")
    assert rejection is not None and rejection.code == CODE_CONCURRENT_REQUESTS and rejection.retry_after >= 1
    guard.release("u", 5.0)
    assert guard.admit("u") is None


def test_execution_time_budget() -> None:
    clock = Clock()
    limits = ThrottleLimits(requests_per_window=None, max_concurrent=None, execution_ms_per_window=100)
    guard = ServiceProtection(limits, clock)
    assert guard.admit("u") is None
    guard.release("u", 150.0)
    rejection = guard.admit("u")
    assert rejection is not None and rejection.code == CODE_EXECUTION_TIME


def test_off_means_no_limits_but_still_counts_in_flight() -> None:
    guard = ServiceProtection(None, Clock())
    assert all(guard.admit("u") is None for _ in range(10_000))


def test_reconfigure_clears_usage() -> None:
    guard = ServiceProtection(ThrottleLimits(requests_per_window=1, max_concurrent=None), Clock())
    guard.admit("u")
    guard.configure(ThrottleLimits(requests_per_window=1, max_concurrent=None))
    assert guard.admit("u") is None


def test_parse_throttle_shapes() -> None:
    assert parse_throttle(False) is None and parse_throttle(None) is None
    assert parse_throttle(True) == ThrottleLimits()
    tuned = parse_throttle({"requests_per_window": 10, "window_seconds": 2, "max_concurrent": None})
    assert tuned == ThrottleLimits(10, 2, None)


@pytest.mark.parametrize(
    "value",
    ["yes", 1, {"requests_per_window": 0}, {"window_seconds": -1}, {"bogus": 1}, {"max_concurrent": True}],
)
def test_parse_throttle_refuses_bad_values(value: object) -> None:
    with pytest.raises(InvalidLimits):
        parse_throttle(value)


def test_remaining_headers_count_down_and_are_absent_when_off() -> None:
    limits = ThrottleLimits(requests_per_window=3, max_concurrent=None, execution_ms_per_window=1000)
    guard = ServiceProtection(limits, Clock())
    guard.admit("u")
    guard.release("u", 250.0)
    headers = guard.remaining_headers("u")
    assert headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "2"
    assert headers["x-ms-ratelimit-time-remaining-xrm-requests"] == "750.00"
    assert ServiceProtection(None, Clock()).remaining_headers("u") == {}
