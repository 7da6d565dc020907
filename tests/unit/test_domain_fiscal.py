"""Microsoft's fiscal quarters (the year starts on 1 July and is named after the year it ends in)."""

from __future__ import annotations

from datetime import date

import pytest

from callnotes.domain import FiscalQuarter


@pytest.mark.parametrize("day, label, start, end", [
    (date(2025, 7, 1), "FY26 Q1", date(2025, 7, 1), date(2025, 9, 30)),
    (date(2025, 9, 30), "FY26 Q1", date(2025, 7, 1), date(2025, 9, 30)),
    (date(2025, 12, 31), "FY26 Q2", date(2025, 10, 1), date(2025, 12, 31)),
    (date(2026, 1, 1), "FY26 Q3", date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 6, 30), "FY26 Q4", date(2026, 4, 1), date(2026, 6, 30)),
    (date(2026, 7, 1), "FY27 Q1", date(2026, 7, 1), date(2026, 9, 30)),
    (date(2028, 2, 29), "FY28 Q3", date(2028, 1, 1), date(2028, 3, 31)),
])
def test_quarter_of_a_day(day: date, label: str, start: date, end: date) -> None:
    quarter = FiscalQuarter.of(day)
    assert (quarter.label, quarter.start, quarter.end) == (label, start, end)
    assert quarter.start <= day <= quarter.end
    assert FiscalQuarter.parse(quarter.slug) == quarter


def test_neighbours_months_and_order() -> None:
    q1 = FiscalQuarter.parse("FY27-Q1")
    assert q1.previous() == FiscalQuarter(2026, 4) and q1.previous().next() == q1
    assert FiscalQuarter(2027, 4).next() == FiscalQuarter(2028, 1)
    assert q1.months() == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    assert FiscalQuarter(2026, 4) < q1 < FiscalQuarter(2027, 2)
    assert FiscalQuarter.parse("fy2027 q1") == FiscalQuarter.parse(" FY27_Q1 ") == q1


@pytest.mark.parametrize("text", ["", "Q1", "FY27-Q5", "FY27-Q0", "2027", "FY27-Q1; DROP", "FY1-Q1"])
def test_bad_quarters_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="fiscal quarter"):
        FiscalQuarter.parse(text)
