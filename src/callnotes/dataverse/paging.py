"""Server-driven paging: ``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, followed untouched.

powerapps-docs/developer/data-platform/webapi/query/page-results.md: request a page size with the
``Prefer: odata.maxpagesize=n`` header (max 5,000), use the ``@odata.nextLink`` URL exactly as returned
for the next page and don't change it or add query options to it; ``$skip`` is not supported.
A page handed back twice is treated as an error, so a misbehaving server cannot loop us forever.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from callnotes.dataverse.errors import BadResponse, PagingError

NEXT_LINK = "@odata.nextLink"
MAX_PAGE_SIZE = 5000


def prefer_max_page_size(page_size: int) -> str:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return f"odata.maxpagesize={page_size}"


def page_rows(page: Any, *, url: str) -> list[dict[str, Any]]:
    """The ``value`` list of a collection answer; BadResponse when the answer is not one."""
    if not isinstance(page, dict):
        raise BadResponse(f"MSX answered a list request with a {type(page).__name__}, not an object ({url})")
    rows = page.get("value")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BadResponse(f"MSX answered a list request without a 'value' list of records ({url})")
    return rows


def _fingerprint(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def iter_pages(fetch: Callable[[str], Any], first_url: str) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of each page, starting at ``first_url`` and following ``@odata.nextLink``.

    ``fetch(url)`` returns the decoded JSON of one page. Raises PagingError when a next link or a
    non-empty page repeats one already seen.
    """
    url: str | None = first_url
    seen_links: set[str] = set()
    seen_pages: set[str] = set()
    while url is not None:
        page = fetch(url)
        rows = page_rows(page, url=url)
        if rows:
            fingerprint = _fingerprint(rows)
            if fingerprint in seen_pages:
                raise PagingError(f"MSX returned the same page twice while paging {first_url}; stopped.")
            seen_pages.add(fingerprint)
        yield rows
        next_link = page.get(NEXT_LINK)
        if next_link is not None and not isinstance(next_link, str):
            raise BadResponse("MSX sent an @odata.nextLink that is not a URL")
        if next_link is not None:
            if next_link in seen_links or next_link == first_url:
                raise PagingError(f"MSX sent the same next link twice while paging {first_url}; stopped.")
            seen_links.add(next_link)
        url = next_link
