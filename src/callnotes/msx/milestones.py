"""Milestones: per opportunity / account, by number, mine, my access teams, get, PATCH (reference/000 §4)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.sax.saxutils import quoteattr

from callnotes.dataverse import BatchRequest, DataverseClient, ODataFilter, PreconditionFailed
from callnotes.dataverse.query import GET_URL_BUDGET, chunk_in_filters, encode_query
from callnotes.msx import _parse as p
from callnotes.msx.errors import InvalidInput, MalformedCrmAnswer, MsxNotFound
from callnotes.msx.records import ForecastComment, Milestone
from callnotes.msx.schema import (
    MILESTONE_DETAIL_SELECT,
    MILESTONE_SELECT,
    MILESTONE_TEAM_TEMPLATE_ID,
    EntitySet,
)

_SELECT = list(MILESTONE_SELECT)
_ETAG_RETRIES = 3


def _rows(client: DataverseClient, flt: ODataFilter, orderby: str = "msp_milestonedate") -> list[Milestone]:
    rows = client.iter_rows(EntitySet.MILESTONES, select=_SELECT, filter=flt, orderby=orderby)
    return [Milestone.from_row(row) for row in rows]


def milestones_for_opportunity(client: DataverseClient, opportunity_id: str) -> list[Milestone]:
    return _rows(client, ODataFilter.eq("_msp_opportunityid_value", p.as_uuid(opportunity_id)))


def milestones_for_accounts(client: DataverseClient, account_ids: Iterable[str]) -> list[Milestone]:
    """Milestones whose parent account is one of ``account_ids`` (reference/001), by name."""
    ids = sorted({p.as_uuid(a) for a in account_ids}, key=str)
    options = encode_query({"$select": ",".join(_SELECT), "$orderby": "msp_name"})
    base = f"{client.api_url}/{EntitySet.MILESTONES}?{options}"
    found: list[Milestone] = []
    for flt in chunk_in_filters("_msp_parentaccount_value", ids, url_without_filter=base,
                                budget=GET_URL_BUDGET) if ids else []:
        found.extend(_rows(client, flt, orderby="msp_name"))
    return found


def milestone_by_number(client: DataverseClient, number: str) -> Milestone:
    text = (number or "").strip()
    if not text:
        raise InvalidInput("a milestone number cannot be empty")
    found = _rows(client, ODataFilter.eq("msp_milestonenumber", text))
    if not found:
        raise MsxNotFound(f"MSX has no milestone number {text}")
    return found[0]


def my_milestones(client: DataverseClient, user_id: str) -> list[Milestone]:
    """Milestones the user owns (``_ownerid_value eq me``), every page."""
    return _rows(client, ODataFilter.eq("_ownerid_value", p.as_uuid(user_id)))


def access_team_fetchxml(user_id: str) -> str:
    """The catalog's FetchXML (reference/000 §4): milestones whose access team has the user."""
    user = quoteattr(str(p.as_uuid(user_id)))
    template = quoteattr(MILESTONE_TEAM_TEMPLATE_ID)
    attributes = "".join(f'<attribute name="{a}"/>' for a in (
        "msp_engagementmilestoneid", "msp_milestonenumber", "msp_name", "msp_milestonedate",
        "msp_milestonestatus", "msp_monthlyuse", "msp_commitmentrecommendation", "msp_milestonecategory",
        "ownerid", "msp_workloadlkid", "msp_opportunityid", "msp_parentaccount"))
    return (
        '<fetch version="1.0" output-format="xml-platform" mapping="logical" distinct="true" no-lock="true">'
        f'<entity name="msp_engagementmilestone">{attributes}'
        '<link-entity name="team" from="regardingobjectid" to="msp_engagementmilestoneid" link-type="inner" '
        'alias="t"><filter type="and"><condition attribute="teamtype" operator="eq" value="1"/>'
        f'<condition attribute="teamtemplateid" operator="eq" value={template}/></filter>'
        '<link-entity name="teammembership" from="teamid" to="teamid" link-type="inner" alias="tm">'
        f'<filter type="and"><condition attribute="systemuserid" operator="eq" value={user}/></filter>'
        "</link-entity></link-entity></entity></fetch>"
    )


def my_team_milestones(client: DataverseClient, user_id: str) -> list[Milestone]:
    """Milestones where the user is on the access team, through FetchXML (all pages)."""
    rows = client.fetchxml(EntitySet.MILESTONES, access_team_fetchxml(user_id))
    return [Milestone.from_row(row) for row in rows]


def get_milestone(client: DataverseClient, milestone_id: str) -> Milestone:
    """One milestone with forecast comments and its ETag (for an optimistic update)."""
    record = str(p.as_uuid(milestone_id))
    row = client.get_record(EntitySet.MILESTONES, record, select=list(MILESTONE_DETAIL_SELECT))
    return Milestone.from_row(row)


@dataclass(frozen=True)
class MilestoneChanges:
    """Columns a user may change from callnotes; None = leave as is."""

    milestone_date: date | None = None
    monthly_use: float | None = None
    #: An option value of ``msp_milestonestatus``; the CRM refuses one outside its option set.
    status: int | None = None

    def to_body(self) -> dict[str, object]:
        body: dict[str, object] = {}
        if self.milestone_date is not None:
            body["msp_milestonedate"] = self.milestone_date.isoformat()
        if self.monthly_use is not None:
            if self.monthly_use < 0:
                raise InvalidInput("monthly use cannot be negative")
            body["msp_monthlyuse"] = self.monthly_use
        if self.status is not None:
            if isinstance(self.status, bool) or not isinstance(self.status, int) or self.status < 0:
                raise InvalidInput(f"a milestone status is an option value, got {self.status!r}")
            body["msp_milestonestatus"] = self.status
        return body


