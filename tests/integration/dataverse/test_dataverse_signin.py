"""Sign-in end to end through the real MSAL library against the emulator's identity endpoints.

MSAL Python only accepts an ``https`` authority (``msal.authority.canonicalize`` refuses any other
scheme), so the identity routes (``callnotes.emulator.identity``) are served here over TLS on loopback
with the emulator's throw-away certificate (``callnotes.emulator.tls``) whose CA MSAL is told to trust
(``verify=<ca file>``). Everything
else is the production path: instance discovery, OIDC discovery, device code, polling in a background
thread, the token cache file (0600), silent refresh with the refresh token, sign-out; and the
client-credentials grant. The tokens are the emulator's own, so the Web API accepts them.
"""

from __future__ import annotations

import os
import ssl
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from callnotes.dataverse import AuthError, ClientSecretToken, DataverseClient, DeviceCodeToken
from callnotes.dataverse.msal_auth import DeviceCodePrompt
from callnotes.emulator.identity import identity_routes
from callnotes.emulator.tls import make_tls_files
from tests.integration.dataverse.dv_helpers import FakeClock, fast_policy, serve

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture()
def identity_server(fresh_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """The emulator's identity routes over https, issuing tokens from the emulator's own issuer."""
    # requests lets these variables override a Session's own ``verify`` (MSAL sets that one)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    tls = make_tls_files()  # the emulator's own HTTPS certificate (callnotes.emulator.tls)
    routes = identity_routes(
        fresh_emulator.app.state.issuer, TENANT, client_secrets={"svc-app": "s3cret"}, poll_interval=1
    )
    files = {"ssl_certfile": str(tls.cert_file), "ssl_keyfile": str(tls.key_file)}
    try:
        with serve(Starlette(routes=routes), **files) as url:
            yield url, tls.ca_file
    finally:
        tls.remove()


def _approve_with(cert: Path) -> Any:
    def approve(prompt: DeviceCodePrompt) -> None:
        answer = httpx.post(
            prompt.verification_uri,
            data={"user_code": prompt.user_code},
            verify=ssl.create_default_context(cafile=str(cert)),
        )
        assert answer.status_code == 200 and "Signed in" in answer.text

    return approve


def test_device_code_sign_in_through_msal_then_silent_refresh_and_sign_out(
    fresh_emulator: Any, identity_server: tuple[str, Path], tmp_path: Path
) -> None:
    idp, cert = identity_server
    cache = tmp_path / "cache" / "msal.json"

    def provider() -> DeviceCodeToken:
        return DeviceCodeToken(
            "cn-test-app",
            TENANT,
            fresh_emulator.url,
            cache,
            authority=f"{idp}/{TENANT}",
            msal_options={"verify": str(cert)},
        )

    first = provider()
    with pytest.raises(AuthError, match="Not signed in"):
        first.get_token()
    prompts: list[DeviceCodePrompt] = []
    prompt = first.start(on_code=lambda p: (prompts.append(p), _approve_with(cert)(p)))
    assert prompt.user_code.isalpha() and len(prompt.user_code) == 8 and prompts == [prompt]
    assert prompt.verification_uri == f"{idp}/devicelogin" and prompt.user_code in prompt.message
    token = first.wait(timeout=30)
    assert token.claims["oid"] == fresh_emulator.demo_user_id and token.display_name
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600

    with DataverseClient(fresh_emulator.api_url, first, retry=fast_policy(FakeClock())) as client:
        assert client.whoami()["UserId"] == fresh_emulator.demo_user_id

    again = provider()  # a restart: the cache file alone signs us in
    assert again.signed_in
    time.sleep(1.1)  # tokens minted in another second differ (iat / exp)
    refreshed = again.get_token(force_refresh=True)  # refresh-token grant through MSAL
    assert refreshed.token != token.token and refreshed.claims["oid"] == fresh_emulator.demo_user_id

    again.clear()
    assert not cache.exists()
    with pytest.raises(AuthError, match="Not signed in"):
        provider().get_token()


def test_device_code_not_approved_reports_a_clear_error(
    identity_server: tuple[str, Path], tmp_path: Path
) -> None:
    idp, cert = identity_server
    provider = DeviceCodeToken(
        "cn-test-app",
        TENANT,
        "http://127.0.0.1:1",
        tmp_path / "c.json",
        authority=f"{idp}/{TENANT}",
        msal_options={"verify": str(cert)},
    )
    provider.start()
    with pytest.raises(AuthError, match="not finished"):
        provider.wait(timeout=0.2)
    provider.cancel()
    with pytest.raises(AuthError, match="has not entered the code"):
        provider.wait(timeout=10)


def test_client_secret_through_msal(fresh_emulator: Any, identity_server: tuple[str, Path]) -> None:
    idp, cert = identity_server
    options = {"verify": str(cert)}
    good = ClientSecretToken(
        TENANT, "svc-app", "s3cret", fresh_emulator.url, authority=f"{idp}/{TENANT}", msal_options=options
    )
    with DataverseClient(fresh_emulator.api_url, good, retry=fast_policy(FakeClock())) as client:
        assert client.whoami()["UserId"] == fresh_emulator.demo_user_id
    bad = ClientSecretToken(
        TENANT, "svc-app", "wrong", fresh_emulator.url, authority=f"{idp}/{TENANT}", msal_options=options
    )
    with pytest.raises(AuthError, match="client id or secret is wrong"):
        bad.get_token()


def test_msal_refuses_a_plain_http_authority(fresh_emulator: Any, tmp_path: Path) -> None:
    provider = DeviceCodeToken(
        "cn-test-app",
        TENANT,
        fresh_emulator.url,
        tmp_path / "c.json",
        authority=f"{fresh_emulator.url}/{TENANT}",
        msal_options={"instance_discovery": False, "validate_authority": False},
    )
    with pytest.raises(AuthError, match="not usable"):
        provider.start()


def test_identity_endpoints_are_mounted_in_the_emulator(fresh_emulator: Any) -> None:
    """Over plain HTTP the same endpoints answer (for tools other than MSAL), per RFC 8628."""
    base = fresh_emulator.url
    config = httpx.get(f"{base}/{TENANT}/v2.0/.well-known/openid-configuration").json()
    assert config["device_authorization_endpoint"] == f"{base}/{TENANT}/oauth2/v2.0/devicecode"
    scope = f"{base}/.default offline_access"
    flow = httpx.post(config["device_authorization_endpoint"], data={"client_id": "c", "scope": scope}).json()
    grant = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": "c",
        "device_code": flow["device_code"],
    }
    pending = httpx.post(config["token_endpoint"], data=grant)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    assert httpx.post(flow["verification_uri"], data={"user_code": "WRONGONE"}).status_code == 400
    assert httpx.post(flow["verification_uri"], data={"user_code": flow["user_code"]}).status_code == 200
    issued = httpx.post(config["token_endpoint"], data=grant).json()
    assert httpx.post(config["token_endpoint"], data=grant).json()["error"] == "invalid_grant"  # used once
    answer = httpx.get(
        f"{fresh_emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {issued['access_token']}"}
    )
    assert answer.status_code == 200
    refresh = {
        "grant_type": "refresh_token",
        "client_id": "c",
        "refresh_token": issued["refresh_token"],
        "scope": scope,
    }
    assert "access_token" in httpx.post(config["token_endpoint"], data=refresh).json()
    wrong = httpx.post(config["token_endpoint"], data={**refresh, "refresh_token": "nope"})
    assert wrong.json()["error"] == "invalid_grant"
    odd = httpx.post(config["token_endpoint"], data={"grant_type": "password"})
    assert odd.json()["error"] == "unsupported_grant_type"
