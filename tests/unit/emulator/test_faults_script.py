"""Fault injection decisions: scripted ``fail_next`` entries and the random ``fault_rate``.

Transient statuses are the ones Dataverse clients retry
(powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md;
429 + Retry-After from powerapps-docs/developer/data-platform/api-limits.md).
"""

from __future__ import annotations

from collections import Counter

import pytest

from callnotes.emulator.faults import FaultInjector, InvalidFaultSetting, parse_fail_next, parse_fault_rate


def test_scripted_fault_hits_only_matching_requests_then_is_used_up() -> None:
    injector = FaultInjector()
    injector.set_script(
        parse_fail_next([{"method": "post", "path_contains": "Tasks", "fault": "drop_after_commit"}])
    )
    assert injector.pick("GET", "tasks") is None
    assert injector.pick("POST", "accounts") is None
    fault = injector.pick("POST", "tasks")
    assert fault is not None and fault.kind == "drop" and fault.after_commit
    assert injector.pick("POST", "tasks") is None
    assert injector.pending_script() == []


def test_times_and_status_faults() -> None:
    injector = FaultInjector()
    injector.set_script(parse_fail_next([{"fault": 429, "times": 2, "retry_after": 3}, {"fault": "503"}]))
    first, second, third = (injector.pick("GET", "x") for _ in range(3))
    assert first == second and first is not None and first.status == 429 and first.retry_after == 3
    assert third is not None and third.status == 503
    assert injector.pick("GET", "x") is None


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("drop", "list"),
        ([{"fault": 418}], "fault must be one of"),
        ([{"fault": "explode"}], "fault must be one of"),
        ([{}], "'fault' is required"),
        ([{"fault": 500, "method": "TRACE"}], "method"),
        ([{"fault": 500, "times": 0}], "times"),
        ([{"fault": 500, "colour": "red"}], "unknown key"),
        (["x"], "must be an object"),
    ],
)
def test_bad_scripts_are_refused_with_a_clear_message(script: object, message: str) -> None:
    with pytest.raises(InvalidFaultSetting, match=message):
        parse_fail_next(script)


def test_fault_rate_is_roughly_honoured_and_covers_every_kind() -> None:
    # Seeded, so deterministic; the bounds also hold for any seed: the hit share of 5,000 picks has
    # sd sqrt(0.3 * 0.7 / 5000) = 0.0065, and ±0.05 is ±7.7 sd. Each kind is 1/7 of ~1,500 hits.
    injector = FaultInjector(fault_rate=0.3, seed=1)
    picks = [injector.pick("GET", "accounts") for _ in range(5000)]
    hits = [p for p in picks if p is not None]
    assert 0.25 < len(hits) / len(picks) < 0.35
    kinds = Counter(p.describe() for p in hits)
    assert set(kinds) == {"429", "500", "502", "503", "504", "drop", "truncate"}


def test_latency_with_jitter_stays_in_range() -> None:
    injector = FaultInjector(latency_ms=100, jitter_ms=20, seed=3)
    delays = [injector.delay_seconds() for _ in range(200)]
    assert all(0.08 <= d <= 0.12 for d in delays) and len(set(delays)) > 1


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.5", True])
def test_fault_rate_must_be_between_0_and_1(value: object) -> None:
    with pytest.raises(InvalidFaultSetting):
        parse_fault_rate(value)
