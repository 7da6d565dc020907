"""Search for the page and the API, over the store's full-text search."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session


def run_search(
    session: Session,
    query: str,
    *,
    customer_id: int | None = None,
    seller_id: int | None = None,
    topic: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
) -> list[Any]:
    """Ranked hits (``kind``, ``id``, ``title``, ``snippet`` with ``<mark>``) for ``query``."""
    from callnotes.store.search import SearchFilters, search

    filters = SearchFilters(customer_id=customer_id, seller_id=seller_id, topic=topic or None,
                            date_from=date_from, date_to=date_to)
    return list(search(session, query, filters, limit=limit))
