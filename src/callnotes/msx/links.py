"""URLs into MSX and Teams, built from ids (never from free text without encoding)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, urlencode

from callnotes.msx.errors import InvalidInput
from callnotes.msx.schema import APP_ID, CRM_URL

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEAMS_CHAT_URL = "https://teams.microsoft.com/l/chat/0/0"


def normalize_guid(value: str) -> str:
    """``value`` as a lower-case 8-4-4-4-12 GUID (braces and upper case accepted); else `InvalidInput`."""
    try:
        return str(uuid.UUID(str(value).strip().strip("{}")))
    except (ValueError, AttributeError) as exc:
        raise InvalidInput(f"not a GUID: {value!r}") from exc


def record_url(entity_logical_name: str, record_id: str, *, crm_url: str = CRM_URL) -> str:
    """The MSX page of one record, inside the MSX app (reference/001, "Building Milestone URLs")."""
    record = normalize_guid(record_id)
    query = urlencode({"appid": APP_ID, "pagetype": "entityrecord", "etn": entity_logical_name, "id": record})
    return f"{crm_url.rstrip('/')}/main.aspx?{query}"


def account_url(account_id: str, *, crm_url: str = CRM_URL) -> str:
    return record_url("account", account_id, crm_url=crm_url)


def opportunity_url(opportunity_id: str, *, crm_url: str = CRM_URL) -> str:
    return record_url("opportunity", opportunity_id, crm_url=crm_url)


def milestone_url(milestone_id: str, *, crm_url: str = CRM_URL) -> str:
    return record_url("msp_engagementmilestone", milestone_id, crm_url=crm_url)


def teams_chat_url(email: str | None) -> str | None:
    """Teams deep link opening a 1:1 chat with ``email`` (reference/000, section 7); None when
    ``email`` is missing or not an address (nothing to link to)."""
    address = (email or "").strip()
    if not _EMAIL.match(address):
        return None
    return f"{TEAMS_CHAT_URL}?users={quote(address, safe='@')}"