def update_milestone(
    client: DataverseClient, milestone_id: str, changes: MilestoneChanges, *, etag: str | None = None
) -> None:
    """PATCH the milestone; with ``etag`` a concurrent change gives PreconditionFailed (412)."""
    body = changes.to_body()
    if not body:
        raise InvalidInput("nothing to update")
    client.update(EntitySet.MILESTONES, str(p.as_uuid(milestone_id)), body, etag=etag)


def update_request(milestone_id: str, changes: MilestoneChanges) -> BatchRequest:
    """The PATCH of ``changes`` as a ``$batch`` part; ``If-Match: *`` so it never creates a
    milestone that was deleted meanwhile (powerapps-docs/developer/data-platform/webapi/
    perform-conditional-operations-using-web-api.md, "Prevent create in upsert")."""
    body = changes.to_body()
    if not body:
        raise InvalidInput("nothing to update")
    return BatchRequest("PATCH", f"{EntitySet.MILESTONES}({p.as_uuid(milestone_id)})", body=body,
                        headers={"If-Match": "*"})


def milestones_by_id(client: DataverseClient, milestone_ids: Iterable[str]) -> dict[str, Milestone]:
    """Milestones with forecast comments and ETags, one query per URL-budget chunk of ids."""
    ids = sorted({p.as_uuid(m) for m in milestone_ids}, key=str)
    select = list(MILESTONE_DETAIL_SELECT)
    base = f"{client.api_url}/{EntitySet.MILESTONES}?{encode_query({'$select': ','.join(select)})}"
    found: dict[str, Milestone] = {}
    for flt in chunk_in_filters("msp_engagementmilestoneid", ids, url_without_filter=base,
                                budget=GET_URL_BUDGET) if ids else []:
        for row in client.iter_rows(EntitySet.MILESTONES, select=select, filter=flt):
            milestone = Milestone.from_row(row)
            found[milestone.id] = milestone
    return found


def with_comment(milestone: Milestone, comment: ForecastComment) -> tuple[ForecastComment, ...] | None:
    """The milestone's comments with ``comment`` appended; None when it is there already (a resend
    whose first try landed: same text, author and stamp)."""
    if comment in milestone.forecast_comments:
        return None
    return (*milestone.forecast_comments, comment)


def comment_request(milestone: Milestone, comments: tuple[ForecastComment, ...]) -> BatchRequest:
    """Write ``comments`` (JSON and plain summary) only if the milestone is as it was read
    (``If-Match`` its ETag): a 412 means someone else commented first, so read, merge, retry."""
    if not milestone.etag:
        raise InvalidInput("a forecast comment is written with the milestone's ETag; it has none")
    return BatchRequest("PATCH", f"{EntitySet.MILESTONES}({p.as_uuid(milestone.id)})",
                        body=_comments_body(comments), headers={"If-Match": milestone.etag})


def status_options(client: DataverseClient) -> dict[str, int]:
    """``msp_milestonestatus`` label → option value, from the CRM's metadata (the reference names
    only the labels): powerapps-docs/developer/data-platform/webapi/query-metadata-web-api.md,
    "Retrieve attributes" with the PicklistAttributeMetadata cast and ``$expand=OptionSet``."""
    path = ("EntityDefinitions(LogicalName='msp_engagementmilestone')/Attributes(LogicalName="
            "'msp_milestonestatus')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata")
    answer = client.get(path, {"$select": "LogicalName", "$expand": "OptionSet($select=Options)"})
    return _option_labels(answer)


def _option_labels(answer: object) -> dict[str, int]:
    try:
        options = answer["OptionSet"]["Options"]  # type: ignore[index]
        return {str(o["Label"]["UserLocalizedLabel"]["Label"]): int(o["Value"]) for o in options}
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedCrmAnswer("milestone status option set", "OptionSet",
                                 "has no labelled options") from exc


def _comments_body(comments: tuple[ForecastComment, ...]) -> dict[str, str]:
    summary = "\n".join(f"{c.date or ''} {c.author or ''}: {c.text}".strip() for c in comments)
    return {
        "msp_forecastcommentsjsonfield": json.dumps([c.to_json() for c in comments], ensure_ascii=False),
        "msp_forecastcomments": summary,
    }


def add_forecast_comment(
    client: DataverseClient, milestone_id: str, text: str, *, author: str, now: datetime | None = None
) -> Milestone:
    """Append a forecast comment: read (with ETag), add, PATCH with If-Match; re-read on a 412."""
    if not (text or "").strip():
        raise InvalidInput("a forecast comment cannot be empty")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    for attempt in range(_ETAG_RETRIES):
        current = get_milestone(client, milestone_id)
        comments = (*current.forecast_comments, ForecastComment(text.strip(), author, stamp))
        try:
            client.update(EntitySet.MILESTONES, current.id, _comments_body(comments), etag=current.etag)
        except PreconditionFailed:
            if attempt == _ETAG_RETRIES - 1:
                raise
            continue
        return get_milestone(client, milestone_id)
    raise AssertionError("unreachable")
