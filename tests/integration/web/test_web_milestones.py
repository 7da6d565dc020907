"""The milestones page (filters: my accounts, on my team, due soon, by customer) and the join / leave
button wherever milestones are listed; the account team's Teams links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.models import Customer, Milestone
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.people import PersonInput, create_seller, create_solution_engineer

_GUID = "5e2b0c1d-0000-4000-8000-0000000000{:02d}"


def _arrange(settings: Settings) -> dict[str, int]:
    today = datetime.now(UTC).date()
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            contoso, fabrikam = Customer(name="Contoso"), Customer(name="Fabrikam")
            session.add_all([contoso, fabrikam])
            session.flush()
            rows = {
                "team_soon": Milestone(name="Team soon", customer_id=contoso.id, on_my_team=True,
                                       milestone_date=today + timedelta(days=5), msx_id=_GUID.format(1)),
                "later": Milestone(name="Later <b>x</b>", customer_id=contoso.id,
                                   milestone_date=today + timedelta(days=90), msx_id=_GUID.format(2)),
                "other_soon": Milestone(name="Other soon", customer_id=fabrikam.id,
                                        milestone_date=today + timedelta(days=3), msx_id=_GUID.format(3)),
                "local": Milestone(name="Local only", customer_id=fabrikam.id),
                "gone": Milestone(name="Gone one", customer_id=fabrikam.id, msx_id=_GUID.format(4),
                                  gone_from_msx_at=datetime.now(UTC)),
            }
            session.add_all(rows.values())
            session.flush()
            return {"contoso": contoso.id, "fabrikam": fabrikam.id} | {k: m.id for k, m in rows.items()}
    finally:
        engine.dispose()


def _names(page: str) -> list[str]:
    table = page.split('id="milestones"', 1)[1] if 'id="milestones"' in page else ""
    row = r'<tr id="milestone-\d+">\s*<td class="pick">.*?</td>\s*<td>(?:<a [^>]*>)?([^<]+)'
    return re.findall(row, table)


def test_the_page_is_in_the_navigation(client: TestClient) -> None:
    assert 'href="/milestones"' in client.get("/").text
    empty = client.get("/milestones")
    assert empty.status_code == 200 and 'id="no-milestones"' in empty.text


def test_filters(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    everything = client.get("/milestones").text
    assert _names(everything)[0] == "Team soon"  # on my team first
    assert set(_names(everything)) == {"Team soon", "Later &lt;b&gt;x&lt;/b&gt;", "Other soon", "Local only"}
    assert "<b>x</b>" not in everything
    assert _names(client.get("/milestones?show=team").text) == ["Team soon"]
    assert _names(client.get("/milestones?show=due").text) == ["Team soon", "Other soon"]
    of_fabrikam = client.get(f"/milestones?customer_id={ids['fabrikam']}").text
    assert _names(of_fabrikam) == ["Other soon", "Local only"]
    assert _names(client.get(f"/milestones?show=due&customer_id={ids['fabrikam']}").text) == ["Other soon"]
    assert client.get("/milestones?show=owner").status_code == 422
    assert client.get("/milestones?customer_id=0").status_code == 422
    assert client.get("/milestones?customer_id=abc").status_code == 422


def test_team_buttons_wherever_milestones_are_listed(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    pages = {"milestones": client.get("/milestones").text, "home": client.get("/").text,
             "customer": client.get(f"/customers/{ids['contoso']}").text}
    for where, page in pages.items():
        assert f'hx-post="/milestones/{ids["team_soon"]}/team"' in page, where
        assert "Leave team" in page, where
    assert f'hx-post="/milestones/{ids["later"]}/team"' in pages["customer"]
    assert "Join team" in pages["customer"]
    # a milestone MSX does not know has no button; its MSX link is absent too
    assert f"/milestones/{ids['local']}/team" not in pages["milestones"]
    assert "main.aspx" in pages["milestones"] and _GUID.format(1) in pages["milestones"]


def test_team_change_needs_csrf(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    refused = client.post(f"/milestones/{ids['later']}/team", data={"action": "join"})
    assert refused.status_code == 403


def test_teams_links_only_for_people_with_an_email(client: TestClient, web_settings: Settings) -> None:
    engine = make_engine(web_settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            mailed = create_seller(session, PersonInput(name="Mia Mail", role="growth",
                                                        email="mia@contoso.com"))
            silent = create_seller(session, PersonInput(name="No Mail", role="acquisition"))
            broken = create_solution_engineer(session, PersonInput(name="Bad Mail", role="data",
                                                                   email="not an email"))
            customer = create_customer(session, CustomerInput(
                name="Mailers", seller_ids=[mailed.id, silent.id], solution_engineer_ids=[broken.id]))
            session.flush()
            customer_id = customer.id
    finally:
        engine.dispose()
    page = client.get(f"/customers/{customer_id}").text
    assert page.count('class="teams-chat"') == 1
    assert "https://teams.microsoft.com/l/chat/0/0?users=mia@contoso.com" in page
    assert "No Mail" in page and "Bad Mail" in page
