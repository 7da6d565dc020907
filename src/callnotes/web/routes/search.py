"""The search page: ranked, highlighted results with filters; htmx refreshes the results only.

Filters alone (no word) list the notes they select, newest first: a customer's notes, a topic's, an
attendee's, a period's. ``order=newest`` lists matching notes by call date instead of relevance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from callnotes.store.limits import NOTE_ATTENDEE_MAX, TOPIC_NAME_MAX
from callnotes.store.repo.customers import list_customers
from callnotes.store.repo.people import list_sellers
from callnotes.store.repo.topics import list_topics
from callnotes.store.search import SearchFilters, SearchHit, SearchOrder, search
from callnotes.web.deps import SessionDep, id_or_none, is_htmx, render

router = APIRouter(include_in_schema=False)
#: Filters arrive from a form: an empty select is "", which means "any".
_Filter = Annotated[str, Query(max_length=TOPIC_NAME_MAX)]


def _optional_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=500)] = "",
    customer: Annotated[str, Query(alias="customer_id", max_length=12)] = "",
    seller: Annotated[str, Query(alias="seller_id", max_length=12)] = "",
    topic: _Filter = "",
    attendee: Annotated[str, Query(max_length=NOTE_ATTENDEE_MAX)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    order: SearchOrder = SearchOrder.RELEVANCE,
) -> HTMLResponse:
    customer_id, seller_id = id_or_none(customer), id_or_none(seller)
    filters = SearchFilters(customer_id=customer_id, seller_id=seller_id, topic=topic or None,
                            attendee=attendee.strip() or None, date_from=_optional_date(date_from),
                            date_to=_optional_date(date_to))
    hits: list[SearchHit] = search(session, q, filters, order=order)
    results = [(hit, Markup(hit.snippet)) for hit in hits]  # noqa: S704 - the store escapes, adds <mark>
    context: dict[str, Any] = {"q": q, "results": results, "customer_id": customer_id, "seller_id": seller_id,
               "topic": topic, "attendee": attendee, "date_from": date_from, "date_to": date_to,
               "order": order.value, "filtered": filters.narrowing}
    if is_htmx(request) and request.headers.get("hx-target") == "search-results":
        return render(request, "search/_results.html", **context)
    return render(request, "search/page.html", active="search", nav_query=q,
                  customers=[s.customer for s in list_customers(session)], sellers=list_sellers(session),
                  topics=[s.topic for s in list_topics(session)], **context)
