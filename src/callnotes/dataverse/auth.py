"""Access tokens for Dataverse: the provider protocol, JWT display claims, refresh-ahead caching,
and the simple providers (static, emulator, Azure CLI). MSAL-based providers live in ``msal_auth``.

Never log a token: ``AccessToken.__repr__`` hides it and every error message names only the source.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import httpx
import jwt

from callnotes.dataverse.errors import AuthError

logger = logging.getLogger(__name__)

#: Refresh when less than this is left (reference/000 "Auto-Refresh": < 10 minutes).
REFRESH_MARGIN = timedelta(minutes=10)
AZ_TIMEOUT_S = 30.0
#: How long to keep a nearly expired token before asking its source again.
REFRESH_RETRY = timedelta(seconds=60)


def decode_claims(token: str) -> dict[str, Any]:
    """The JWT payload, decoded WITHOUT a signature check (display only: name, upn, exp, aud).

    Opaque (non-JWT) tokens give ``{}``.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass(frozen=True)
class AccessToken:
    """A bearer token, when it expires (UTC), and its decoded claims."""

    token: str = field(repr=False)
    expires_on: datetime
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_jwt(cls, token: str, *, fallback_expires_on: datetime | None = None) -> AccessToken:
        claims = decode_claims(token)
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            expires_on = datetime.fromtimestamp(exp, UTC)
        elif fallback_expires_on is not None:
            expires_on = fallback_expires_on
        else:
            expires_on = datetime.now(UTC) + timedelta(minutes=5)
        return cls(token, expires_on, claims)

    def remaining(self, now: datetime | None = None) -> timedelta:
        return self.expires_on - (now or datetime.now(UTC))

    @property
    def display_name(self) -> str | None:
        """``name`` or ``upn`` / ``preferred_username`` from the token, for "signed in as …"."""
        for key in ("name", "upn", "preferred_username", "unique_name"):
            if self.claims.get(key):
                return str(self.claims[key])
        return None


@runtime_checkable
class TokenProvider(Protocol):
    """Anything that hands out a current bearer token."""

    def get_token(self, *, force_refresh: bool = False) -> AccessToken: ...


