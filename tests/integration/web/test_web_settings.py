"""Settings page: export download, import upload (JSON export and CSV), bad files refused cleanly."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import csrf_of


def _seed(api: TestClient) -> int:
    customer = api.post("/api/customers", json={"name": "Contoso", "tpid": "42"}).json()["id"]
    api.post(
        "/api/notes",
        json={
            "customer_id": customer,
            "body": "kubernetes plan",
            "call_date": "2026-11-20",
            "topics": ["AKS"],
        },
    )
    return customer


def test_settings_page_shows_where_the_data_lives(client: TestClient) -> None:
    page = client.get("/settings").text
    assert "Data directory" in page and "Database" in page and "MSX connection" in page


def test_export_then_import_into_an_empty_database(api: TestClient) -> None:
    _seed(api)
    exported = api.get("/settings/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    document = exported.json()
    assert [c["name"] for c in document["customers"]] == ["Contoso"]
    assert document["notes"][0]["topics"] == ["AKS"]
    for note in api.get("/api/notes").json():
        api.delete(f"/api/notes/{note['id']}")
    token = csrf_of(api)
    response = api.post(
        "/settings/import",
        data={"csrf_token": token},
        files={"file": ("backup.json", exported.content, "application/json")},
    )
    assert response.status_code == 200
    assert "Imported backup.json" in response.text
    notes = api.get("/api/notes").json()
    assert [(n["body"], n["topics"], n["customer_name"]) for n in notes] == [
        ("kubernetes plan", ["AKS"], "Contoso")
    ]


def test_bad_import_files_are_refused_and_nothing_is_lost(api: TestClient) -> None:
    _seed(api)
    before = api.get("/api/notes").json()
    token = csrf_of(api)
    cases = [
        ("broken.json", b'{"customers": [', "not valid JSON"),
        ("empty.json", b"", "empty"),
        ("notes.txt", b"hello", ".json export or a .csv"),
    ]
    for name, content, message in cases:
        response = api.post(
            "/settings/import",
            data={"csrf_token": token},
            files={"file": (name, content, "application/octet-stream")},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 400, name
        assert message in response.text and "/tmp/" not in response.text and "Traceback" not in response.text
    missing = api.post("/settings/import", data={"csrf_token": token})
    assert missing.status_code == 422
    assert api.get("/api/notes").json() == before


def test_csv_import_reports_bad_rows_with_line_numbers(api: TestClient) -> None:
    token = csrf_of(api)
    csv_text = "name,tpid\nGood Co,1\n,2\nOther Co,3\n"
    response = api.post(
        "/settings/import",
        data={"csrf_token": token},
        files={"file": ("customers.csv", csv_text.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "line 3" in response.text
    assert sorted(c["name"] for c in api.get("/api/customers").json()) == ["Good Co", "Other Co"]


def test_local_demo_seed_fills_an_empty_database_once(client: TestClient, web_settings) -> None:
    from callnotes.store import make_engine, make_session_factory, seed_demo, session_scope

    engine = make_engine(web_settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            assert seed_demo(session)
        customers = client.get("/api/customers").json()
        assert customers and client.get("/api/notes").json()
        with session_scope(make_session_factory(engine)) as session:
            assert not seed_demo(session)
    finally:
        engine.dispose()
    assert len(client.get("/api/customers").json()) == len(customers)


def test_starter_templates_only_fill_an_empty_template_list(client: TestClient, web_settings) -> None:
    from callnotes.sync.demo import STARTER_TEMPLATES, ensure_starter_templates

    assert ensure_starter_templates(web_settings) == len(STARTER_TEMPLATES)
    assert ensure_starter_templates(web_settings) == 0
    page = client.get("/notes/new").text
    assert all(name in page for name, _ in STARTER_TEMPLATES)
