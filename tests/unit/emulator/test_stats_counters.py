"""Traffic counters and the bounded request log behind GET /_emulator/stats and /_emulator/requests."""

from __future__ import annotations

from callnotes.emulator.stats import RequestLogEntry, TrafficStats


def _entry(status: int | None = 200, parts: int = 0, entity: str | None = "accounts") -> RequestLogEntry:
    return RequestLogEntry("t", "GET", "accounts", "", status, 1.0, entity, parts)


def test_batch_counts_one_request_and_its_parts() -> None:
    stats = TrafficStats()
    stats.record_request(_entry())
    stats.record_batch_parts(3, ["tasks", "tasks", None])
    stats.record_request(_entry(parts=3, entity=None))
    snap = stats.snapshot()
    assert snap["requests"] == 2 and snap["batch_requests"] == 1 and snap["batch_parts"] == 3
    assert snap["by_entity_set"] == {"accounts": 1, "tasks": 2}
    assert snap["by_status"] == {"200": 2}


def test_dropped_requests_count_without_status_and_reset_clears() -> None:
    stats = TrafficStats()
    stats.record_request(_entry(status=None))
    assert stats.snapshot()["by_status"] == {"dropped": 1}
    stats.reset()
    assert stats.snapshot()["requests"] == 0 and stats.recent() == []


def test_request_log_is_bounded_and_ordered() -> None:
    stats = TrafficStats(log_size=3)
    for status in (200, 201, 204, 404):
        stats.record_request(_entry(status=status))
    assert [e["status"] for e in stats.recent()] == [201, 204, 404]
    assert [e["status"] for e in stats.recent(1)] == [404]
    assert stats.recent(0) == []
