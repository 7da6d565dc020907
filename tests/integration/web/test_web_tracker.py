"""The customer page first things first, the milestone tracker (filters in the URL, bad values → 422 with a
sentence, sorting, paging, favourites with CSRF), closed milestones hidden on home and folded in the
editor, and HoK coverage → outbox in each write-back mode; through the real app on both databases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from callnotes.config import Settings, save_preferences
from callnotes.domain import HokCategory
from callnotes.store.db import make_engine, make_session_factory, session_scope
from callnotes.store.models import Customer, Milestone, Opportunity, OutboxItem, OutboxState
from callnotes.store.repo.notes import NoteInput, create_note
from tests.integration.web.conftest import csrf_of

TODAY = datetime.now(UTC).date()


def _arrange(settings: Settings, notes: int = 25) -> dict[str, int]:
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            contoso, fabrikam = Customer(name="Contoso"), Customer(name="Fabrikam")
            session.add_all([contoso, fabrikam])
            session.flush()

            def milestone(
                name: str, customer: Customer, days: int | None, status: str = "On Track", **fields: object
            ) -> Milestone:
                row = Milestone(
                    name=name,
                    customer_id=customer.id,
                    status_label=status,
                    msx_id=str(uuid.uuid4()),
                    milestone_date=None if days is None else TODAY + timedelta(days=days),
                    **fields,
                )
                session.add(row)
                session.flush()
                return row

            late = milestone("Late one", contoso, -30, on_my_team=True, commitment="Committed")
            soon = milestone("Soon one", contoso, 10, status="At Risk", workload="Azure AI")
            done = milestone("Done one", contoso, 5, status="Completed")
            other = milestone("Fabrikam blocked", fabrikam, 20, status="Blocked", on_my_team=True)
            session.add(
                Opportunity(
                    name="Big deal",
                    customer_id=contoso.id,
                    state="Open",
                    stage="Develop",
                    estimated_value=1_250_000.0,
                    estimated_close_date=TODAY + timedelta(days=60),
                    owner_name="Olga Owner",
                    msx_id=str(uuid.uuid4()),
                )
            )
            session.add(Opportunity(name="Won deal", customer_id=contoso.id, state="Won"))
            for n in range(notes):
                create_note(
                    session,
                    NoteInput(
                        body="",
                        title=f"Call {n:02d}",
                        call_date=TODAY - timedelta(days=n),
                        customer_id=contoso.id,
                        milestone_ids=[late.id] if n < 2 else [],
                    ),
                )
            return {
                "contoso": contoso.id,
                "fabrikam": fabrikam.id,
                "late": late.id,
                "soon": soon.id,
                "done": done.id,
                "other": other.id,
            }
    finally:
        engine.dispose()


def _rows(page: str, table: str = "milestones") -> list[str]:
    body = page.split(f'id="{table}"', 1)[1] if f'id="{table}"' in page else ""
    return re.findall(r'class="milestone-name">([^<]+)</a>', body)


def test_customer_page_first_things_first(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    page = client.get(f"/customers/{ids['contoso']}").text
    order = [
        page.index(f'id="{panel}"')
        for panel in ("notes-panel", "milestones-panel", "opportunities-panel", "team-panel")
    ]
    assert order == sorted(order)
    notes = re.findall(r'<li class="customer-note"><a href="/notes/\d+">([^<]+)</a>', page)
    assert notes == [f"Call {n:02d}" for n in range(20)]
    assert 'id="more-notes-button"' in page and "(25)" in page
    assert _rows(page, "customer-milestones") == ["Late one", "Soon one"]  # closed one hidden
    late_row = page.split(f'id="milestone-{ids["late"]}"', 1)[1].split("</tr>", 1)[0]
    assert "overdue-flag" in late_row and "Committed" in late_row
    assert "overdue-flag" not in page.split(f'id="milestone-{ids["soon"]}"', 1)[1].split("</tr>", 1)[0]
    opportunities = page.split('id="customer-opportunities"', 1)[1].split("</table>", 1)[0]
    assert "Big deal" in opportunities and "Won deal" not in opportunities
    assert "Develop" in opportunities and "1,250,000" in opportunities and "Olga Owner" in opportunities
    assert "etn=opportunity" in opportunities
    more = client.get(f"/customers/{ids['contoso']}/notes?offset=20").text
    assert re.findall(r'<a href="/notes/\d+">([^<]+)</a>', more) == [f"Call {n:02d}" for n in range(20, 25)]
    assert "more-notes-button" not in more
    assert client.get(f"/customers/{ids['contoso']}/notes?offset=-1").status_code == 422
    assert client.get("/customers/999999/notes").status_code == 404


def test_tracker_filters_in_the_url_combine(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    page = client.get("/milestones").text
    assert set(_rows(page)) == {"Late one", "Soon one", "Fabrikam blocked"}
    glance = page.split('id="milestone-glance"', 1)[1].split("</p>", 1)[0]
    assert re.findall(r"<strong>(\d+)</strong>", glance) == ["1", "1", "1"]  # at risk, blocked, overdue
    assert _rows(client.get("/milestones?team=1&overdue=1").text) == ["Late one"]
    assert _rows(client.get("/milestones?status=At+Risk&status=Blocked&sort=name").text) == [
        "Fabrikam blocked",
        "Soon one",
    ]
    assert _rows(client.get(f"/milestones?customer_id={ids['contoso']}&workload=azure").text) == ["Soon one"]
    assert _rows(client.get("/milestones?commitment=Committed").text) == ["Late one"]
    assert "Done one" in _rows(client.get("/milestones?closed=1").text)
    quarter = client.get(f"/milestones?quarter={_slug(TODAY + timedelta(days=10))}&sort=date").text
    assert "Soon one" in _rows(quarter)
    assert _rows(client.get("/milestones?show=team&sort=name").text) == ["Fabrikam blocked", "Late one"]
    assert _rows(client.get("/milestones?sort=date&desc=1").text)[0] == "Fabrikam blocked"
    assert "Done one" not in client.get("/").text  # home's "due soon" hides closed ones


def _slug(day: date) -> str:
    year = day.year + 1 if day.month >= 7 else day.year
    return f"FY{year % 100:02d}-Q{((day.month - 7) % 12) // 3 + 1}"


def test_tracker_bad_filters_are_a_sentence_not_a_crash(client: TestClient, web_settings: Settings) -> None:
    _arrange(web_settings)
    for query, words in (
        ("quarter=Q7", "fiscal quarter"),
        ("status=Nearly", "unknown milestone status"),
        ("commitment=Maybe", "unknown commitment"),
    ):
        answer = client.get(f"/milestones?{query}")
        assert answer.status_code == 422, query
        assert words in answer.text and 'id="tracker-errors"' in answer.text, query
    for query in ("sort=owner", "page=0", "team=perhaps", "customer_id=abc", "quarter=" + "x" * 50):
        assert client.get(f"/milestones?{query}").status_code == 422, query


def test_tracker_pages_and_sort_links_keep_the_filters(client: TestClient, web_settings: Settings) -> None:
    engine = make_engine(web_settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            customer = Customer(name="Many")
            session.add(customer)
            session.flush()
            session.add_all(
                Milestone(
                    name=f"M{n:03d}",
                    customer_id=customer.id,
                    msx_id=str(uuid.uuid4()),
                    milestone_date=TODAY + timedelta(days=n),
                )
                for n in range(120)
            )
    finally:
        engine.dispose()
    first = client.get("/milestones?sort=name").text
    assert _rows(first)[:2] == ["M000", "M001"] and len(_rows(first)) == 50
    assert "Page 1 of 3" in first
    assert 'href="/milestones?sort=name&amp;page=2"' in first
    assert _rows(client.get("/milestones?sort=name&page=3").text)[-1] == "M119"
    assert 'href="/milestones?sort=name&amp;desc=1"' in first  # the sorted column flips


def test_favourites_need_csrf_and_filter(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    assert client.post(f"/milestones/{ids['soon']}/favourite", data={"favourite": "true"}).status_code == 403
    token = csrf_of(client)
    star = client.post(
        f"/milestones/{ids['soon']}/favourite", data={"favourite": "true"}, headers={"X-CSRF-Token": token}
    )
    assert star.status_code == 200 and 'aria-pressed="true"' in star.text
    assert _rows(client.get("/milestones?favourites=1").text) == ["Soon one"]
    client.post(
        f"/milestones/{ids['soon']}/favourite", data={"favourite": "false"}, headers={"X-CSRF-Token": token}
    )
    assert _rows(client.get("/milestones?favourites=1").text) == []
    missing = client.post(
        "/milestones/999999/favourite", data={"favourite": "true"}, headers={"X-CSRF-Token": token}
    )
    assert missing.status_code == 404


def test_editor_picker_folds_closed_milestones_away(client: TestClient, web_settings: Settings) -> None:
    ids = _arrange(web_settings)
    page = client.get(f"/notes/new?customer_id={ids['contoso']}").text
    picker = page.split('id="milestone-picker"', 1)[1]
    closed = picker.split('id="closed-milestones"', 1)
    assert len(closed) == 2 and f'id="pick-{ids["done"]}"' in closed[1]
    assert f'id="pick-{ids["late"]}"' in closed[0] and f'id="pick-{ids["soon"]}"' in closed[0]


def _hok_form(client: TestClient, page: str, approve: str) -> dict[str, object]:
    keys = re.findall(r'name="draft" value="([0-9-]+)"', page)
    fields: dict[str, object] = {"csrf_token": csrf_of(client), "approve": approve, "draft": keys}
    for key in keys:
        fields[f"category_{key}"] = str(int(HokCategory.WORKSHOP))
    return fields


def _outbox(settings: Settings) -> list[OutboxItem]:
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            items = list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
            session.expunge_all()
            return items
    finally:
        engine.dispose()


def test_hok_coverage_drafts_go_to_the_outbox(client: TestClient, web_settings: Settings) -> None:
    save_preferences(web_settings, writeback="ask")
    ids = _arrange(web_settings, notes=3)
    page = client.get("/hok").text
    assert '<a href="/hok" class="active">HoK coverage</a>' in page  # in the menu, marked as here
    assert re.findall(r'class="draft-subject">([^<]+)</a>', page) == ["Call 00", "Call 01"]
    assert f'id="hok-milestone-{ids["late"]}"' in page and f'id="hok-milestone-{ids["other"]}"' in page
    first_key = re.findall(r'name="draft" value="([0-9-]+)"', page)[0]
    answer = client.post("/hok/approve", data=_hok_form(client, page, first_key), follow_redirects=False)
    assert answer.status_code == 303 and "queued=1" in answer.headers["location"]
    [item] = _outbox(web_settings)
    assert item.state is OutboxState.AWAITING_APPROVAL and item.payload["subject"] == "Call 00"
    assert item.payload["category"] == int(HokCategory.WORKSHOP)
    page = client.get("/hok").text
    assert re.findall(r'class="draft-subject">([^<]+)</a>', page) == ["Call 01"]
    assert (
        client.post("/hok/approve", data=_hok_form(client, page, "all"), follow_redirects=False).status_code
        == 303
    )
    assert len(_outbox(web_settings)) == 2 and 'id="no-drafts"' in client.get("/hok").text


def test_hok_coverage_refuses_with_write_back_off_and_bad_drafts(
    client: TestClient, web_settings: Settings
) -> None:
    _arrange(web_settings, notes=2)
    page = client.get("/hok").text
    bad = _hok_form(client, page, "all")
    bad["draft"] = ["1-x"]
    assert client.post("/hok/approve", data=bad).status_code == 422
    save_preferences(web_settings, writeback="off")
    page = client.get("/hok").text
    assert 'id="hok-writeback-off"' in page
    refused = client.post("/hok/approve", data=_hok_form(client, page, "all"))
    assert refused.status_code == 409 and "Write-back to MSX is off" in refused.text
    assert _outbox(web_settings) == []
    assert client.get("/hok?quarter=FY99-Q9").status_code == 422
    for bad_page in ("0", "-1", "x", "1.5", "100001"):
        assert client.get(f"/hok?page={bad_page}").status_code == 422, bad_page
    past_the_end = client.get("/hok?page=7")
    assert past_the_end.status_code == 200 and 'id="hok-pager"' not in past_the_end.text  # the only page
    assert client.post("/hok/approve", data={"approve": "all"}).status_code == 403  # no CSRF token
