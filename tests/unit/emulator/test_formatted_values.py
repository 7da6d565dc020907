"""FormattedValue texts and annotation patterns.

powerapps-docs/developer/data-platform/webapi/query/select-columns.md ("Formatted values") and
compose-http-requests-handle-errors.md ("Request annotations": comma-separated names, '*' wildcard).
"""

from __future__ import annotations

from callnotes.emulator.formatting import annotation_filter, format_value
from callnotes.emulator.table_definitions import MILESTONE_STATUS, Column, Kind


def test_choice_money_date_datetime_number_and_bool_texts() -> None:
    assert format_value(Column("s", Kind.CHOICE, options=MILESTONE_STATUS), 861980001) == "At Risk"
    assert format_value(Column("m", Kind.MONEY), 1500.0) == "$1,500.00"
    assert format_value(Column("m", Kind.MONEY), -2.5) == "-$2.50"
    assert format_value(Column("d", Kind.DATE), "2026-03-05") == "3/5/2026"
    assert format_value(Column("t", Kind.DATETIME), "2026-03-05T00:07:00Z") == "3/5/2026 12:07 AM"
    assert format_value(Column("t", Kind.DATETIME), "2026-03-05T13:30:00Z") == "3/5/2026 1:30 PM"
    assert format_value(Column("n", Kind.INT), 12345) == "12,345"
    assert format_value(Column("b", Kind.BOOL), True) == "Yes"
    assert format_value(Column("x", Kind.STRING), "plain") is None


def test_annotation_patterns() -> None:
    everything = annotation_filter(["*"])
    assert everything("OData.Community.Display.V1.FormattedValue") and everything(
        "Microsoft.Dynamics.CRM.lookuplogicalname"
    )
    crm_only = annotation_filter(["Microsoft.Dynamics.CRM.*"])
    assert crm_only("Microsoft.Dynamics.CRM.lookuplogicalname")
    assert not crm_only("OData.Community.Display.V1.FormattedValue")
    listed = annotation_filter(
        ["OData.Community.Display.V1.FormattedValue", "Microsoft.Dynamics.CRM.morerecords"]
    )
    assert listed("Microsoft.Dynamics.CRM.morerecords") and not listed(
        "Microsoft.Dynamics.CRM.lookuplogicalname"
    )
    excluded = annotation_filter(["*", "-Microsoft.Dynamics.CRM.*"])
    assert excluded("OData.Community.Display.V1.FormattedValue") and not excluded(
        "Microsoft.Dynamics.CRM.morerecords"
    )
