"""Deal (opportunity) and milestone access teams: check, join, leave, bulk (reference/000 §5, §8).

Membership is read through ``systemusers(id)/teammembership_association``. The catalog writes the
filter as ``teamtemplateid eq guid'…'``; the Web API's documented form for a lookup column is
``_teamtemplateid_value eq <guid>`` (powerapps-docs/developer/data-platform/webapi/web-api-properties.md,
lookup properties; GUID literals bare per .../webapi/query/filter-rows.md), which is what we send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from callnotes.dataverse import BatchRequest, DataverseClient, DataverseError, ODataFilter
from callnotes.dataverse.query import chunk_in_filters
from callnotes.msx import _parse as p
from callnotes.msx.schema import (
    ACCESS_TEAM_TYPE,
    MILESTONE_TEAM_TEMPLATE_ID,
    OPPORTUNITY_TEAM_TEMPLATE_ID,
    EntitySet,
)

_TYPE_PREFIX = "Microsoft.Dynamics.CRM."


class TeamKind(StrEnum):
    """Which access team: the record's logical name; template and key follow from it."""

    OPPORTUNITY = "opportunity"
    MILESTONE = "msp_engagementmilestone"

    @property
    def template_id(self) -> str:
        return OPPORTUNITY_TEAM_TEMPLATE_ID if self is TeamKind.OPPORTUNITY else MILESTONE_TEAM_TEMPLATE_ID

    @property
    def key(self) -> str:
        return "opportunityid" if self is TeamKind.OPPORTUNITY else "msp_engagementmilestoneid"


@dataclass(frozen=True)
class TeamChange:
    kind: TeamKind
    record_id: str
    join: bool


@dataclass(frozen=True)
class TeamChangeResult:
    change: TeamChange
    error: DataverseError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _membership_path(user_id: str) -> str:
    return f"{EntitySet.SYSTEM_USERS}({p.as_uuid(user_id)})/teammembership_association"


def team_memberships(
    client: DataverseClient, user_id: str, kind: TeamKind, record_ids: Iterable[str]
) -> set[str]:
    """The subset of ``record_ids`` whose ``kind`` access team has the user (primary method)."""
    ids = sorted({p.as_uuid(r) for r in record_ids}, key=str)
    base = ODataFilter.eq("_teamtemplateid_value", p.as_uuid(kind.template_id)) & ODataFilter.eq(
        "teamtype", ACCESS_TEAM_TYPE)
    path = _membership_path(user_id)
    field = "_regardingobjectid_value"
    url = f"{client.api_url}/{path}?$select={field},teamid"
    chunks = chunk_in_filters(field, ids, url_without_filter=url, extra=base) if ids else []
    rows = (row for flt in chunks for row in client.iter_rows(path, select=[field, "teamid"], filter=flt))
    return {p.guid("teammembership", row, field) for row in rows}  # type: ignore[misc]


def deal_team_memberships(client: DataverseClient, user_id: str, opportunity_ids: Iterable[str]) -> set[str]:
    """Fallback for opportunities: active ``msp_dealteams`` rows of the user (reference/000 §5)."""
    ids = sorted({p.as_uuid(r) for r in opportunity_ids}, key=str)
    base = ODataFilter.eq("_msp_dealteamuserid_value", p.as_uuid(user_id)) & ODataFilter.eq("statecode", 0)
    found: set[str] = set()
    field = "_msp_parentopportunityid_value"
    url = f"{client.api_url}/{EntitySet.DEAL_TEAMS}?$select={field}"
    chunks = chunk_in_filters(field, ids, url_without_filter=url, extra=base) if ids else []
    for flt in chunks:
        rows = client.iter_rows(EntitySet.DEAL_TEAMS, select=["_msp_parentopportunityid_value"], filter=flt)
        found.update(p.guid("msp_dealteam", r, "_msp_parentopportunityid_value") for r in rows)  # type: ignore[misc]
    return found


def on_team(client: DataverseClient, user_id: str, kind: TeamKind, record_ids: Iterable[str]) -> set[str]:
    """Memberships by the primary method; for opportunities, msp_dealteams when that query fails."""
    ids = list(record_ids)
    try:
        return team_memberships(client, user_id, kind, ids)
    except DataverseError:
        if kind is not TeamKind.OPPORTUNITY:
            raise
        return deal_team_memberships(client, user_id, ids)


def _action_body(kind: TeamKind, record_id: str) -> dict[str, object]:
    return {
        "Record": {"@odata.type": f"{_TYPE_PREFIX}{kind.value}", kind.key: str(p.as_uuid(record_id))},
        "TeamTemplate": {"@odata.type": f"{_TYPE_PREFIX}teamtemplate", "teamtemplateid": kind.template_id},
    }


def _action_path(user_id: str, join: bool) -> str:
    action = "AddUserToRecordTeam" if join else "RemoveUserFromRecordTeam"
    return f"{EntitySet.SYSTEM_USERS}({p.as_uuid(user_id)})/Microsoft.Dynamics.CRM.{action}"


def change_request(user_id: str, change: TeamChange) -> BatchRequest:
    """``AddUserToRecordTeam`` / ``RemoveUserFromRecordTeam`` as one ``$batch`` part (sending it again
    leaves the team as it is)."""
    body = _action_body(change.kind, change.record_id)
    return BatchRequest("POST", _action_path(user_id, change.join), body=body)


def join_team(client: DataverseClient, user_id: str, kind: TeamKind, record_id: str) -> None:
    client.call_action(_action_path(user_id, True), _action_body(kind, record_id))


def leave_team(client: DataverseClient, user_id: str, kind: TeamKind, record_id: str) -> None:
    client.call_action(_action_path(user_id, False), _action_body(kind, record_id))


def change_teams(
    client: DataverseClient, user_id: str, changes: Sequence[TeamChange]
) -> list[TeamChangeResult]:
    """Many joins / leaves through ``$batch`` (independent parts: one failure does not undo the rest)."""
    requests = [change_request(user_id, c) for c in changes]
    if not requests:
        return []
    results = client.batch(requests, atomic=False, continue_on_error=True)
    return [TeamChangeResult(c, r.error) for c, r in zip(changes, results, strict=True)]
