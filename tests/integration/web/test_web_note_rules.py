"""The store's note rules reach the user on every way in through the app, on SQLite and PostgreSQL:
the editor's form (create and edit), the JSON API (create and PATCH), and the settings page's JSON
backup and CSV import. A refused write answers a message that names the problem and changes nothing.

Rules: a note's milestones belong to its customer; the limits of ``store.limits`` are the same
numbers whichever way the note comes in.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.limits import NOTE_TITLE_MAX, NOTE_TOPICS_MAX
from callnotes.store.models import Milestone

from .conftest import csrf_of, error_text


@dataclass
class _Ids:
    contoso: int
    fabrikam: int
    ours: int  # Contoso's milestone
    theirs: int  # Fabrikam's milestone


def _arrange(api: TestClient, settings: Settings) -> _Ids:
    contoso = api.post("/api/customers", json={"name": "Contoso"}).json()["id"]
    fabrikam = api.post("/api/customers", json={"name": "Fabrikam"}).json()["id"]
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            ours, theirs = Milestone(name="Go live", customer_id=contoso), Milestone(name="Pilot",
                                                                                  customer_id=fabrikam)
            session.add_all([ours, theirs])
            session.flush()
            return _Ids(contoso, fabrikam, ours.id, theirs.id)
    finally:
        engine.dispose()


def _form(client: TestClient, customer_id: int | str, **fields: object) -> dict[str, object]:
    return {"csrf_token": csrf_of(client), "customer_id": str(customer_id), "call_date": "2026-11-20",
            "body": "call", **fields}


def _note(api: TestClient, **fields: object) -> dict:
    response = api.post("/api/notes", json={"body": "call", "call_date": "2026-11-20", **fields})
    assert response.status_code == 201, response.text
    return api.get(f"/api/notes/{response.json()['id']}").json()


def test_form_edit_cannot_move_a_note_away_from_its_milestones(
    api: TestClient, web_settings: Settings
) -> None:
    ids = _arrange(api, web_settings)
    note = _note(api, customer_id=ids.contoso, milestone_ids=[ids.ours])
    refused = api.post(f"/notes/{note['id']}", data=_form(api, ids.fabrikam, body="edited",
                                                          milestone_ids=str(ids.ours)))
    assert refused.status_code == 422
    assert f"milestone(s) {ids.ours} do not belong" in html.unescape(refused.text)
    assert "edited" in refused.text  # what was typed comes back
    unlinked = api.post(f"/notes/{note['id']}", data=_form(api, "", milestone_ids=str(ids.ours)))
    assert unlinked.status_code == 422 and "with a customer" in unlinked.text
    assert api.get(f"/api/notes/{note['id']}").json() == note


def test_api_patch_keeps_milestones_with_their_customer(api: TestClient, web_settings: Settings) -> None:
    ids = _arrange(api, web_settings)
    note = _note(api, customer_id=ids.contoso, milestone_ids=[ids.ours])
    for change, message in (({"customer_id": ids.fabrikam}, "do not belong"),
                            ({"milestone_ids": [ids.theirs]}, "do not belong"),
                            ({"customer_id": None}, "with a customer"),
                            ({"milestone_ids": [999_999]}, "not found")):
        response = api.patch(f"/api/notes/{note['id']}", json={**change, "body": "changed"})
        assert response.status_code == 422, change
        assert message in json.dumps(response.json()["detail"]), change
    assert api.get(f"/api/notes/{note['id']}").json() == note
    moved = api.patch(f"/api/notes/{note['id']}",
                      json={"customer_id": ids.fabrikam, "milestone_ids": [ids.theirs]})
    assert moved.status_code == 200 and moved.json()["milestone_ids"] == [ids.theirs]
    loose = _note(api)
    refused = api.patch(f"/api/notes/{loose['id']}", json={"milestone_ids": [ids.ours]})
    assert refused.status_code == 422 and "with a customer" in error_text(refused)


def test_the_title_limit_is_the_same_number_on_the_api_and_the_form(api: TestClient) -> None:
    too_long = "t" * (NOTE_TITLE_MAX + 1)
    api_answer = api.post("/api/notes", json={"body": "x", "call_date": "2026-11-20", "title": too_long})
    assert api_answer.status_code == 422
    form_answer = api.post("/notes", data=_form(api, "", title=too_long))
    assert form_answer.status_code == 422 and f"longer than {NOTE_TITLE_MAX} characters" in form_answer.text
    assert api.get("/api/notes").json() == []
    assert _note(api, title="t" * NOTE_TITLE_MAX)["title"] == "t" * NOTE_TITLE_MAX
    many = ", ".join(f"topic {i}" for i in range(NOTE_TOPICS_MAX + 1))
    form_topics = api.post("/notes", data=_form(api, "", topics=many))
    assert form_topics.status_code == 422 and f"at most {NOTE_TOPICS_MAX} topics" in form_topics.text


def _upload(api: TestClient, name: str, content: bytes) -> str:
    response = api.post("/settings/import", data={"csrf_token": csrf_of(api)},
                        files={"file": (name, content, "application/octet-stream")})
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def test_backup_upload_refuses_a_note_linked_to_another_customers_milestone(
    api: TestClient, web_settings: Settings
) -> None:
    ids = _arrange(api, web_settings)
    _note(api, customer_id=ids.contoso, milestone_ids=[ids.ours], body="good note")
    document = api.get("/settings/export").json()
    fabrikam_uid = next(c["uid"] for c in document["customers"] if c["name"] == "Fabrikam")
    bad = {**document["notes"][0], "uid": "another-note", "customer": fabrikam_uid, "body": "bad note"}
    document["notes"].append(bad)
    page = _upload(api, "backup.json", json.dumps(document).encode())
    assert "notes #2: milestone(s)" in page and "do not belong to this note's customer" in page
    assert [n["body"] for n in api.get("/api/notes").json()] == ["good note"]


def test_csv_upload_applies_the_note_limits(api: TestClient) -> None:
    too_long = "t" * (NOTE_TITLE_MAX + 1)
    csv_text = f"call_date,body,title\n2026-11-20,kept,Kickoff\n2026-11-20,refused,{too_long}\n"
    page = _upload(api, "notes.csv", csv_text.encode())
    assert f"line 3: title is longer than {NOTE_TITLE_MAX} characters" in page
    assert [n["body"] for n in api.get("/api/notes").json()] == ["kept"]
