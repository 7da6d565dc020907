"""Token providers on MSAL: device code (public client, persisted cache) and client secret.

Device code follows reference/000 "What NoteHelper Should Use — Device Code Flow with MSAL" and the
MSAL Python API (``initiate_device_flow`` → show ``user_code`` / ``verification_uri`` → poll with
``acquire_token_by_device_flow`` in a background thread → ``acquire_token_silent`` afterwards with the
``SerializableTokenCache`` persisted to disk). Client secret is the service-principal mode of the sync
guide (reference/002) via ``ConfidentialClientApplication.acquire_token_for_client``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msal

from callnotes.dataverse.auth import AccessToken, RefreshingProvider
from callnotes.dataverse.errors import AuthError, SignInUnreachable

logger = logging.getLogger(__name__)

LOGIN_AUTHORITY = "https://login.microsoftonline.com"


def default_scopes(resource: str) -> list[str]:
    """``<resource>/.default``: every delegated permission the app registration holds (reference/000)."""
    return [f"{resource.rstrip('/')}/.default"]


def _token_from_result(result: Mapping[str, Any] | None, what: str) -> AccessToken:
    if not result or "access_token" not in result:
        reason = (result or {}).get("error_description") or (result or {}).get("error") or "no answer"
        raise AuthError(f"{what} failed: {str(reason).splitlines()[0][:200]}")
    expires_in = float(result.get("expires_in", 3600))
    return AccessToken.from_jwt(
        result["access_token"], fallback_expires_on=datetime.now(UTC) + timedelta(seconds=expires_in)
    )


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            descriptor = -1
            handle.write(text)
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    os.replace(temporary, path)


def _msal_args(authority: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """MSAL options; a custom authority (the emulator) skips instance discovery.

    MSAL always sends instance discovery for hosts it does not know to login.microsoftonline.com
    (``msal.authority._get_instance_discovery_endpoint``), so a private authority needs
    ``instance_discovery=False``. MSAL also only accepts ``https`` authorities.
    """
    args: dict[str, Any] = {"authority": authority, **dict(options or {})}
    if not authority.startswith(LOGIN_AUTHORITY):
        args.setdefault("instance_discovery", False)
    return args


def _build(factory: Callable[..., Any], args: Mapping[str, Any]) -> Any:
    """Construct an MSAL app; its authority discovery failing becomes a clear AuthError."""
    try:
        return factory(**args)
    except ValueError as exc:  # MSAL: bad or unknown authority
        raise AuthError(f"The sign-in authority {args['authority']} is not usable: {str(exc)[:200]}") from exc
    except Exception as exc:  # requests' connection errors: the authority could not be reached
        raise SignInUnreachable(
            f"Could not reach the sign-in service at {args['authority']} ({type(exc).__name__}). "
            "Check the network / VPN."
        ) from exc


def _close_app(app: Any) -> None:
    """Close an MSAL app's HTTP session (its keep-alive connections to the authority)."""
    if app is not None:
        with contextlib.suppress(Exception):  # closing is best effort: nothing to report
            app.http_client.close()


@dataclass(frozen=True)
class DeviceCodePrompt:
    """What to show the user: go to ``verification_uri`` and enter ``user_code``."""

    user_code: str
    verification_uri: str
    message: str
    expires_at: datetime


