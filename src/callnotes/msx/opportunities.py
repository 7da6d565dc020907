"""Opportunities: open per account, by number, by id, PATCH (reference/000 §3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from callnotes.dataverse import BatchRequest, DataverseClient, ODataFilter
from callnotes.dataverse.query import GET_URL_BUDGET, chunk_in_filters, encode_query
from callnotes.msx import _parse as p
from callnotes.msx.errors import InvalidInput, MsxNotFound
from callnotes.msx.records import Opportunity
from callnotes.msx.schema import OPPORTUNITY_OPEN, OPPORTUNITY_SELECT, EntitySet

_SELECT = list(OPPORTUNITY_SELECT)


def open_opportunities(client: DataverseClient, account_ids: Iterable[str]) -> list[Opportunity]:
    """Open opportunities (``statecode eq 0``) of the accounts, by name; ids chunked by URL budget."""
    ids = sorted({p.as_uuid(a) for a in account_ids}, key=str)
    if not ids:
        return []
    options = encode_query({"$select": ",".join(_SELECT), "$orderby": "name"})
    base = f"{client.api_url}/{EntitySet.OPPORTUNITIES}?{options}"
    found: list[Opportunity] = []
    open_only = ODataFilter.eq("statecode", OPPORTUNITY_OPEN)
    for flt in chunk_in_filters("_parentaccountid_value", ids, url_without_filter=base, budget=GET_URL_BUDGET,
                                extra=open_only):
        rows = client.iter_rows(EntitySet.OPPORTUNITIES, select=_SELECT, filter=flt, orderby="name")
        found.extend(Opportunity.from_row(row) for row in rows)
    return found


def opportunity_by_number(client: DataverseClient, number: str) -> Opportunity:
    """The opportunity with this ``msp_opportunitynumber``; `MsxNotFound` when there is none."""
    text = (number or "").strip()
    if not text:
        raise InvalidInput("an opportunity number cannot be empty")
    rows = list(client.iter_rows(EntitySet.OPPORTUNITIES, select=_SELECT,
                                 filter=ODataFilter.eq("msp_opportunitynumber", text)))
    if not rows:
        raise MsxNotFound(f"MSX has no opportunity number {text}")
    return Opportunity.from_row(rows[0])


def get_opportunity(client: DataverseClient, opportunity_id: str) -> Opportunity:
    """One opportunity by GUID (NotFound from the client when it does not exist)."""
    row = client.get_record(EntitySet.OPPORTUNITIES, str(p.as_uuid(opportunity_id)), select=_SELECT)
    return Opportunity.from_row(row)


def update_opportunity(
    client: DataverseClient, opportunity_id: str, changes: Mapping[str, Any], *, etag: str | None = None
) -> None:
    """PATCH the given columns; with ``etag`` the update only lands if nobody changed the record since."""
    if not changes:
        raise InvalidInput("nothing to update")
    client.update(EntitySet.OPPORTUNITIES, str(p.as_uuid(opportunity_id)), dict(changes), etag=etag)


def close_date_request(opportunity_id: str, close_date: date) -> BatchRequest:
    """Set ``estimatedclosedate`` as one ``$batch`` part (``If-Match: *``: never creates a record)."""
    return BatchRequest("PATCH", f"{EntitySet.OPPORTUNITIES}({p.as_uuid(opportunity_id)})",
                        body={"estimatedclosedate": close_date.isoformat()}, headers={"If-Match": "*"})
