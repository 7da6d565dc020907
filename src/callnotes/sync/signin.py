"""The app's MSX connection: the device-code sign-in started from the settings page or the JSON API,
and the connection's state for the header badge and ``GET /api/connection`` (DESIGN.md §Connection
contracts).

One `Connection` per app (``app.state.connection``) holds the sign-in in progress and the last check;
nothing lives at module level. The MSAL token cache is the file the CLI uses too
(`connection.token_cache_path`), so ``callnotes login`` / ``whoami`` and the app share one sign-in.
Checks are built from the connection settings as saved now (`config.live_settings`), so a change on
the settings page takes effect at the next check without a restart.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from callnotes.config import AuthMode, Settings, live_settings
from callnotes.dataverse import (
    AccessToken,
    AuthError,
    ClientSecretToken,
    DataverseClient,
    DataverseError,
    DeviceCodePrompt,
    DeviceCodeToken,
    EmulatorToken,
    NetworkBlocked,
    RetryPolicy,
    TokenProvider,
    TransportError,
)
from callnotes.dataverse.errors import SignInUnreachable
from callnotes.msx.accounts import who_am_i
from callnotes.msx.errors import MsxError, VpnDown
from callnotes.sync.connection import api_url, auth_mode, device_code_provider, org_url, token_cache_path
from callnotes.sync.connection import token_provider as build_provider

_log = logging.getLogger(__name__)
#: How long a check of the connection is reused (the header asks every few seconds).
CHECK_TTL = timedelta(seconds=60)
#: MSX unreachable: look again sooner, so the banner goes soon after the VPN is back.
UNREACHABLE_TTL = timedelta(seconds=5)
#: A check never waits long for an unreachable CRM (VPN down): one attempt, a short timeout.
_PROBE_TIMEOUT_S = 10.0


class ConnectionState(StrEnum):
    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    SIGNING_IN = "signing_in"
    UNREACHABLE = "unreachable"
    DEMO = "demo"


class SignInOutcome(StrEnum):
    PENDING = "pending"
    SIGNED_IN = "signed_in"
    EXPIRED = "expired"
    DENIED = "denied"
    CANCELLED = "cancelled"
    FAILED = "failed"


_DENIED_CODES = frozenset({"authorization_declined", "access_denied"})


@dataclass(frozen=True)
class ConnectionReport:
    """What the badge, the settings page and ``GET /api/connection`` show."""

    state: ConnectionState
    auth: str
    crm_url: str | None
    user: str | None = None
    upn: str | None = None
    expires_on: datetime | None = None
    last_ok: datetime | None = None
    error: str | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reached: bool = False

    def as_json(self) -> dict[str, Any]:
        """The contract's shape, exactly."""
        return {"state": self.state.value, "auth": self.auth, "user": self.user, "upn": self.upn,
                "expires_on": _iso(self.expires_on), "crm_url": self.crm_url, "last_ok": _iso(self.last_ok)}


@dataclass
class SignIn:
    """One device-code sign-in: the code shown to the user and how it ended."""

    provider: DeviceCodeToken
    prompt: DeviceCodePrompt
    outcome: SignInOutcome = SignInOutcome.PENDING
    message: str | None = None
    cancelled: bool = False

    def settle(self) -> None:
        """Record how the background polling ended, once it has."""
        if self.outcome is not SignInOutcome.PENDING or not self.provider.finished:
            return
        code, failure = self.provider.outcome
        self.outcome, self.message = _outcome_of(code, failure, cancelled=self.cancelled)
        self.provider.close()  # done with the authority: checks use a provider of their own


