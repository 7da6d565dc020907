"""HTML pages and htmx fragments: customers, the note editor and its drafts, directory pages."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.models import Milestone, Pod, Territory
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.people import PersonInput, create_seller, create_solution_engineer
from callnotes.store.repo.templates import TemplateInput, create_template

from .conftest import csrf_of

_ACCOUNT_ID = "6f1c2a3b-0000-4000-8000-00000000abcd"


def _arrange_account(web_settings: Settings) -> dict[str, int]:
    engine = make_engine(web_settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            pod = Pod(name="East POD 06")
            territory = Territory(name="East.SMECC.MAA.0601", pod=pod, msx_id="t-1")
            session.add_all([pod, territory])
            session.flush()
            seller = create_seller(
                session, PersonInput(name="Sam Seller", role="growth", email="sam@contoso.com")
            )
            engineer = create_solution_engineer(
                session, PersonInput(name="Dee Data", role="data", email="dee@contoso.com")
            )
            customer = create_customer(
                session,
                CustomerInput(
                    name="Contoso",
                    tpid="123",
                    msx_id=_ACCOUNT_ID,
                    territory_id=territory.id,
                    seller_ids=[seller.id],
                    solution_engineer_ids=[engineer.id],
                ),
            )
            other = create_customer(session, CustomerInput(name="Fabrikam"))
            session.add_all(
                [
                    Milestone(name="Go live", customer_id=customer.id, milestone_date=date(2026, 12, 1)),
                    Milestone(name="Fabrikam pilot", customer_id=other.id, milestone_date=date(2026, 12, 2)),
                ]
            )
            template = create_template(session, TemplateInput(name="Discovery", body="## Pain points\n"))
            session.flush()
            return {"customer": customer.id, "other": other.id, "seller": seller.id, "template": template.id}
    finally:
        engine.dispose()


def _form(client: TestClient, **fields: object) -> dict[str, object]:
    return {"csrf_token": csrf_of(client), **fields}


def _note_form(client: TestClient, customer_id: int, **fields: object) -> dict[str, object]:
    """The note editor's fields for a call on 2026-11-20 with ``customer_id``."""
    return _form(client, customer_id=str(customer_id), call_date="2026-11-20", **fields)


