"""Account team (sellers and SEs), users, Teams chat links (reference/001 "Fetching Account Team Members").

msp_accountteams answers at most 100 rows and no next link in MSX, so every query here is narrowed
server-side (Corporate level, Cloud & AI roles) and asked for a few accounts at a time; a query that
comes back full is split (per account, then per role) rather than trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from callnotes.dataverse import DataverseClient, ODataFilter
from callnotes.msx import _parse as p
from callnotes.msx.errors import MsxNotFound
from callnotes.msx.links import teams_chat_url
from callnotes.msx.records import AccountTeamMember, MsxUser
from callnotes.msx.schema import (
    ACCOUNT_TEAM_ROW_CAP,
    ACCOUNT_TEAM_SELECT,
    CLOUD_ROLE_PREFIX,
    QUALIFIER1_CORPORATE,
    SE_ROLES,
    SELLER_ROLES,
    SELLER_TITLE,
    USER_SELECT,
    EntitySet,
    Role,
)

ACCOUNTS_PER_QUERY = 3
Members = list[AccountTeamMember]
Client = DataverseClient


def _roles_filter(roles: Sequence[Role]) -> ODataFilter:
    return ODataFilter.in_("msp_qualifier2", [r.value for r in roles])


def cloud_team_filter() -> ODataFilter:
    """All Cloud & AI rows at Corporate level: the guide's server-side filter."""
    return ODataFilter.eq("msp_qualifier1", QUALIFIER1_CORPORATE) & ODataFilter.startswith(
        "msp_qualifier2", CLOUD_ROLE_PREFIX)


def seller_filter() -> ODataFilter:
    """Growth ("Cloud & AI") and Acquisition ("Cloud & AI-Acq") sellers titled "Specialists IC"."""
    return ODataFilter.all_of(
        ODataFilter.eq("msp_qualifier1", QUALIFIER1_CORPORATE),
        _roles_filter(SELLER_ROLES),
        ODataFilter.contains("msp_standardtitle", SELLER_TITLE),
    )


def se_filter() -> ODataFilter:
    """Data, Infrastructure and Apps solution engineers."""
    return ODataFilter.eq("msp_qualifier1", QUALIFIER1_CORPORATE) & _roles_filter(SE_ROLES)


def _query(client: Client, account_ids: Sequence[str], narrow: ODataFilter) -> Members:
    flt = ODataFilter.in_("_msp_accountid_value", [p.as_uuid(a) for a in account_ids]) & narrow
    rows = list(client.iter_rows(EntitySet.ACCOUNT_TEAMS, select=list(ACCOUNT_TEAM_SELECT), filter=flt))
    if len(rows) < ACCOUNT_TEAM_ROW_CAP:
        return [AccountTeamMember.from_row(row) for row in rows]
    if len(account_ids) > 1:  # possibly cut at the cap: ask account by account
        return [m for a in account_ids for m in _query(client, [a], narrow)]
    return [m for role in Role for m in _query_role(client, account_ids[0], narrow, role)]


def _query_role(client: Client, account_id: str, narrow: ODataFilter, role: Role) -> Members:
    flt = ODataFilter.all_of(ODataFilter.eq("_msp_accountid_value", p.as_uuid(account_id)), narrow,
                             ODataFilter.eq("msp_qualifier2", role.value))
    rows = client.iter_rows(EntitySet.ACCOUNT_TEAMS, select=list(ACCOUNT_TEAM_SELECT), filter=flt)
    return [AccountTeamMember.from_row(row) for row in rows]


def _team(client: Client, account_ids: Iterable[str], narrow: ODataFilter) -> Members:
    ids = sorted({str(p.as_uuid(a)) for a in account_ids})
    members: dict[tuple[str, str, str | None], AccountTeamMember] = {}
    for start in range(0, len(ids), ACCOUNTS_PER_QUERY):
        for member in _query(client, ids[start:start + ACCOUNTS_PER_QUERY], narrow):
            members[(member.account_id, member.user_id, member.role)] = member
    return list(members.values())


def account_team(client: DataverseClient, account_ids: Iterable[str]) -> list[AccountTeamMember]:
    """Every Cloud & AI row of the accounts (sellers, SEs and the rest of the Cloud roles)."""
    return _team(client, account_ids, cloud_team_filter())


def account_sellers(client: DataverseClient, account_ids: Iterable[str]) -> list[AccountTeamMember]:
    """Sellers only, filtered server-side; each has ``seller_type`` Growth or Acquisition."""
    return [m for m in _team(client, account_ids, seller_filter()) if m.seller_type is not None]


def account_ses(client: DataverseClient, account_ids: Iterable[str]) -> list[AccountTeamMember]:
    """Solution engineers only (Data / Infra / Apps), filtered server-side."""
    return _team(client, account_ids, se_filter())


def get_user(client: DataverseClient, user_id: str) -> MsxUser:
    return MsxUser.from_row(client.get_record(EntitySet.SYSTEM_USERS, str(p.as_uuid(user_id)),
                                              select=list(USER_SELECT)))


def teams_chat_link(client: DataverseClient, user_id: str) -> str:
    """The Teams 1:1 chat link of an MSX user, from their email (reference/000 §7)."""
    user = get_user(client, user_id)
    link = teams_chat_url(user.email)
    if link is None:
        raise MsxNotFound(f"MSX has no usable email address for user {user.full_name or user_id}")
    return link
