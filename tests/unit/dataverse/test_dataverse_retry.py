"""Retry policy: Retry-After parsing (seconds / HTTP date), backoff with jitter, budget, timeouts.

powerapps-docs/developer/data-platform/api-limits.md (Retry-After on 429); RFC 9110 §10.2.3.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callnotes.dataverse.retry import RETRY_STATUSES, clamp_timeout, parse_retry_after
from tests.integration.dataverse.dv_helpers import FakeClock, fast_policy


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0  # in the past: no wait
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None


def test_statuses_retried() -> None:
    assert {408, 429, 500, 502, 503, 504} == set(RETRY_STATUSES)
    assert 501 not in RETRY_STATUSES and 404 not in RETRY_STATUSES


def test_backoff_grows_exponentially_with_jitter_and_caps() -> None:
    clock = FakeClock()
    policy = fast_policy(clock, base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        delay = policy.backoff(attempt)
        assert ceiling / 2 <= delay <= ceiling
    delays = {round(policy.backoff(3), 6) for _ in range(20)}
    assert len(delays) > 1  # jitter


def test_retry_after_wins_over_backoff() -> None:
    clock = FakeClock()
    state = fast_policy(clock, base_delay=0.01).start()
    state.attempts = 1
    assert state.next_delay(retry_after=5.0) == 5.0


def test_attempt_limit_and_total_budget_end_retries() -> None:
    clock = FakeClock()
    state = fast_policy(clock, max_attempts=3, base_delay=1.0, budget=100.0).start()
    state.attempts = 3
    assert state.next_delay() is None
    state = fast_policy(clock, max_attempts=10, budget=10.0).start()
    state.attempts = 1
    assert state.next_delay(retry_after=11.0) is None  # would overrun the budget
    state.wait(4.0)
    assert clock.sleeps == [4.0]
    assert state.next_delay(retry_after=7.0) is None
    assert state.next_delay(retry_after=5.0) == 5.0


def test_timeouts_default_20_capped_at_30() -> None:
    assert clamp_timeout(None) == 20.0
    assert clamp_timeout(45) == 30.0
    assert clamp_timeout(0) == 1.0
    assert clamp_timeout(25) == 25.0
