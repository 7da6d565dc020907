"""Links out of the app (MSX records) for pages: the MSX area's builders, or no link
when the stored value cannot make one (a page never breaks over a bad id or email)."""

from __future__ import annotations

from callnotes.config import Settings
from callnotes.msx import links
from callnotes.msx.errors import InvalidInput
from callnotes.store.models import Customer
from callnotes.store.repo._common import is_link_url
from callnotes.sync.connection import link_org


def safe_href(url: str | None) -> str | None:
    """``url`` when a page may link to it (the store's rule: ``https://``, or ``http://`` on the
    loopback), else None. Checked again here, when rendering, so a value stored before the rule
    existed (e.g. an imported ``javascript:…``) is never a live link."""
    return url if url and is_link_url(url) else None


def customer_msx_url(customer: Customer) -> str | None:
    """The customer's MSX account page: the stored URL, else one built from its MSX account id."""
    if customer.msx_url:
        return safe_href(customer.msx_url)
    if not customer.msx_id:
        return None
    try:
        return links.account_url(customer.msx_id)
    except InvalidInput:
        return None


def milestone_msx_url(msx_id: str | None) -> str | None:
    """The milestone's MSX page, or None when it has no (valid) MSX id."""
    try:
        return links.milestone_url(msx_id) if msx_id else None
    except InvalidInput:
        return None


def opportunity_msx_url(msx_id: str | None) -> str | None:
    """The opportunity's MSX page, or None when it has no (valid) MSX id."""
    try:
        return links.opportunity_url(msx_id) if msx_id else None
    except InvalidInput:
        return None


def task_msx_url(msx_id: str | None, settings: Settings) -> str | None:
    """The task's page in the MSX org this app talks to, or None without a (valid) MSX id."""
    try:
        return links.record_url("task", msx_id, crm_url=link_org(settings)) if msx_id else None
    except InvalidInput:
        return None
