"""Reading a count query's answer (powerapps-docs/developer/data-platform/webapi/query/count-rows.md):
the count up to 5,000; None when MSX says more rows match (the refresh then lists ids instead); a
count query answered without ``@odata.count`` is a malformed answer, not zero."""

from __future__ import annotations

import pytest

from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.refresh_plan import _groups
from callnotes.msx.rounds import COUNT_LIMIT, Read, _count

_READ = Read("refreshing", "tasks", {"$count": "true"})
_EXCEEDED = "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"


@pytest.mark.parametrize(("body", "expected"), [
    ({"@odata.count": 0, "value": []}, 0),
    ({"@odata.count": 1234, "value": [{}]}, 1234),
    ({"@odata.count": 4999, _EXCEEDED: False, "value": [{}]}, 4999),
    ({"@odata.count": COUNT_LIMIT, "value": [{}]}, None),  # exactly 5,000 may be more
    ({"@odata.count": 12, _EXCEEDED: True, "value": [{}]}, None),
])
def test_counts_up_to_the_limit_and_unknown_beyond(body, expected) -> None:
    assert _count(_READ, body) == expected


@pytest.mark.parametrize("body", [{"value": []}, {"@odata.count": "7", "value": []},
                                  {"@odata.count": True, "value": []}])
def test_a_count_answer_without_a_count_is_malformed(body) -> None:
    with pytest.raises(MalformedCrmAnswer, match=r"@odata\.count"):
        _count(_READ, body)


def test_scopes_are_cut_into_groups_in_a_stable_order() -> None:
    assert _groups(["c", "a", "b", "e", "d"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert _groups([], 40) == []