class RefreshingProvider:
    """Base: keeps the last token and fetches a new one when < 10 minutes remain or when forced."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self._quiet_until: datetime | None = None

    def _needs_fetch(self, current: AccessToken | None, force_refresh: bool, now: datetime) -> bool:
        if current is None or force_refresh or current.remaining(now) <= timedelta(0):
            return True
        if current.remaining(now) >= REFRESH_MARGIN:
            return False
        # Nearly expired: ask again, but not on every request if the source keeps handing back the
        # same short-lived token (the Azure CLI serves its cached token until ~5 minutes before expiry).
        return self._quiet_until is None or now >= self._quiet_until

    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        with self._lock:
            current, now = self._token, self._now()
            if self._needs_fetch(current, force_refresh, now):
                fresh = self._fetch(force_refresh=force_refresh or current is not None)
                near = fresh.remaining(now) < REFRESH_MARGIN
                self._token, self._quiet_until = fresh, (now + REFRESH_RETRY if near else None)
                logger.debug("new access token from %s, expires %s", type(self).__name__, fresh.expires_on)
                return fresh
            assert current is not None  # _needs_fetch is True without a token
            return current

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        raise NotImplementedError


class StaticToken:
    """A token handed in from outside (tests, a pasted token). It cannot be refreshed."""

    def __init__(self, token: str, *, expires_on: datetime | None = None) -> None:
        if not token:
            raise AuthError("no token given")
        self._token = AccessToken.from_jwt(
            token, fallback_expires_on=expires_on or datetime.now(UTC) + timedelta(hours=1)
        )

    def get_token(self, *, force_refresh: bool = False) -> AccessToken:
        return self._token


class EmulatorToken(RefreshingProvider):
    """Tokens from the emulator's ``POST /_emulator/token`` (DESIGN.md §Contracts)."""

    def __init__(
        self,
        emulator_url: str,
        *,
        expires_in: int = 3600,
        http: httpx.Client | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(now=now)
        self._url = emulator_url.rstrip("/")
        for suffix in ("/api/data/v9.2", "/api/data/v9.1", "/api/data/v9.0"):
            self._url = self._url.removesuffix(suffix)
        self._expires_in = expires_in
        self._http = http

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        url = f"{self._url}/_emulator/token"
        try:
            if self._http is not None:
                response = self._http.post(url, json={"expires_in": self._expires_in})
            else:
                response = httpx.post(url, json={"expires_in": self._expires_in}, timeout=10.0)
        except httpx.HTTPError as exc:
            raise AuthError(f"could not get a token from the emulator at {self._url}: {exc}") from exc
        try:
            response.raise_for_status()
            payload = response.json()
            token, expires_in = payload["access_token"], float(payload.get("expires_in", self._expires_in))
        except (httpx.HTTPStatusError, ValueError, KeyError, TypeError) as exc:
            raise AuthError(f"the emulator at {self._url} did not hand out a token ({exc})") from exc
        return AccessToken.from_jwt(token, fallback_expires_on=self._now() + timedelta(seconds=expires_in))


class AzureCliToken(RefreshingProvider):
    """``az account get-access-token --resource … --tenant …`` (reference/000 "The Command"), no shell."""

    def __init__(
        self,
        resource: str,
        tenant_id: str | None = None,
        *,
        az_path: str | None = None,
        timeout: float = AZ_TIMEOUT_S,
        run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(now=now)
        self._resource = resource.rstrip("/")
        self._tenant = tenant_id
        self._az = az_path
        self._timeout = timeout
        self._run = run

    def _command(self) -> list[str]:
        az = self._az or shutil.which("az")
        if az is None:
            raise AuthError(
                "The Azure CLI ('az') is not installed or not on PATH. Install it and run 'az login', "
                "or choose another sign-in method (CALLNOTES_AUTH=device-code)."
            )
        command = [az, "account", "get-access-token", "--resource", self._resource, "--output", "json"]
        if self._tenant:
            command += ["--tenant", self._tenant]
        return command

    def _fetch(self, *, force_refresh: bool) -> AccessToken:
        command = self._command()
        try:
            done = self._run(command, capture_output=True, text=True, timeout=self._timeout, check=False)
        except FileNotFoundError as exc:
            raise AuthError("The Azure CLI ('az') could not be started; is it installed?") from exc
        except subprocess.TimeoutExpired as exc:
            raise AuthError(
                f"'az account get-access-token' did not answer within {self._timeout:.0f} s."
            ) from exc
        if done.returncode != 0:
            raise AuthError(_az_failure_message(done.stderr or "", self._tenant))
        return _parse_az_output(done.stdout)


def _az_failure_message(stderr: str, tenant: str | None) -> str:
    text = stderr.lower()
    login = f"az login --tenant {tenant}" if tenant else "az login"
    if "az login" in text or "not logged in" in text or "expired" in text or "aadsts" in text:
        return f"The Azure CLI is not signed in (or its sign-in expired). Run '{login}' and try again."
    first_line = next((line for line in stderr.splitlines() if line.strip()), "no error text")
    return f"The Azure CLI could not get a token: {first_line.strip()[:200]}"


def _parse_az_output(stdout: str) -> AccessToken:
    try:
        payload = json.loads(stdout)
        token = payload["accessToken"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError("The Azure CLI answered with something that is not a token.") from exc
    fallback = None
    if isinstance(payload.get("expires_on"), int | float | str) and str(payload["expires_on"]).isdigit():
        fallback = datetime.fromtimestamp(int(payload["expires_on"]), UTC)
    return AccessToken.from_jwt(token, fallback_expires_on=fallback)
