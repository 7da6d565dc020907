"""What an import did, in words."""

from __future__ import annotations

from callnotes.sync.summary import ImportSummary


def test_summary_counts_and_lines() -> None:
    summary = ImportSummary(http_requests=4, batch_parts=79, seconds=1.25)
    summary.kind("customers").seen, summary.kind("customers").created = 200, 3
    summary.kind("milestones").marked_gone = 1
    assert summary.changed == 4
    summary.updated = 2
    assert summary.changed == 6
    assert summary.lines()[0] == "customers: 200 (3 new, 0 gone from MSX)"
    assert summary.lines()[-1] == "4 HTTP requests (79 batched reads) in 1.2 s"
