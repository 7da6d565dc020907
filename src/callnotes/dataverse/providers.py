"""Build the token provider the settings ask for (``CALLNOTES_AUTH`` and friends, DESIGN.md §Contracts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callnotes.config import AuthMode, Settings
from callnotes.dataverse.auth import AzureCliToken, EmulatorToken, TokenProvider
from callnotes.dataverse.errors import AuthError
from callnotes.dataverse.msal_auth import ClientSecretToken, DeviceCodeToken

TOKEN_CACHE_FILE = "msal_token_cache.json"  # noqa: S105 - a file name


def _org_url(url: str) -> str:
    """The resource (audience) for a CRM URL: scheme + host, without ``/api/data/…``."""
    return url.split("/api/data/")[0].rstrip("/")


def token_provider_from_settings(
    settings: Settings,
    *,
    emulator_url: str | None = None,
    msal_options: Mapping[str, Any] | None = None,
) -> TokenProvider:
    """The provider for ``settings.auth``; with no CRM configured, the emulator at ``emulator_url``."""
    mode = settings.auth
    crm_url = settings.crm_url or emulator_url
    if mode is None:
        mode = AuthMode.EMULATOR if settings.demo_mode else AuthMode.AZCLI
    if crm_url is None:
        raise AuthError("No CRM URL: set CALLNOTES_CRM_URL (or run in demo mode with the emulator).")
    resource = _org_url(crm_url)
    if mode is AuthMode.EMULATOR:
        return EmulatorToken(resource)
    if mode is AuthMode.AZCLI:
        return AzureCliToken(resource, settings.tenant_id)
    if not settings.client_id:
        raise AuthError(f"CALLNOTES_AUTH={mode.value} needs CALLNOTES_CLIENT_ID (the app registration).")
    if mode is AuthMode.DEVICE_CODE:
        cache = settings.resolved_data_dir() / TOKEN_CACHE_FILE
        return DeviceCodeToken(
            settings.client_id, settings.tenant_id, resource, cache, msal_options=msal_options
        )
    secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
    if not secret:
        raise AuthError("CALLNOTES_AUTH=client-secret needs CALLNOTES_CLIENT_SECRET.")
    return ClientSecretToken(
        settings.tenant_id, settings.client_id, secret, resource, msal_options=msal_options
    )
