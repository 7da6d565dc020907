"""The JSON API of DESIGN.md §Contracts, on SQLite and PostgreSQL: shapes, order, filters, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.models import Milestone

from .conftest import error_text


def _customer(api: TestClient, name: str = "Contoso", **extra: object) -> int:
    response = api.post("/api/customers", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _note(api: TestClient, **fields: object) -> int:
    body = {"body": "text", "call_date": "2026-11-20", "topics": [], **fields}
    response = api.post("/api/notes", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _add_milestones(settings: Settings, customer_id: int, names: list[str]) -> list[int]:
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            milestones = [Milestone(name=n, customer_id=customer_id, milestone_date=date(2026, 12, 1))
                          for n in names]
            session.add_all(milestones)
            session.flush()
            return [m.id for m in milestones]
    finally:
        engine.dispose()


def test_healthz_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/customers", "/api/notes", "/api/notes/{note_id}", "/api/search", "/api/milestones",
                 "/api/outbox", "/healthz"):
        assert path in paths


def test_create_and_list_customers(api: TestClient) -> None:
    response = api.post("/api/customers", json={"name": "Contoso", "tpid": "123456"})
    assert response.status_code == 201
    new_id = response.json()["id"]
    assert isinstance(new_id, int)
    assert response.headers["location"] == f"/customers/{new_id}"
    _customer(api, "Fabrikam")
    listed = api.get("/api/customers").json()
    assert [(c["name"], c["tpid"]) for c in listed] == [("Contoso", "123456"), ("Fabrikam", None)]
    assert api.get("/api/customers", params={"q": "fab"}).json()[0]["name"] == "Fabrikam"
    assert api.get(f"/api/customers/{new_id}").json()["name"] == "Contoso"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"name": 42}, "name"),
        ({"name": "Ok", "tpid": "9" * 41}, "tpid"),
        ({"name": "Ok", "colour": "red"}, "colour"),
        (["Contoso"], ""),
    ],
)
def test_bad_customer_is_refused_and_nothing_is_lost(api: TestClient, body: object, where: str) -> None:
    _customer(api, "Existing")
    response = api.post("/api/customers", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["msg"]
    assert where in " ".join(str(part) for e in detail for part in e["loc"])
    assert [c["name"] for c in api.get("/api/customers").json()] == ["Existing"]


def test_malformed_json_body_is_a_422(api: TestClient) -> None:
    broken = b'{"name": "Contoso"'
    response = api.post("/api/customers", content=broken, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert api.get("/api/customers").json() == []


def test_notes_newest_first_with_customer_filter(api: TestClient) -> None:
    contoso, fabrikam = _customer(api, "Contoso"), _customer(api, "Fabrikam")
    old = _note(api, customer_id=contoso, call_date="2026-01-05", body="old")
    first_same_day = _note(api, customer_id=fabrikam, call_date="2026-11-20", body="first")
    second_same_day = _note(api, customer_id=contoso, call_date="2026-11-20", body="second")
    notes = api.get("/api/notes").json()
    assert [n["id"] for n in notes] == [second_same_day, first_same_day, old]
    only_contoso = api.get("/api/notes", params={"customer_id": contoso}).json()
    assert [n["id"] for n in only_contoso] == [second_same_day, old]
    assert all(n["customer_name"] == "Contoso" for n in only_contoso)


def test_note_create_with_topics_created_on_the_fly(api: TestClient) -> None:
    customer = _customer(api)
    note_id = _note(api, customer_id=customer, body="# Kickoff\nAKS **now**", topics=["AKS", " aks ", "Cost"])
    note = api.get(f"/api/notes/{note_id}").json()
    assert note["topics"] == ["AKS", "Cost"]
    assert note["display_title"] == "Kickoff"
    assert note["call_date"] == "2026-11-20"
    assert "<strong>now</strong>" in note["html"]
    assert note["created_at"].endswith(("Z", "+00:00"))


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"call_date": "2026-11-20"}, 422, "body"),
        ({"body": "x"}, 422, "call_date"),
        ({"body": "x", "call_date": "2026-13-40"}, 422, "call_date"),
        ({"body": "x", "call_date": "yesterday"}, 422, "call_date"),
        ({"body": "x", "call_date": "2026-11-20", "topics": "AKS"}, 422, "topics"),
        ({"body": "x", "call_date": "2026-11-20", "topics": [""]}, 422, "topics"),
        ({"body": "x", "call_date": "2026-11-20", "customer_id": "abc"}, 422, "customer_id"),
        ({"body": "x", "call_date": "2026-11-20", "customer_id": 99999999999}, 422, "customer_id"),
        ({"body": "x", "call_date": "2026-11-20", "customer_id": 999}, 422, "customer"),
        ({"body": "x", "call_date": "2026-11-20", "milestone_ids": [5]}, 422, "milestone"),
        ({"body": None, "call_date": "2026-11-20"}, 422, "body"),
        ({"body": "x", "call_date": "2026-11-20", "secret": 1}, 422, "secret"),
    ],
)
def test_bad_note_is_refused_and_nothing_is_lost(
    api: TestClient, body: dict, status: int, where: str
) -> None:
    kept = _note(api, body="keep me")
    response = api.post("/api/notes", json=body)
    assert response.status_code == status, response.text
    assert where in str(response.json()["detail"])
    notes = api.get("/api/notes").json()
    assert [(n["id"], n["body"]) for n in notes] == [(kept, "keep me")]


def test_patch_changes_only_given_fields(api: TestClient) -> None:
    customer = _customer(api)
    note_id = _note(api, customer_id=customer, body="before", topics=["AKS"])
    response = api.patch(f"/api/notes/{note_id}", json={"body": "after", "topics": ["Cost", "Data"]})
    assert response.status_code == 200
    note = response.json()
    assert (note["body"], note["topics"], note["customer_id"]) == ("after", ["Cost", "Data"], customer)
    cleared = api.patch(f"/api/notes/{note_id}", json={"customer_id": None}).json()
    assert cleared["customer_id"] is None and cleared["body"] == "after"
    # the answer lists the topics as every later read does, whatever order they were sent in
    reordered = api.patch(f"/api/notes/{note_id}", json={"topics": ["zeta", "Cost", "aks"]})
    assert reordered.json()["topics"] == ["AKS", "Cost", "zeta"]  # "aks" is the topic AKS
    assert api.get(f"/api/notes/{note_id}").json() == reordered.json()


@pytest.mark.parametrize(
    "patch",
    [{"body": None}, {"call_date": None}, {"call_date": "31/12/2026"}, {"topics": [" "]}, {"owner": "me"},
     {"customer_id": 777}],
)
def test_bad_patch_is_refused_and_the_note_is_unchanged(api: TestClient, patch: dict) -> None:
    note_id = _note(api, body="original", topics=["AKS"])
    before = api.get(f"/api/notes/{note_id}").json()
    response = api.patch(f"/api/notes/{note_id}", json=patch)
    assert response.status_code == 422, response.text
    assert api.get(f"/api/notes/{note_id}").json() == before


def test_delete_note_and_missing_ids(api: TestClient) -> None:
    note_id = _note(api)
    assert api.delete(f"/api/notes/{note_id}").status_code == 204
    assert api.get(f"/api/notes/{note_id}").status_code == 404
    assert api.delete(f"/api/notes/{note_id}").status_code == 404
    assert api.patch(f"/api/notes/{note_id}", json={"body": "x"}).status_code == 404
    assert api.get("/api/notes/abc").status_code == 422
    assert api.get("/api/notes/0").status_code == 422
    assert api.get("/api/notes/99999999999").status_code == 422
    assert api.get("/api/notes", params={"customer_id": "x"}).status_code == 422


def test_milestones_and_note_milestone_links(api: TestClient, web_settings: Settings) -> None:
    contoso, fabrikam = _customer(api, "Contoso"), _customer(api, "Fabrikam")
    mine = _add_milestones(web_settings, contoso, ["Go live", "Pilot"])
    theirs = _add_milestones(web_settings, fabrikam, ["Other"])
    listed = api.get("/api/milestones").json()
    assert {m["name"] for m in listed} == {"Go live", "Pilot", "Other"}
    assert {m["name"] for m in api.get("/api/milestones", params={"customer_id": contoso}).json()} == {
        "Go live", "Pilot"}
    note_id = _note(api, customer_id=contoso, milestone_ids=mine)
    assert sorted(api.get(f"/api/notes/{note_id}").json()["milestone_ids"]) == sorted(mine)
    refused = api.post("/api/notes", json={"body": "x", "call_date": "2026-11-20", "customer_id": contoso,
                                           "milestone_ids": theirs})
    assert refused.status_code == 422
    assert "do not belong" in error_text(refused)


def test_search_contract_shape(api: TestClient) -> None:
    customer = _customer(api, "Contoso Pharma")
    note_id = _note(api, customer_id=customer, body="We discussed the kubernetes migration", topics=["AKS"])
    response = api.get("/api/search", params={"q": "kubernetes"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results, "the note should be found"
    assert set(results[0]) == {"kind", "id", "title", "snippet"}
    assert ("note", note_id) in [(r["kind"], r["id"]) for r in results]
    assert "<mark>" in next(r["snippet"] for r in results if r["kind"] == "note")
    assert api.get("/api/search").status_code == 422
    assert api.get("/api/search", params={"q": ""}).status_code == 422


def test_outbox_is_an_empty_list_until_write_back_exists(api: TestClient) -> None:
    assert api.get("/api/outbox").json() == []


def test_api_reads_need_no_token_and_writes_do(client: TestClient) -> None:
    assert client.get("/api/notes").status_code == 200
    refused = client.post("/api/customers", json={"name": "Contoso"})
    assert refused.status_code == 403
    assert "CSRF" in error_text(refused)

