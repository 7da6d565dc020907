"""Which CRM to talk to and with which token: the configured MSX, or the demo emulator.

In demo mode (no ``CALLNOTES_CRM_URL``) `demo.prepare_demo` starts an emulator and records its API
URL in the process environment (``CALLNOTES_DEMO_CRM_URL``) so every part of the same process
(CLI command, web routes) finds it without module-level state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from callnotes.config import Settings
from callnotes.dataverse import DataverseClient, DataverseError, token_provider_from_settings
from callnotes.msx.accounts import who_am_i
from callnotes.msx.errors import MsxError
from callnotes.msx.schema import CRM_URL

DEMO_URL_ENV = "CALLNOTES_DEMO_CRM_URL"


class NotConfigured(MsxError):
    def __init__(self) -> None:
        super().__init__("No CRM configured: set CALLNOTES_CRM_URL (and CALLNOTES_AUTH), "
                         "or start the app with `callnotes run` for the demo emulator.")


def api_url(settings: Settings) -> str | None:
    """The configured CRM, else the running demo emulator, else None."""
    return settings.crm_url or os.environ.get(DEMO_URL_ENV) or None


def link_org(settings: Settings) -> str:
    """The org "open in MSX" links point at: the configured CRM, or real MSX in demo mode (the
    emulator serves no MSX pages and its port changes at every start)."""
    return (settings.crm_url or CRM_URL).split("/api/data/")[0].rstrip("/")


def open_client(settings: Settings, *, url: str | None = None) -> DataverseClient:
    """A client for the configured CRM (or ``url``); `NotConfigured` when there is none."""
    target = url or api_url(settings)
    if not target:
        raise NotConfigured()
    provider = token_provider_from_settings(settings, emulator_url=target)
    return DataverseClient(target, provider)


@dataclass(frozen=True)
class ConnectionStatus:
    """What the settings page shows: who am I, until when, or why not."""

    connected: bool
    crm_url: str | None
    user_id: str | None = None
    user_name: str | None = None
    expires_on: datetime | None = None
    demo: bool = False
    error: str | None = None


def connection_status(settings: Settings) -> ConnectionStatus:
    """Sign in and call WhoAmI; every failure becomes a sentence in ``error``."""
    url = api_url(settings)
    demo = not settings.crm_url
    if not url:
        return ConnectionStatus(False, None, demo=demo, error=str(NotConfigured()))
    try:
        with open_client(settings, url=url) as client:
            me = who_am_i(client)
            token = client.pipeline.tokens.get_token()
    except (DataverseError, MsxError) as exc:
        return ConnectionStatus(False, url, demo=demo, error=str(exc))
    return ConnectionStatus(True, url, me.user_id, token.display_name, token.expires_on, demo=demo)