class DeviceCodeToken(RefreshingProvider):
    """MSAL device code sign-in with a 0600 token cache file and silent refresh."""

    def __init__(
        self,
        client_id: str,
        tenant_id: str,
        resource: str,
        cache_path: Path,
        *,
        authority: str | None = None,
        msal_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._scopes = default_scopes(resource)
        self._cache_path = Path(cache_path)
        self._cache = msal.SerializableTokenCache()
        if self._cache_path.exists():
            self._cache.deserialize(self._cache_path.read_text(encoding="utf-8"))
        self._app_args = {
            "client_id": client_id,
            "token_cache": self._cache,
            **_msal_args(authority or f"{LOGIN_AUTHORITY}/{tenant_id}", msal_options),
        }
        self._msal: msal.PublicClientApplication | None = None
        self._flow: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._failure: str | None = None
        self._error_code: str | None = None

    @property
    def _app(self) -> msal.PublicClientApplication:
        """The MSAL app, built on first use (MSAL contacts the authority when it is built)."""
        if self._msal is None:
            self._msal = _build(msal.PublicClientApplication, self._app_args)
        return self._msal

    # -- sign-in ---------------------------------------------------------------------------------
    def start(self, on_code: Callable[[DeviceCodePrompt], None] | None = None) -> DeviceCodePrompt:
        """Begin a device code sign-in; polling runs in a background thread until done or expired."""
        app = self._app  # built here: an unusable authority is its own AuthError
        try:
            flow = app.initiate_device_flow(scopes=self._scopes)
        except Exception as exc:  # requests' connection errors: the authority could not be reached
            raise SignInUnreachable(
                f"Could not reach the sign-in service to start a device code ({type(exc).__name__}). "
                "Check the network / VPN."
            ) from exc
        if "user_code" not in flow:
            reason = flow.get("error_description") or flow.get("error") or "unknown error"
            raise AuthError(f"Could not start the device code sign-in: {str(reason)[:200]}")
        prompt = DeviceCodePrompt(
            user_code=flow["user_code"],
            verification_uri=flow.get("verification_uri") or flow.get("verification_url", ""),
            message=flow.get("message", ""),
            expires_at=datetime.fromtimestamp(flow["expires_at"], UTC),
        )
        self._flow, self._failure, self._error_code = flow, None, None
        self._done.clear()
        self._thread = threading.Thread(target=self._poll, args=(flow,), name="msal-device-code", daemon=True)
        self._thread.start()
        if on_code is not None:
            on_code(prompt)
        return prompt

    def _poll(self, flow: dict[str, Any]) -> None:
        try:
            result = self._app.acquire_token_by_device_flow(flow)
            self._error_code = str((result or {}).get("error") or "") or None
            token = _token_from_result(result, "Device code sign-in")
            with self._lock:
                self._token = token
            self._save()
        except AuthError as exc:
            self._failure = exc.message
        except Exception as exc:  # the thread must always report back
            logger.warning("device code polling failed: %s", type(exc).__name__)
            self._failure = f"Device code sign-in failed ({type(exc).__name__})"
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> AccessToken:
        """Block until the background sign-in ends; the token, or AuthError with the reason."""
        if self._thread is None:
            raise AuthError("No device code sign-in was started.")
        if not self._done.wait(timeout):
            raise AuthError("The device code sign-in has not finished yet.")
        if self._failure:
            raise AuthError(self._failure)
        return self.get_token()

    @property
    def finished(self) -> bool:
        """Whether the background sign-in has ended (signed in, failed, expired or cancelled)."""
        return self._done.is_set()

    @property
    def outcome(self) -> tuple[str | None, str | None]:
        """Once finished: the OAuth error code of the last answer (``expired_token``,
        ``authorization_declined``, ``authorization_pending`` when polling stopped, …) and the
        failure sentence; ``(None, None)`` after a successful sign-in."""
        return self._error_code, self._failure

    def cancel(self) -> None:
        """Stop polling (MSAL checks ``expires_at`` between polls)."""
        if self._flow is not None:
            self._flow["expires_at"] = 0

    @property
    def signed_in(self) -> bool:
        return bool(self._app.get_accounts())

    def close(self) -> None:
        """Let go of the connections to the sign-in service (the provider still works after)."""
        _close_app(self._msal)

    # -- tokens ----------------------------------------------------------------------------------
    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        accounts = self._app.get_accounts()
        if not accounts:
            raise AuthError("Not signed in to MSX. Run `callnotes login` (device code sign-in).")
        try:
            result = self._app.acquire_token_silent(
                self._scopes, account=accounts[0], force_refresh=force_refresh
            )
        except Exception as exc:  # requests' connection errors: the authority could not be reached
            raise SignInUnreachable(
                f"Could not reach the sign-in service to refresh the token ({type(exc).__name__}). "
                "Check the network / VPN."
            ) from exc
        self._save()
        if not result:
            raise AuthError("The saved MSX sign-in can no longer be refreshed. Sign in again.")
        return _token_from_result(result, "Silent token refresh")

    def _save(self) -> None:
        if self._cache.has_state_changed:
            write_private(self._cache_path, self._cache.serialize())
            self._cache.has_state_changed = False

    def clear(self) -> None:
        """Sign out: forget every cached account and delete the cache file.

        Works offline (VPN down): the MSAL app is not built just to sign out, since building it
        contacts the authority; an unbuilt app only needs a fresh, empty cache.
        """
        if self._msal is not None:
            for account in self._msal.get_accounts():
                self._msal.remove_account(account)
        else:
            self._cache = msal.SerializableTokenCache()
            self._app_args["token_cache"] = self._cache
        with self._lock:
            self._token = None
        with contextlib.suppress(FileNotFoundError):
            self._cache_path.unlink()


class ClientSecretToken(RefreshingProvider):
    """Service principal (tenant, client id, secret): the client-credentials grant."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        resource: str,
        *,
        authority: str | None = None,
        msal_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not (tenant_id and client_id and client_secret):
            raise AuthError("Client-secret sign-in needs a tenant id, a client id and a client secret.")
        self._scopes = default_scopes(resource)
        self._app_args = {
            "client_id": client_id,
            "client_credential": client_secret,
            **_msal_args(authority or f"{LOGIN_AUTHORITY}/{tenant_id}", msal_options),
        }
        self._msal: msal.ConfidentialClientApplication | None = None

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        # MSAL serves its cached app token until it nears expiry; a forced refresh (after a 401)
        # starts from a new, empty cache so the token endpoint is really asked again.
        if force_refresh:
            _close_app(self._msal)
            self._msal = None
        if self._msal is None:
            self._msal = _build(msal.ConfidentialClientApplication, self._app_args)
        result = self._msal.acquire_token_for_client(self._scopes)
        return _token_from_result(result, "Client-secret sign-in")

    def close(self) -> None:
        """Let go of the connections to the sign-in service (the provider still works after)."""
        _close_app(self._msal)
