"""Token warm-up: the job queue's periodic task (every minute) refreshes a token with less than 10
minutes left, silently, so the first call after a long idle does not wait for the sign-in service.

For device code the refreshed token lands in the shared MSAL cache file (0600), where every client
built afterwards (a route, an import, the CLI) finds it; the Azure CLI refreshes its own cache. A
removed cache file (signed out) is never written back: there is nothing to warm then.
"""

from __future__ import annotations

import logging
import threading

from callnotes.config import AuthMode, Settings, live_settings
from callnotes.dataverse import AccessToken, AuthError, ClientSecretToken, DeviceCodeToken, TokenProvider
from callnotes.dataverse.auth import REFRESH_MARGIN
from callnotes.msx.errors import MsxError
from callnotes.sync.connection import auth_mode, token_cache_path, token_provider

_log = logging.getLogger(__name__)


class TokenWarmer:
    """Holds one provider per connection setting (rebuilt when they or the cache file change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._provider: TokenProvider | None = None
        self._key: tuple[object, ...] | None = None

    def warm(self, settings: Settings) -> AccessToken | None:
        """The current token, refreshed first when < 10 minutes are left; None when there is
        nothing to warm (demo, emulator, signed out) or the refresh failed (logged, never raised)."""
        live = live_settings(settings)
        mode = auth_mode(live)
        if not live.crm_url or mode is AuthMode.EMULATOR:
            return None
        cache = token_cache_path(live)
        if mode is AuthMode.DEVICE_CODE and not cache.exists():
            with self._lock:
                self._drop()
            return None
        with self._lock:
            try:
                return self._refresh(live, mode, cache.stat().st_mtime_ns if cache.exists() else None)
            except (AuthError, MsxError) as exc:
                _log.info("token warm-up: %s", exc)
                self._drop()
                return None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if isinstance(self._provider, (DeviceCodeToken, ClientSecretToken)):
            self._provider.close()
        self._provider = self._key = None

    def _refresh(self, live: Settings, mode: AuthMode, cache_version: int | None) -> AccessToken:
        key = (live.crm_url, mode, live.tenant_id, live.client_id, live.authority_host, cache_version)
        if self._provider is None or self._key != key:
            self._drop()
            self._provider, self._key = token_provider(live), key
        token = self._provider.get_token()
        if token.remaining() < REFRESH_MARGIN:
            token = self._provider.get_token(force_refresh=True)
            _log.info("token warm-up: refreshed ahead of expiry, now valid until %s", token.expires_on)
        return token
