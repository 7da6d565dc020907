"""Links out of the app (MSX records, Teams chats), via the MSX area's builders when present."""

from __future__ import annotations

from urllib.parse import quote

from callnotes.store.models import Customer

_TEAMS_CHAT = "https://teams.microsoft.com/l/chat/0/0?users="


def customer_msx_url(customer: Customer) -> str | None:
    """The customer's MSX account page: the stored URL, else one built from its MSX account id."""
    if customer.msx_url:
        return customer.msx_url
    if not customer.msx_id:
        return None
    try:
        from callnotes.msx.links import account_url
    except ImportError:
        return None
    try:
        return account_url(customer.msx_id)
    except Exception:  # the MSX area's InvalidInput (bad GUID): no link rather than a broken page
        return None


def teams_chat_url(email: str | None) -> str | None:
    """Teams deep link for a 1:1 chat with ``email`` (reference msx-api-catalog, Teams chat links)."""
    address = (email or "").strip()
    if "@" not in address or any(ch.isspace() for ch in address):
        return None
    return _TEAMS_CHAT + quote(address, safe="@")
