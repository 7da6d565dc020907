"""Bearer tokens the emulator mints for its demo user, and their verification.

Tokens are JWT-shaped (HS256, signed with a secret that lives only in this emulator instance)
and carry the claims a Dataverse client reads from a real Entra ID token: name, upn, oid, tid,
aud (the emulator URL), iat, exp. A missing, malformed, badly signed, wrong-audience or
expired token is refused with 401 and a ``WWW-Authenticate: Bearer authorization_uri=…``
challenge, which is how Dataverse tells a client where to sign in
(powerapps-docs/developer/data-platform/authenticate-oauth.md; RFC 6750 §3).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

# The MSX tenant (DESIGN.md §msx/ constants); the emulator imports nothing else of callnotes.
DEFAULT_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
# Error code for 401 answers: AccessTokenExpired, "The requested resource requires
# authentication." (powerapps-docs/developer/data-platform/reference/web-service-error-codes.md).
CODE_UNAUTHORIZED = "0x8005F101"
MAX_EXPIRES_IN = 7 * 24 * 3600
_ALGORITHM = "HS256"


class AuthFailure(Exception):
    """The request's credentials were refused; ``str(exc)`` says why, without echoing the token."""


class InvalidTokenRequest(ValueError):
    """``POST /_emulator/token`` asked for something the emulator cannot mint."""


@dataclass(frozen=True)
class DemoIdentity:
    """The signed-in user the emulator issues tokens for."""

    user_id: str
    name: str
    upn: str


def parse_expires_in(value: object) -> int:
    """Seconds until expiry: an integer up to 7 days; zero or negative mints an expired token."""
    if value is None:
        return 3600
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTokenRequest(f"expires_in must be an integer number of seconds, got {value!r}")
    if not -MAX_EXPIRES_IN <= value <= MAX_EXPIRES_IN:
        raise InvalidTokenRequest(f"expires_in must be within ±{MAX_EXPIRES_IN} seconds, got {value}")
    return value


class TokenIssuer:
    """Mints and verifies the emulator's bearer tokens with a per-instance secret."""

    def __init__(
        self,
        identity: DemoIdentity,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.identity = identity
        self.tenant_id = tenant_id
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock

    def mint(self, audience: str, expires_in: int = 3600) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "aud": _normalise_audience(audience),
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now - 300 if expires_in > 0 else now + expires_in - 300,
            "exp": now + expires_in,
            "name": self.identity.name,
            "upn": self.identity.upn,
            "unique_name": self.identity.upn,
            "oid": self.identity.user_id,
            "tid": self.tenant_id,
            "scp": "user_impersonation",
            "ver": "1.0",
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, authorization: str | None, audience: str) -> Mapping[str, Any]:
        """Return the token's claims, or raise ``AuthFailure`` with a reason a person can act on."""
        if not authorization:
            raise AuthFailure("The request has no Authorization header; send 'Authorization: Bearer …'.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthFailure("The Authorization header must use the Bearer scheme with a token.")
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=_normalise_audience(audience),
                options={"require": ["exp", "iat", "aud", "oid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthFailure("The access token has expired; get a new token.") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthFailure(f"The access token was not issued for {audience}.") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthFailure("The access token signature is invalid.") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthFailure("The access token is malformed.") from exc


def challenge(tenant_id: str, resource: str) -> str:
    """The ``WWW-Authenticate`` value of a 401: where to sign in and for which resource."""
    authority = f"https://login.microsoftonline.com/{tenant_id}/oauth2/authorize"
    return f"Bearer authorization_uri={authority}, resource_id={_normalise_audience(resource)}/"


def _normalise_audience(url: str) -> str:
    return url.rstrip("/")
