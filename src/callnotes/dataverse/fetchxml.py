"""FetchXML paging with the paging cookie, as powerapps-docs/developer/data-platform/fetchxml/page-results.md
documents for the Web API:

1. ask for the ``Microsoft.Dynamics.CRM.fetchxmlpagingcookie`` and ``...morerecords`` annotations;
2. while ``@Microsoft.Dynamics.CRM.morerecords`` is true: take the ``pagingcookie`` attribute of the
   returned ``<cookie .../>`` element, URL-decode it twice, set it (XML-encoded) as the ``paging-cookie``
   attribute of ``<fetch>`` and increment ``page``;
3. when no cookie comes back (some queries don't support one) fall back to simple paging: only ``page``
   is incremented.
``top`` must not be combined with paging (same page).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from callnotes.dataverse.errors import BadResponse, PagingError
from callnotes.dataverse.paging import page_rows

PAGING_COOKIE = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE_RECORDS = "@Microsoft.Dynamics.CRM.morerecords"
PREFER_ANNOTATIONS = (
    'odata.include-annotations="*"'  # "*" includes the paging cookie and morerecords annotations
)
_COOKIE_ATTR = re.compile(r'pagingcookie="([^"]*)"')
MAX_FETCH_PAGES = 10_000


def prepare_fetch(xml: str, *, page: int, count: int | None, paging_cookie: str | None) -> str:
    """``xml`` with ``page``, ``count`` and ``paging-cookie`` set on the ``<fetch>`` element."""
    try:
        root = ET.fromstring(xml)  # noqa: S314 - caller-built FetchXML, not untrusted input
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed FetchXML: {exc}") from exc
    if root.tag != "fetch":
        raise ValueError("FetchXML must have <fetch> as its root element")
    if root.get("top") is not None:
        raise ValueError("FetchXML 'top' cannot be combined with paging; use count instead")
    root.set("page", str(page))
    if count is not None:
        root.set("count", str(count))
    if paging_cookie is not None:
        root.set("paging-cookie", paging_cookie)  # ElementTree XML-encodes the attribute value
    elif "paging-cookie" in root.attrib:
        del root.attrib["paging-cookie"]
    return ET.tostring(root, encoding="unicode")


def extract_paging_cookie(annotation: Any) -> str | None:
    """The decoded ``pagingcookie`` from a ``@Microsoft.Dynamics.CRM.fetchxmlpagingcookie`` value."""
    if annotation is None or annotation == "":
        return None
    if not isinstance(annotation, str):
        raise BadResponse("MSX sent a FetchXML paging cookie that is not a string")
    match = _COOKIE_ATTR.search(annotation)
    if match is None:
        raise BadResponse("MSX sent a FetchXML paging cookie without a pagingcookie attribute")
    return unquote(unquote(match.group(1)))


def iter_fetch_pages(
    fetch: Callable[[str], Any], xml: str, *, page_size: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's rows; ``fetch(fetch_xml)`` sends one request and returns the decoded JSON."""
    page, cookie = 1, None
    seen_cookies: set[str] = set()
    while page <= MAX_FETCH_PAGES:
        body = fetch(prepare_fetch(xml, page=page, count=page_size, paging_cookie=cookie))
        rows = page_rows(body, url="fetchXml")
        yield rows
        more = body.get(MORE_RECORDS)
        if more is not True or not rows:
            return
        cookie = extract_paging_cookie(body.get(PAGING_COOKIE))
        if cookie is not None:
            if cookie in seen_cookies:
                raise PagingError("MSX returned the same FetchXML paging cookie twice; stopped.")
            seen_cookies.add(cookie)
        page += 1
    raise PagingError(f"FetchXML paging passed {MAX_FETCH_PAGES} pages; stopped.")