def test_every_page_renders(client: TestClient, web_settings: Settings) -> None:
    _arrange_account(web_settings)
    for path in (
        "/",
        "/customers",
        "/customers?group=seller",
        "/customers?group=territory",
        "/customers?sort=last_contact",
        "/customers/new",
        "/notes",
        "/notes/new",
        "/search",
        "/search?q=contoso",
        "/sellers",
        "/ses",
        "/territories",
        "/pods",
        "/topics",
        "/settings",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<title>" in response.text


def test_create_customer_through_the_form(client: TestClient) -> None:
    response = client.post("/customers", data=_form(client, name="Contoso", tpid="42"), follow_redirects=True)
    assert response.status_code == 200
    assert "<h1>Contoso</h1>" in response.text and "42" in response.text


def test_bad_customer_form_keeps_what_was_typed(client: TestClient) -> None:
    response = client.post("/customers", data=_form(client, name="  ", tpid="777", account_notes="keep this"))
    assert response.status_code == 422
    assert "name must not be empty" in response.text
    assert 'value="777"' in response.text and "keep this" in response.text


def test_customer_detail_has_team_msx_and_teams_links(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    page = client.get(f"/customers/{ids['customer']}").text
    assert "Sam Seller" in page and "Dee Data" in page
    assert "https://teams.microsoft.com/l/chat/0/0?users=sam@contoso.com" in page
    assert "https://teams.microsoft.com/l/chat/0/0?users=dee@contoso.com" in page
    msx = re.search(r'href="([^"]+)"[^>]*id="open-in-msx"', page)
    assert msx and "main.aspx" in msx.group(1) and _ACCOUNT_ID in msx.group(1)
    assert "Go live" in page and "Fabrikam pilot" not in page
    assert "East POD 06" in page


def test_customer_list_search_group_and_sort(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    token = csrf_of(client)
    client.post(
        "/api/notes",
        json={"customer_id": ids["other"], "body": "x", "call_date": "2026-11-01"},
        headers={"X-CSRF-Token": token},
    )
    by_name = client.get("/customers").text
    assert by_name.index("Contoso") < by_name.index("Fabrikam")
    by_contact = client.get("/customers?sort=last_contact").text
    assert by_contact.index("Fabrikam") < by_contact.index(">Contoso<")
    assert "Fabrikam" not in client.get("/customers?q=cont").text
    grouped = client.get("/customers?group=seller").text
    assert "Sam Seller" in grouped and "No seller" in grouped
    assert client.get("/customers?sort=bogus").status_code == 422


def test_editor_autosaves_a_draft_that_survives_closing_the_tab(
    client: TestClient, web_settings: Settings
) -> None:
    ids = _arrange_account(web_settings)
    editor = client.get("/notes/new").text
    key = re.search(r'name="draft_key" value="([^"]+)"', editor).group(1)
    saved = client.post(
        "/editor/draft",
        data=_note_form(client, ids["customer"], draft_key=key, body="half-typed thoughts",
                        topics="AKS, Cost", title="Kickoff"),
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and "Draft saved" in saved.text
    assert saved.headers["HX-Replace-Url"] == f"/notes/new?draft={key.replace(':', '%3A')}"
    # the tab is gone; the home page offers the draft back
    home = client.get("/").text
    assert "Kickoff" in home and "draft=" in home
    restored = client.get("/notes/new", params={"draft": key}).text
    assert "half-typed thoughts" in restored and 'value="AKS, Cost"' in restored
    assert "Draft restored" in restored and 'value="Contoso"' in restored
    # saving the note removes the draft
    response = client.post(
        "/notes",
        data=_note_form(client, ids["customer"], draft_key=key, body="final text", topics="AKS"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Kickoff" not in client.get("/").text.split('id="drafts-h"')[1].split("</section>")[0]


def test_draft_with_half_typed_fields_is_still_saved(client: TestClient) -> None:
    key = "new:12345678-1234-1234-1234-123456789abc"
    saved = client.post(
        "/editor/draft",
        data=_form(client, draft_key=key, body="text", call_date="2026-1", customer_id="not-a-number"),
    )
    assert saved.status_code == 200
    assert "text" in client.get("/notes/new", params={"draft": key}).text


def test_bad_draft_keys_are_refused(client: TestClient) -> None:
    for key in ("", "../../etc", "new:not-a-uuid", "x" * 300):
        response = client.post("/editor/draft", data=_form(client, draft_key=key, body="x"))
        assert response.status_code == 422, key
    assert client.get("/notes/new", params={"draft": "bogus"}).status_code == 422


def test_note_form_with_bad_date_keeps_every_field(client: TestClient) -> None:
    response = client.post(
        "/notes",
        data=_form(client, body="precious words", call_date="31/12/2026", topics="AKS", draft_key=""),
    )
    assert response.status_code == 422
    assert "call date" in response.text and "precious words" in response.text
    assert client.get("/api/notes").json() == []


def test_note_form_refuses_a_milestone_of_another_customer(
    client: TestClient, web_settings: Settings
) -> None:
    ids = _arrange_account(web_settings)
    fragment = client.get("/editor/customer", params={"customer_id": ids["customer"]}).text
    assert "Go live" in fragment and "Fabrikam pilot" not in fragment
    foreign = client.get("/api/milestones", params={"customer_id": ids["other"]}).json()[0]["id"]
    response = client.post(
        "/notes",
        data=_note_form(client, ids["customer"], body="x", milestone_ids=str(foreign)),
    )
    assert response.status_code == 422 and "do not belong" in response.text
    assert client.get("/api/notes").json() == []


def test_create_view_edit_and_delete_a_note(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    mine = client.get("/api/milestones", params={"customer_id": ids["customer"]}).json()[0]["id"]
    created = client.post(
        "/notes",
        data=_note_form(client, ids["customer"], body="# Kickoff\nDiscussed **AKS**", topics="AKS, New topic",
                        milestone_ids=str(mine), attendees="Ann, Bob"),
        follow_redirects=True,
    )
    assert created.status_code == 200
    assert (
        "<strong>AKS</strong>" in created.text and "New topic" in created.text and "Go live" in created.text
    )
    note_id = int(re.search(r"/notes/(\d+)/edit", created.text).group(1))
    editor = client.get(f"/notes/{note_id}/edit").text
    assert "Discussed **AKS**" in editor and f'value="note:{note_id}"' in editor
    updated = client.post(
        f"/notes/{note_id}",
        data=_form(
            client,
            body="changed",
            call_date="2026-11-21",
            topics="AKS",
            customer_id=str(ids["customer"]),
            draft_key=f"note:{note_id}",
        ),
        follow_redirects=True,
    )
    assert "changed" in updated.text and "2026-11-21" in updated.text
    assert "New topic" in client.get("/topics").text
    deleted = client.post(f"/notes/{note_id}/delete", data=_form(client), follow_redirects=False)
    assert deleted.status_code == 303
    assert client.get(f"/notes/{note_id}").status_code == 404


def test_editor_fragments(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    suggestions = client.get("/editor/customers", params={"customer_q": "fab"}).text
    assert "Fabrikam" in suggestions and "Contoso" not in suggestions
    assert "No customer matches" in client.get("/editor/customers", params={"customer_q": "zzz"}).text
    inserted = client.post(
        "/editor/template", data=_form(client, template_id=str(ids["template"]), body="typed first")
    ).text
    assert "typed first" in inserted and "## Pain points" in inserted
    preview = client.post("/editor/preview", data=_form(client, body="**bold**")).text
    assert "<strong>bold</strong>" in preview
    assert client.get("/editor/customer", params={"customer_id": 999999}).status_code == 404


def test_directory_pages_list_people_and_places(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    sellers = client.get("/sellers").text
    assert "Sam Seller" in sellers and f"/customers?seller_id={ids['seller']}" in sellers
    assert "Dee Data" in client.get("/ses").text
    assert "East.SMECC.MAA.0601" in client.get("/territories").text
    assert "East POD 06" in client.get("/pods").text
    filtered = client.get(f"/customers?seller_id={ids['seller']}").text
    assert "Contoso" in filtered and "Fabrikam" not in filtered


def test_search_page_highlights_and_filters(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange_account(web_settings)
    token = csrf_of(client)
    for customer, body in ((ids["customer"], "kubernetes upgrade"), (ids["other"], "kubernetes costs")):
        client.post(
            "/api/notes",
            json={"customer_id": customer, "body": body, "call_date": "2026-11-20"},
            headers={"X-CSRF-Token": token},
        )
    page = client.get("/search", params={"q": "kubernetes"}).text
    assert page.count("<mark>") >= 2 and "upgrade" in page and "costs" in page
    only = client.get(
        "/search",
        params={"q": "kubernetes", "customer_id": ids["other"]},
        headers={"HX-Request": "true", "HX-Target": "search-results"},
    ).text
    assert "costs" in only and "upgrade" not in only and "<html" not in only


def test_draft_of_an_edit_goes_back_to_the_edit_page(client: TestClient) -> None:
    note_id = client.post(
        "/api/notes",
        json={"body": "saved text", "call_date": "2026-11-20"},
        headers={"X-CSRF-Token": csrf_of(client)},
    ).json()["id"]
    key = f"note:{note_id}"
    client.post(
        "/editor/draft", data=_form(client, draft_key=key, body="unsaved edit", call_date="2026-11-20")
    )
    home = client.get("/").text
    assert f'href="/notes/{note_id}/edit"' in home
    editor = client.get(f"/notes/{note_id}/edit").text
    assert "unsaved edit" in editor and "Draft restored" in editor
    redirect = client.get("/notes/new", params={"draft": key}, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/notes/{note_id}/edit"


def test_autosave_survives_a_stale_customer_and_refuses_a_deleted_note(client: TestClient) -> None:
    key = "new:12345678-1234-1234-1234-123456789abd"
    saved = client.post("/editor/draft", data=_form(client, draft_key=key, body="keep", customer_id="424242"))
    assert saved.status_code == 200
    assert "keep" in client.get("/notes/new", params={"draft": key}).text
    gone = client.post("/editor/draft", data=_form(client, draft_key="note:424242", body="x"))
    assert gone.status_code == 404
