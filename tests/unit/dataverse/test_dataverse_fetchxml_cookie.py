"""FetchXML paging-cookie handling (powerapps-docs/developer/data-platform/fetchxml/page-results.md)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import pytest

from callnotes.dataverse.errors import BadResponse, PagingError
from callnotes.dataverse.fetchxml import (
    MORE_RECORDS,
    PAGING_COOKIE,
    extract_paging_cookie,
    iter_fetch_pages,
    prepare_fetch,
)

FETCH = "<fetch><entity name='account'><attribute name='name'/><order attribute='name'/></entity></fetch>"


def _annotation(cookie: str, page: int) -> str:
    encoded = quote(quote(cookie, safe=""), safe="")
    return f'<cookie pagenumber="{page}" pagingcookie="{encoded}" istracking="False" />'


def test_cookie_is_url_decoded_twice() -> None:
    cookie = '<cookie page="1"><name last="O\'Neil &amp; Co" first="A" /></cookie>'
    assert extract_paging_cookie(_annotation(cookie, 2)) == cookie
    assert extract_paging_cookie(None) is None
    with pytest.raises(BadResponse):
        extract_paging_cookie("<cookie/>")


def test_prepare_sets_page_count_and_xml_encoded_cookie() -> None:
    cookie = '<cookie page="1"><accountid last="{X}" /></cookie>'
    text = prepare_fetch(FETCH, page=2, count=50, paging_cookie=cookie)
    root = ET.fromstring(text)
    assert root.get("page") == "2" and root.get("count") == "50" and root.get("paging-cookie") == cookie
    assert "&lt;cookie" in text  # XML-encoded inside the attribute
    with pytest.raises(ValueError):
        prepare_fetch("<fetch top='5'><entity name='a'/></fetch>", page=1, count=None, paging_cookie=None)
    with pytest.raises(ValueError):
        prepare_fetch("<notfetch/>", page=1, count=None, paging_cookie=None)
    with pytest.raises(ValueError):
        prepare_fetch("<fetch", page=1, count=None, paging_cookie=None)


def test_iteration_follows_cookies_and_stops_on_more_records_false() -> None:
    sent: list[str] = []
    pages = {1: ["a", "b"], 2: ["c", "d"], 3: ["e"]}

    def fetch(xml: str) -> dict[str, Any]:
        sent.append(xml)
        page = int(ET.fromstring(xml).get("page", "0"))
        body: dict[str, Any] = {"value": [{"name": n} for n in pages[page]], MORE_RECORDS: page < 3}
        if page < 3:
            body[PAGING_COOKIE] = _annotation(
                f'<cookie page="{page}"><name last="{pages[page][-1]}" /></cookie>', page + 1
            )
        return body

    rows = [r["name"] for page in iter_fetch_pages(fetch, FETCH, page_size=2) for r in page]
    assert rows == ["a", "b", "c", "d", "e"]
    assert ET.fromstring(sent[2]).get("paging-cookie") == '<cookie page="2"><name last="d" /></cookie>'


def test_repeated_cookie_is_an_error_not_a_loop() -> None:
    def fetch(xml: str) -> dict[str, Any]:
        return {"value": [{"n": 1}], MORE_RECORDS: True, PAGING_COOKIE: _annotation("<cookie page='1'/>", 2)}

    with pytest.raises(PagingError):
        list(iter_fetch_pages(fetch, FETCH))
