"""Identity endpoints that let the real MSAL library sign in to the emulator.

They imitate the Microsoft identity platform closely enough for MSAL Python:
- instance discovery ``GET /common/discovery/instance`` and OIDC discovery
  ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4);
- the device authorization endpoint ``POST /{tenant}/oauth2/v2.0/devicecode`` (RFC 8628 §3.1-3.2);
- the token endpoint ``POST /{tenant}/oauth2/v2.0/token`` for the ``device_code`` (RFC 8628 §3.4-3.5:
  ``authorization_pending`` until the user approves, ``expired_token`` after), ``refresh_token``
  (RFC 6749 §6) and ``client_credentials`` (RFC 6749 §4.4) grants;
- ``GET/POST /devicelogin``: the page where the "user" types the code and approves the sign-in (or
  declines it: ``decision=deny``, answered ``authorization_declined`` as Entra ID does);
- control endpoints for tests: ``POST /_emulator/identity`` (``token_lifetime``,
  ``device_code_lifetime`` in seconds, from the next token / code on) and
  ``POST /_emulator/identity/expire`` (``{"user_code"}``: that code expires now).

Access tokens are the emulator's own (minted by its ``TokenIssuer``) for the audience named by the
requested scope (``<resource>/.default`` → ``aud=<resource>``), as Entra ID does. The ID token and
``client_info`` only carry the account identity MSAL stores in its cache. All state lives in the
object behind the routes (one per app), never at module level.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import string
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callnotes.emulator.auth import DEFAULT_TENANT_ID, TokenIssuer
from callnotes.emulator.config import ConfigError
from callnotes.emulator.control import control_error, json_body_of

_OIDC_PATH = "v2.0/.well-known/openid-configuration"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CODE_ALPHABET = string.ascii_uppercase


@dataclass
class _DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    approved: bool = False
    denied: bool = False
    redeemed: bool = False


@dataclass
class IdentityProvider:
    """The state and behaviour behind the identity routes (device codes, refresh tokens)."""

    issuer: TokenIssuer
    tenant_id: str = DEFAULT_TENANT_ID
    token_lifetime: int = 3600
    device_code_lifetime: int = 900
    poll_interval: int = 1
    client_secrets: Mapping[str, str] | None = None
    _device_codes: dict[str, _DeviceCode] = field(default_factory=dict)
    _refresh_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- discovery -------------------------------------------------------------------------------
    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def instance_discovery(self, request: Request) -> Response:
        base, host = self._base(request), request.url.netloc
        endpoint = request.query_params.get("authorization_endpoint", "")
        tenant = endpoint.split(host, 1)[-1].strip("/").split("/")[0] if host in endpoint else self.tenant_id
        return JSONResponse(
            {
                "tenant_discovery_endpoint": f"{base}/{tenant or self.tenant_id}/{_OIDC_PATH}",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            }
        )

    def openid_configuration(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        root = f"{self._base(request)}/{tenant}"
        return JSONResponse(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "response_types_supported": ["code", "id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "grant_types_supported": [DEVICE_CODE_GRANT, "refresh_token", "client_credentials"],
                "tenant_region_scope": "EU",
            }
        )

    # -- device authorization --------------------------------------------------------------------
    async def device_code(self, request: Request) -> Response:
        form = await request.form()
        client_id, scope = str(form.get("client_id") or ""), str(form.get("scope") or "")
        if not client_id or _resource_of(scope) is None:
            return _oauth_error("invalid_request", "client_id and a '<resource>/.default' scope are required")
        user_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        device_code = secrets.token_urlsafe(32)
        with self._lock:
            self._device_codes[device_code] = _DeviceCode(
                client_id, scope, user_code, time.time() + self.device_code_lifetime
            )
        uri = f"{self._base(request)}/devicelogin"
        return JSONResponse(
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": self.device_code_lifetime,
                "interval": self.poll_interval,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
                f"{user_code} to authenticate.",
            }
        )

    async def device_login_page(self, request: Request) -> Response:
        return HTMLResponse(
            "<!doctype html><title>Emulator sign-in</title><form method=post action=/devicelogin>"
            "<label>Code <input name=user_code autofocus></label> <button id=approve>Sign in</button> "
            "<button name=decision value=deny id=deny>Decline</button></form>"
        )

    async def approve(self, request: Request) -> Response:
        """Approve the code typed in (or decline it with ``decision=deny``)."""
        form = await request.form()
        code = str(form.get("user_code") or "").strip().upper()
        deny = str(form.get("decision") or "") == "deny"
        with self._lock:
            match = self._code(code)
            if match is None or match.expires_at < time.time():
                return HTMLResponse("<p>That code is not valid or has expired.</p>", status_code=400)
            match.approved, match.denied = not deny, deny
        if deny:
            return HTMLResponse("<p>Sign-in declined. You can close this window.</p>")
        user = html.escape(self.issuer.identity.upn)
        return HTMLResponse(f"<p>Signed in as {user}. You can close this window.</p>")

    def _code(self, user_code: str) -> _DeviceCode | None:
        return next((d for d in self._device_codes.values() if d.user_code == user_code), None)

    # -- control (tests) -------------------------------------------------------------------------
    async def configure(self, request: Request) -> Response:
        """``{"token_lifetime": s, "device_code_lifetime": s}``: lifetimes of what is issued next."""
        try:
            body = await json_body_of(request, required=True)
            changes = {name: _seconds(body[name], name) for name in _LIFETIMES if name in body}
            if set(body) - set(_LIFETIMES):
                raise ConfigError(f"unknown setting(s): {', '.join(sorted(set(body) - set(_LIFETIMES)))}")
        except ConfigError as exc:
            return control_error(400, str(exc))
        for name, value in changes.items():
            setattr(self, name, value)
        return JSONResponse({name: getattr(self, name) for name in _LIFETIMES})

    async def expire(self, request: Request) -> Response:
        """``{"user_code"}``: that device code expires now (the next poll is told ``expired_token``)."""
        try:
            body = await json_body_of(request, required=True)
        except ConfigError as exc:
            return control_error(400, str(exc))
        with self._lock:
            match = self._code(str(body.get("user_code") or "").strip().upper())
            if match is None:
                return control_error(404, "no such user_code")
            match.expires_at = time.time() - 1
        return JSONResponse({"expired": match.user_code})

    # -- token endpoint --------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        grant = form.get("grant_type", "")
        if grant == DEVICE_CODE_GRANT:
            return self._device_code_grant(request, form)
        if grant == "refresh_token":
            return self._refresh_grant(request, form)
        if grant == "client_credentials":
            return self._client_credentials_grant(request, form)
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported here")

    def _device_code_grant(self, request: Request, form: Mapping[str, str]) -> Response:
        with self._lock:
            entry = self._device_codes.get(form.get("device_code", ""))
            if entry is None or entry.redeemed:
                return _oauth_error("invalid_grant", "unknown or already used device_code")
            if entry.expires_at < time.time():
                return _oauth_error("expired_token", "the device code expired; start again")
            if entry.denied:  # Entra ID's answer when the user declines (v2-oauth2-device-code)
                return _oauth_error("authorization_declined", "the user declined the sign-in")
            if not entry.approved:
                return _oauth_error("authorization_pending", "the user has not entered the code yet")
            entry.redeemed = True
        return self._issue(request, entry.client_id, form.get("scope") or entry.scope, user=True)

    def _refresh_grant(self, request: Request, form: Mapping[str, str]) -> Response:
        with self._lock:
            known = self._refresh_tokens.get(form.get("refresh_token", ""))
        if known is None or known[0] != form.get("client_id"):
            return _oauth_error("invalid_grant", "the refresh token is not valid; sign in again")
        return self._issue(request, known[0], form.get("scope") or known[1], user=True)

    def _client_credentials_grant(self, request: Request, form: Mapping[str, str]) -> Response:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = (self.client_secrets or {}).get(client_id) if self.client_secrets is not None else secret
        if not secret or not client_id or not secrets.compare_digest(secret, expected or ""):
            return _oauth_error("invalid_client", "the client id or secret is wrong", status=401)
        return self._issue(request, client_id, form.get("scope", ""), user=False)

    def _issue(self, request: Request, client_id: str, scope: str, *, user: bool) -> Response:
        resource = _resource_of(scope)
        if resource is None:
            return _oauth_error("invalid_scope", "the scope must be '<resource>/.default'")
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self.issuer.mint(resource, self.token_lifetime),
        }
        if user:
            refresh = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh_tokens[refresh] = (client_id, scope)
            body |= {
                "refresh_token": refresh,
                "id_token": self._id_token(request, client_id),
                "client_info": self._client_info(),
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _id_token(self, request: Request, client_id: str) -> str:
        identity, now = self.issuer.identity, int(time.time())
        claims = {
            "aud": client_id,
            "iss": f"{self._base(request)}/{self.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "name": identity.name,
            "preferred_username": identity.upn,
            "oid": identity.user_id,
            "sub": identity.user_id,
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        return jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")

    def _client_info(self) -> str:
        raw = json.dumps({"uid": self.issuer.identity.user_id, "utid": self.tenant_id}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/common/discovery/instance", self.instance_discovery, methods=["GET"]),
            Route(
                "/{tenant}/v2.0/.well-known/openid-configuration", self.openid_configuration, methods=["GET"]
            ),
            Route("/{tenant}/oauth2/v2.0/devicecode", self.device_code, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            Route("/devicelogin", self.device_login_page, methods=["GET"]),
            Route("/devicelogin", self.approve, methods=["POST"]),
            Route("/_emulator/identity", self.configure, methods=["POST"]),
            Route("/_emulator/identity/expire", self.expire, methods=["POST"]),
        ]


_LIFETIMES = ("token_lifetime", "device_code_lifetime")


def _seconds(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 86_400:
        raise ConfigError(f"{name} must be a whole number of seconds from 1 to 86400")
    return value


def _resource_of(scope: str) -> str | None:
    """``http://host:port/.default openid profile offline_access`` → ``http://host:port``."""
    for item in scope.split():
        if item.endswith("/.default") and "://" in item:
            return item.removesuffix("/.default").rstrip("/")
    return None


def _oauth_error(error: str, description: str, *, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def identity_routes(
    issuer: TokenIssuer,
    tenant_id: str = DEFAULT_TENANT_ID,
    *,
    token_lifetime: int = 3600,
    poll_interval: int = 1,
    client_secrets: Mapping[str, str] | None = None,
) -> list[BaseRoute]:
    """The MSAL-facing identity endpoints, backed by one new :class:`IdentityProvider`."""
    provider = IdentityProvider(
        issuer,
        tenant_id,
        token_lifetime=token_lifetime,
        poll_interval=poll_interval,
        client_secrets=client_secrets,
    )
    return provider.routes()
