"""Property-based tests (Hypothesis) of the JSON API: whatever the body, ``POST /api/notes`` and
``PATCH /api/notes/{id}`` answer 201/200 or a 422 in the one error shape — never a 5xx — and a
refused request changes nothing; what is accepted reads back as sent. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import error_text

_PROPERTY = settings(max_examples=50, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_ANY = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20) | st.lists(st.text(max_size=10) | st.integers(), max_size=3))
_FIELDS = {
    "body": st.text(max_size=200) | _ANY,
    "call_date": st.dates().map(str) | st.sampled_from(["2026-02-30", "2026-11-20T00:00:00", "0"]) | _ANY,
    "topics": st.lists(st.text(max_size=30), max_size=5) | _ANY,
    "attendees": st.lists(st.text(max_size=30), max_size=5) | _ANY,
    "title": st.text(max_size=40) | _ANY,
    "customer_id": st.integers(-2, 2**40) | _ANY,
    "milestone_ids": st.lists(st.integers(-2, 2**40), max_size=3) | _ANY,
    "unknown": _ANY,
}
_BODY = st.fixed_dictionaries({}, optional=_FIELDS)


def _valid(body: dict[str, Any]) -> bool:
    return isinstance(body.get("body"), str) and "call_date" in body


@_PROPERTY
@given(_BODY)
def test_post_note_is_created_or_refused_cleanly(api: TestClient, body: dict[str, Any]) -> None:
    before = len(api.get("/api/notes").json())
    response = api.post("/api/notes", json=body)
    assert response.status_code in (201, 422), response.text
    after = api.get("/api/notes").json()
    if response.status_code == 422:
        assert error_text(response)
        assert len(after) == before
        return
    assert _valid(body)
    stored = api.get(f"/api/notes/{response.json()['id']}").json()
    assert stored["body"] == body["body"] and stored["call_date"] == body["call_date"]
    typed = {" ".join(t.split()).casefold() for t in body.get("topics", [])}
    assert {t.casefold() for t in stored["topics"]} == typed
    assert len(after) == before + 1


@_PROPERTY
@given(_BODY)
def test_patch_note_changes_or_refuses_cleanly(api: TestClient, change: dict[str, Any]) -> None:
    created = api.post("/api/notes", json={"body": "original", "call_date": "2026-11-20", "topics": ["AKS"]})
    note_id = created.json()["id"]
    before = api.get(f"/api/notes/{note_id}").json()
    response = api.patch(f"/api/notes/{note_id}", json=change)
    assert response.status_code in (200, 422), response.text
    after = api.get(f"/api/notes/{note_id}").json()
    if response.status_code == 422:
        assert error_text(response)
        assert after == before
        return
    for name in ("body", "call_date"):
        if name in change:
            assert after[name] == change[name]
    assert after == response.json()
