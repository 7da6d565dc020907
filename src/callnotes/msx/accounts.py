"""WhoAmI / VPN check, accounts by TPID or name, territories (reference/000 §1-2, reference/001)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from callnotes.dataverse import DataverseClient, NetworkBlocked
from callnotes.dataverse.query import GET_URL_BUDGET, chunk_in_filters, encode_query
from callnotes.msx import _parse as p
from callnotes.msx.errors import InvalidInput, MsxNotFound, VpnDown
from callnotes.msx.records import Account, Territory, WhoAmI
from callnotes.msx.schema import ACCOUNT_SELECT, TERRITORY_SELECT, EntitySet

_TPID = re.compile(r"^\d{1,20}$")


def who_am_i(client: DataverseClient) -> WhoAmI:
    """The signed-in user (``GET WhoAmI``); `VpnDown` when the network refuses us."""
    try:
        return WhoAmI.from_row(client.get("WhoAmI"))
    except NetworkBlocked as exc:
        raise VpnDown(exc.message) from exc


def check_connection(client: DataverseClient) -> WhoAmI:
    """The VPN / token check of reference/000 §1: WhoAmI answers, or a typed error says why not."""
    return who_am_i(client)


def normalize_tpid(tpid: str | int) -> str:
    """A TPID as MSX stores it (digits only); `InvalidInput` otherwise."""
    text = str(tpid).strip()
    if not _TPID.match(text):
        raise InvalidInput(f"a TPID is a number, got {tpid!r}")
    return text


def _accounts_where(client: DataverseClient, field: str, values: Sequence[p.Literal]) -> list[Account]:
    base = f"{client.api_url}/{EntitySet.ACCOUNTS}?{encode_query({'$select': ','.join(ACCOUNT_SELECT)})}"
    found: list[Account] = []
    for flt in chunk_in_filters(field, list(values), url_without_filter=base, budget=GET_URL_BUDGET):
        rows = client.iter_rows(EntitySet.ACCOUNTS, select=list(ACCOUNT_SELECT), filter=flt, orderby="name")
        found.extend(Account.from_row(row) for row in rows)
    return found


def accounts_by_tpids(client: DataverseClient, tpids: Iterable[str | int]) -> list[Account]:
    """Accounts of many TPIDs, chunked by URL budget (``msp_mstopparentid eq '…' or …``)."""
    wanted = sorted({normalize_tpid(t) for t in tpids})
    return _accounts_where(client, "msp_mstopparentid", wanted) if wanted else []


def accounts_by_tpid(client: DataverseClient, tpid: str | int) -> list[Account]:
    """Every account under one TPID (a top parent can have several); `MsxNotFound` when none."""
    accounts = accounts_by_tpids(client, [tpid])
    if not accounts:
        raise MsxNotFound(f"MSX has no account with TPID {normalize_tpid(tpid)}")
    return accounts


def accounts_by_names(client: DataverseClient, names: Iterable[str]) -> list[Account]:
    """Accounts whose name equals one of ``names`` exactly (escaped by the filter builder)."""
    wanted = sorted({n.strip() for n in names if n and n.strip()})
    return _accounts_where(client, "name", wanted) if wanted else []


def accounts_by_name(client: DataverseClient, name: str) -> list[Account]:
    if not name or not name.strip():
        raise InvalidInput("an account name cannot be empty")
    return accounts_by_names(client, [name])


def accounts_by_ids(client: DataverseClient, account_ids: Iterable[str]) -> list[Account]:
    ids = sorted({p.as_uuid(a) for a in account_ids}, key=str)
    return _accounts_where(client, "accountid", ids) if ids else []


def territories_by_ids(client: DataverseClient, territory_ids: Iterable[str]) -> list[Territory]:
    ids = sorted({p.as_uuid(t) for t in territory_ids}, key=str)
    base = f"{client.api_url}/{EntitySet.TERRITORIES}?{encode_query({'$select': ','.join(TERRITORY_SELECT)})}"
    found: list[Territory] = []
    for flt in chunk_in_filters("territoryid", ids, url_without_filter=base) if ids else []:
        rows = client.iter_rows(EntitySet.TERRITORIES, select=list(TERRITORY_SELECT), filter=flt)
        found.extend(Territory.from_row(row) for row in rows)
    return found


