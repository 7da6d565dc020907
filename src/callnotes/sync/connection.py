"""Which CRM to talk to and with which token: the configured MSX, or the demo emulator.

The app's `Settings` become explicit arguments of the generic client here (``dataverse/`` knows
nothing of callnotes' configuration). In demo mode (no ``CALLNOTES_CRM_URL``) `demo.prepare_demo`
starts an emulator and records its API URL in the process environment (``CALLNOTES_DEMO_CRM_URL``)
so every part of the same process (CLI command, web routes, worker) finds it without module state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from callnotes.config import AuthMode, Settings, live_settings
from callnotes.dataverse import (
    AuthError,
    AzureCliToken,
    ClientSecretToken,
    DataverseClient,
    DataverseError,
    DeviceCodeToken,
    EmulatorToken,
    TokenProvider,
)
from callnotes.msx.accounts import who_am_i
from callnotes.msx.errors import MsxError
from callnotes.msx.schema import CRM_URL, TENANT_ID

DEMO_URL_ENV = "CALLNOTES_DEMO_CRM_URL"
#: The MSAL token cache of device-code sign-in, in the data dir (0600).
TOKEN_CACHE_FILE = "msal_token_cache.json"  # noqa: S105 - a file name


class NotConfigured(MsxError):
    def __init__(self) -> None:
        super().__init__("No CRM configured: set CALLNOTES_CRM_URL (and CALLNOTES_AUTH), "
                         "or start the app with `callnotes run` for the demo emulator.")


def api_url(settings: Settings) -> str | None:
    """The configured CRM (as saved now), else the running demo emulator, else None."""
    return live_settings(settings).crm_url or os.environ.get(DEMO_URL_ENV) or None


def org_url(url: str) -> str:
    """The organisation (token audience) of a CRM URL: scheme + host, without ``/api/data/…``."""
    return url.split("/api/data/")[0].rstrip("/")


def link_org(settings: Settings) -> str:
    """The org "open in MSX" links point at: the configured CRM, or real MSX in demo mode (the
    emulator serves no MSX pages and its port changes at every start)."""
    return org_url(live_settings(settings).crm_url or CRM_URL)


def auth_mode(settings: Settings) -> AuthMode:
    """``CALLNOTES_AUTH`` (or the saved choice), else the emulator in demo mode and the Azure CLI
    with a CRM URL."""
    settings = live_settings(settings)
    if settings.auth is not None:
        return settings.auth
    return AuthMode.EMULATOR if settings.demo_mode else AuthMode.AZCLI


def token_cache_path(settings: Settings) -> Path:
    return settings.resolved_data_dir() / TOKEN_CACHE_FILE


def token_provider(
    settings: Settings, *, url: str | None = None, msal_options: Mapping[str, Any] | None = None
) -> TokenProvider:
    """The provider for ``settings.auth`` against ``url`` (default: the configured CRM or demo),
    built from the connection settings as saved now."""
    settings = live_settings(settings)
    target = url or api_url(settings)
    if target is None:
        raise NotConfigured()
    mode, resource, tenant = auth_mode(settings), org_url(target), settings.tenant_id or TENANT_ID
    if mode is AuthMode.EMULATOR:
        return EmulatorToken(resource)
    if mode is AuthMode.AZCLI:
        return AzureCliToken(resource, tenant)
    if not settings.client_id:
        raise AuthError(f"Sign-in method {mode.value} needs a client id (the app registration): enter "
                        "it on the settings page or set CALLNOTES_CLIENT_ID.")
    authority = f"{settings.authority_host.rstrip('/')}/{tenant}"
    if mode is AuthMode.DEVICE_CODE:
        return DeviceCodeToken(settings.client_id, tenant, resource, token_cache_path(settings),
                               authority=authority, msal_options=msal_options)
    secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
    if not secret:
        raise AuthError("Sign-in method client-secret needs a client secret: enter it on the settings "
                        "page or set CALLNOTES_CLIENT_SECRET.")
    return ClientSecretToken(tenant, settings.client_id, secret, resource, authority=authority,
                             msal_options=msal_options)


def open_client(settings: Settings, *, url: str | None = None) -> DataverseClient:
    """A client for the configured CRM (or ``url``); `NotConfigured` when there is none."""
    target = url or api_url(settings)
    if not target:
        raise NotConfigured()
    provider = token_provider(settings, url=target)
    msal = provider if isinstance(provider, (DeviceCodeToken, ClientSecretToken)) else None
    return DataverseClient(target, provider, on_close=msal.close if msal else None)  # MSAL's session


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
    settings = live_settings(settings)
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


def device_code_provider(settings: Settings) -> DeviceCodeToken:
    """The device-code provider of ``settings``; `MsxError` saying what to do in any other mode."""
    mode = auth_mode(settings)
    if mode is not AuthMode.DEVICE_CODE:
        raise MsxError(
            f"CALLNOTES_AUTH is {mode.value!r}: no sign-in step is needed here "
            "(azcli: run `az login --tenant <tenant>`; set CALLNOTES_AUTH=device-code to use this command)."
        )
    provider = token_provider(settings)
    assert isinstance(provider, DeviceCodeToken)
    return provider
