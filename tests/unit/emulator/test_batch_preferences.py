"""The ``$batch`` request's own ``Prefer`` header: batch-level vs. inherited preferences.

Dataverse: odata.continue-on-error applies to the batch
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md, "Handling
errors"); OData Version 4.01 Part 1 §8.2.8 for include-annotations (inherited), maxpagesize
(parts only) and return (refused on the batch).
"""

from __future__ import annotations

import pytest

from callnotes.emulator.batch import BatchFormatError
from callnotes.emulator.batch_preferences import BatchPreferences, batch_preferences, part_headers


def test_continue_on_error_and_annotations_are_read_from_a_mixed_header() -> None:
    prefs = batch_preferences(
        'odata.include-annotations="A.b,C.d", odata.continue-on-error, odata.maxpagesize=5'
    )
    assert prefs == BatchPreferences(True, ('odata.include-annotations="A.b,C.d"',))
    assert batch_preferences("continue-on-error=false").continue_on_error is False
    assert batch_preferences('include-annotations="*"').inherited == ('odata.include-annotations="*"',)
    assert batch_preferences(None) == BatchPreferences()


@pytest.mark.parametrize(
    "prefer", ["return=representation", "return=minimal", "odata.continue-on-error,return=minimal"]
)
def test_return_on_the_batch_is_refused(prefer: str) -> None:
    with pytest.raises(BatchFormatError, match="individual requests"):
        batch_preferences(prefer)


def test_parts_keep_their_own_annotations_and_other_preferences() -> None:
    inherited = ('odata.include-annotations="*"',)
    assert part_headers({"accept": "application/json"}, inherited)["prefer"] == inherited[0]
    own = {"prefer": 'odata.include-annotations="-*",odata.maxpagesize=2'}
    assert part_headers(own, inherited) == own
    merged = part_headers({"prefer": "return=representation"}, inherited)["prefer"]
    assert merged == 'return=representation,odata.include-annotations="*"'
    assert part_headers({"accept": "x"}, ()) == {"accept": "x"}
