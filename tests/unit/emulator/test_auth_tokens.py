"""The emulator's bearer tokens: claims, expiry, signature, audience.

Behaviour follows powerapps-docs/developer/data-platform/authenticate-oauth.md (bearer access
tokens with a limited lifetime) and RFC 6750 §3 (the 401 challenge).
"""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from callnotes.emulator.auth import (
    AuthFailure,
    DemoIdentity,
    InvalidTokenRequest,
    TokenIssuer,
    challenge,
    parse_expires_in,
)

AUD = "http://127.0.0.1:5555"
USER = DemoIdentity(user_id="11111111-2222-4333-8444-555555555555", name="Dana Demo", upn="dana@contoso.com")


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_minted_token_is_jwt_shaped_with_the_documented_claims() -> None:
    issuer = TokenIssuer(USER, clock=lambda: 1_000_000)
    token = issuer.mint(AUD, expires_in=600)
    claims = _claims(token)
    assert claims["oid"] == USER.user_id
    assert claims["name"] == "Dana Demo" and claims["upn"] == "dana@contoso.com"
    assert claims["aud"] == AUD and claims["tid"] == issuer.tenant_id
    assert claims["iat"] == 1_000_000 and claims["exp"] == 1_000_600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_verify_returns_claims_for_a_good_token() -> None:
    issuer = TokenIssuer(USER)
    assert issuer.verify(f"Bearer {issuer.mint(AUD)}", AUD)["oid"] == USER.user_id
    assert issuer.verify(f"bearer {issuer.mint(AUD + '/')}", AUD + "/")["oid"] == USER.user_id


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "no Authorization header"),
        ("", "no Authorization header"),
        ("Basic dXNlcjpwdw==", "Bearer scheme"),
        ("Bearer", "Bearer scheme"),
        ("Bearer not-a-jwt", "malformed"),
    ],
)
def test_missing_or_malformed_credentials_are_refused(header: str | None, reason: str) -> None:
    with pytest.raises(AuthFailure, match=reason):
        TokenIssuer(USER).verify(header, AUD)


def test_expired_token_is_refused() -> None:
    issuer = TokenIssuer(USER)
    with pytest.raises(AuthFailure, match="expired"):
        issuer.verify(f"Bearer {issuer.mint(AUD, expires_in=-5)}", AUD)


def test_token_from_another_instance_fails_the_signature_check() -> None:
    other = TokenIssuer(USER).mint(AUD)
    with pytest.raises(AuthFailure, match="signature"):
        TokenIssuer(USER).verify(f"Bearer {other}", AUD)


def test_token_for_another_audience_is_refused() -> None:
    issuer = TokenIssuer(USER)
    with pytest.raises(AuthFailure, match="not issued for"):
        issuer.verify(f"Bearer {issuer.mint('http://127.0.0.1:1')}", AUD)


def test_failure_message_never_echoes_the_token() -> None:
    with pytest.raises(AuthFailure) as caught:
        TokenIssuer(USER).verify("Bearer abc.def.ghi", AUD)
    assert "abc.def.ghi" not in str(caught.value)


def test_challenge_names_the_authority_and_resource() -> None:
    value = challenge("tenant-x", AUD)
    assert value.startswith(
        "Bearer authorization_uri=https://login.microsoftonline.com/tenant-x/oauth2/authorize"
    )
    assert f"resource_id={AUD}/" in value


@pytest.mark.parametrize("value", ["3600", 1.5, True, 10**9, -(10**9)])
def test_expires_in_must_be_a_bounded_integer(value: object) -> None:
    with pytest.raises(InvalidTokenRequest):
        parse_expires_in(value)


def test_expires_in_defaults_to_an_hour() -> None:
    assert parse_expires_in(None) == 3600
    assert parse_expires_in(-1) == -1