def _outcome_of(code: str | None, failure: str | None, *,
                cancelled: bool) -> tuple[SignInOutcome, str | None]:
    if cancelled:
        return SignInOutcome.CANCELLED, "Sign-in cancelled. Start again when you are ready."
    if failure is None:
        return SignInOutcome.SIGNED_IN, None
    if code in ("expired_token", "authorization_pending"):
        return SignInOutcome.EXPIRED, ("The sign-in code expired before it was approved. "
                                       "Choose “Sign in” to get a new code.")
    if code in _DENIED_CODES:
        return SignInOutcome.DENIED, ("The sign-in was declined on the verification page. Choose "
                                      "“Sign in” to try again, and approve it with your Microsoft account.")
    return SignInOutcome.FAILED, f"{failure}. Choose “Sign in” to try again."


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class Connection:
    """The app's sign-in in progress and its last connection check (thread-safe)."""

    def __init__(self, *, check_ttl: timedelta = CHECK_TTL) -> None:
        self._lock = threading.RLock()
        self._ttl = check_ttl
        self._sign_in: SignIn | None = None
        self._last: ConnectionReport | None = None
        self._last_key: tuple[object, ...] | None = None
        self._last_ok: datetime | None = None
        self._provider: TokenProvider | None = None
        self._provider_key: tuple[object, ...] | None = None

    # -- device code -------------------------------------------------------------------------------
    def start_device_code(self, settings: Settings) -> DeviceCodePrompt:
        """A new device code (the previous sign-in, if any, is cancelled); MSAL polls in the
        background. `MsxError` when the sign-in method is not device code."""
        provider = device_code_provider(settings)
        self.cancel()
        prompt = provider.start()
        with self._lock:
            self._sign_in = SignIn(provider, prompt)
            self._forget()
        _log.info("device code sign-in started (code valid until %s)", prompt.expires_at)
        return prompt

    def sign_in(self) -> SignIn | None:
        """The current (or last) device-code sign-in, its outcome brought up to date."""
        with self._lock:
            sign_in = self._sign_in
            if sign_in is not None:
                before = sign_in.outcome
                sign_in.settle()
                if before is SignInOutcome.PENDING and sign_in.outcome is not SignInOutcome.PENDING:
                    _log.info("device code sign-in ended: %s", sign_in.outcome.value)
                    self._forget()
            return sign_in

    def cancel(self) -> None:
        """Stop polling for the code in progress (MSAL stops at its next poll)."""
        with self._lock:
            sign_in = self._sign_in
            if sign_in is not None and sign_in.outcome is SignInOutcome.PENDING:
                sign_in.cancelled = True
                sign_in.provider.cancel()

    def disconnect(self, settings: Settings) -> None:
        """Sign out: the sign-in stops, the MSAL token cache is removed from disk and memory."""
        self.cancel()
        with self._lock:
            self._sign_in = None
            if isinstance(self._provider, DeviceCodeToken):
                self._provider.clear()
            self._drop_provider()
            self._last_ok = None
            self._forget()
        token_cache_path(settings).unlink(missing_ok=True)

    def forget(self) -> None:
        """The settings changed: the next check starts afresh (new provider, new check)."""
        with self._lock:
            self._drop_provider()
            self._forget()

    def close(self) -> None:
        """The app stops: the sign-in in progress stops, connections to the sign-in service close."""
        self.cancel()
        with self._lock:
            if self._sign_in is not None:
                _close(self._sign_in.provider)
            self._drop_provider()

    def _drop_provider(self) -> None:
        _close(self._provider)
        self._provider = self._provider_key = None

    def _forget(self) -> None:
        self._last = self._last_key = None

    # -- state ---------------------------------------------------------------------------------------
    def report(self, settings: Settings, *, reach: bool = True, fresh: bool = False) -> ConnectionReport:
        """The connection now: signing in, demo, signed out, unreachable or signed in. ``reach``
        also asks MSX who am I (VPN check); a check is reused for `CHECK_TTL` unless ``fresh``."""
        live = live_settings(settings)
        sign_in = self.sign_in()
        if sign_in is not None and sign_in.outcome is SignInOutcome.PENDING:
            return ConnectionReport(ConnectionState.SIGNING_IN, auth_mode(live).value, live.crm_url,
                                    last_ok=self._last_ok)
        key = self._key(live)
        with self._lock:
            last = self._last
            if last is not None and not fresh and self._last_key == key and self._still_good(last, reach):
                return last
            report = self._check(live, key, reach=reach)
            self._last, self._last_key = report, key
            return report

    def _still_good(self, last: ConnectionReport, reach: bool) -> bool:
        ttl = UNREACHABLE_TTL if last.state is ConnectionState.UNREACHABLE else self._ttl
        return (last.reached or not reach) and datetime.now(UTC) - last.checked_at < min(ttl, self._ttl)

    def _key(self, live: Settings) -> tuple[object, ...]:
        """What a check depends on: the connection settings and the token cache file's version."""
        try:
            cache_version: object = token_cache_path(live).stat().st_mtime_ns
        except OSError:
            cache_version = None
        return (live.crm_url, auth_mode(live), live.tenant_id, live.client_id, live.authority_host,
                api_url(live), cache_version)

    def _check(self, live: Settings, key: tuple[object, ...], *, reach: bool) -> ConnectionReport:
        mode = auth_mode(live)
        if not live.crm_url:
            return self._demo(live)
        base = ConnectionReport(ConnectionState.SIGNED_OUT, mode.value, live.crm_url, last_ok=self._last_ok)
        if mode is AuthMode.DEVICE_CODE and not token_cache_path(live).exists():
            return replace(base, error="Not signed in: choose “Sign in” to get a device code.", reached=reach)
        try:
            provider = self._provider_for(live, key)
            token = provider.get_token()
        except SignInUnreachable as exc:
            return replace(base, state=ConnectionState.UNREACHABLE, error=str(exc), reached=reach)
        except (AuthError, MsxError) as exc:
            return replace(base, error=str(exc), reached=reach)
        signed_in = replace(base, state=ConnectionState.SIGNED_IN, **_who(token))
        if not reach:
            return signed_in
        return self._reach(signed_in, live.crm_url, provider)

    def _reach(self, report: ConnectionReport, url: str, provider: TokenProvider) -> ConnectionReport:
        """WhoAmI against the CRM: the VPN / network check."""
        try:
            with DataverseClient(url, provider, timeout=_PROBE_TIMEOUT_S,
                                 retry=RetryPolicy(max_attempts=1)) as client:
                who_am_i(client)
        except SignInUnreachable as exc:
            return replace(report, state=ConnectionState.UNREACHABLE, error=str(exc), reached=True)
        except AuthError as exc:
            return replace(report, state=ConnectionState.SIGNED_OUT, error=str(exc), reached=True)
        except (VpnDown, NetworkBlocked, TransportError) as exc:
            message = str(VpnDown()) if isinstance(exc, (VpnDown, NetworkBlocked)) else (
                f"MSX cannot be reached (is the VPN or the network down?): {exc}")
            return replace(report, state=ConnectionState.UNREACHABLE, error=message, reached=True)
        except (DataverseError, MsxError) as exc:
            return replace(report, state=ConnectionState.UNREACHABLE, error=str(exc), reached=True)
        self._last_ok = datetime.now(UTC)
        return replace(report, last_ok=self._last_ok, reached=True)

    def _demo(self, live: Settings) -> ConnectionReport:
        """Demo mode: the embedded emulator's user, when it runs (its token endpoint, no Web API call)."""
        demo_url = api_url(live)
        report = ConnectionReport(ConnectionState.DEMO, AuthMode.EMULATOR.value, demo_url, reached=True)
        if demo_url is None:
            return report
        try:
            token = EmulatorToken(org_url(demo_url)).get_token()
        except AuthError as exc:
            return replace(report, error=str(exc))
        return replace(report, **_who(token))

    def _provider_for(self, live: Settings, key: tuple[object, ...]) -> TokenProvider:
        if self._provider is None or self._provider_key != key:
            self._drop_provider()
            self._provider, self._provider_key = build_provider(live), key
        return self._provider


def _close(provider: TokenProvider | None) -> None:
    """Close an MSAL-based provider's connections (the others hold none)."""
    if isinstance(provider, (DeviceCodeToken, ClientSecretToken)):
        provider.close()


def _who(token: AccessToken) -> dict[str, Any]:
    claims = token.claims
    upn = next((str(claims[k]) for k in ("upn", "preferred_username", "unique_name") if claims.get(k)), None)
    return {"user": str(claims["name"]) if claims.get("name") else upn, "upn": upn,
            "expires_on": token.expires_on}
