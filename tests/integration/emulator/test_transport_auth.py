"""Bearer-token authentication over real HTTP.

Dataverse accepts OAuth bearer access tokens and answers a missing or invalid one with 401 and a
``WWW-Authenticate: Bearer authorization_uri=…`` challenge that tells the client where to sign in
(powerapps-docs/developer/data-platform/authenticate-oauth.md; RFC 6750 §3). The body keeps the
Dataverse error shape (powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md).
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from callnotes.emulator import EmulatorServer


def _assert_challenge(response: httpx.Response) -> None:
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer authorization_uri=https://login.microsoftonline.com/")
    error = response.json()["error"]
    assert error["code"] == "0x8005F101" and error["message"]


def test_valid_token_is_accepted(emulator: EmulatorServer) -> None:
    response = httpx.get(
        f"{emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {emulator.mint_token()}"}
    )
    assert response.status_code == 200
    assert response.json()["UserId"] == emulator.demo_user_id


def test_missing_token_gets_401_with_challenge(emulator: EmulatorServer) -> None:
    _assert_challenge(httpx.get(f"{emulator.api_url}/WhoAmI"))


@pytest.mark.parametrize("header", ["Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer"])
def test_malformed_token_gets_401(emulator: EmulatorServer, header: str) -> None:
    _assert_challenge(httpx.get(f"{emulator.api_url}/accounts", headers={"Authorization": header}))


def test_badly_signed_token_gets_401(emulator: EmulatorServer) -> None:
    header, payload, _signature = emulator.mint_token().split(".")
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 32).decode().rstrip('=')}"
    response = httpx.get(f"{emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {forged}"})
    _assert_challenge(response)
    assert "signature" in response.json()["error"]["message"]


def test_expired_token_gets_401(emulator: EmulatorServer) -> None:
    minted = httpx.post(f"{emulator.url}/_emulator/token", json={"expires_in": -30}).json()
    response = httpx.get(
        f"{emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {minted['access_token']}"}
    )
    _assert_challenge(response)
    assert "expired" in response.json()["error"]["message"]


def test_token_for_another_url_gets_401(emulator: EmulatorServer) -> None:
    other_port = "1" if not emulator.url.endswith(":1") else "2"
    stranger = emulator.app.state.mint_token(f"http://127.0.0.1:{other_port}")
    _assert_challenge(
        httpx.get(f"{emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {stranger}"})
    )


def test_token_endpoint_mints_a_jwt_with_the_demo_user_claims(emulator: EmulatorServer) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/token", json={"expires_in": 120})
    assert response.status_code == 200
    minted = response.json()
    assert minted["token_type"] == "Bearer" and minted["expires_in"] == 120
    payload = minted["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["oid"] == emulator.demo_user_id
    assert claims["aud"] == emulator.url
    assert claims["exp"] - claims["iat"] == 120
    assert claims["name"] and claims["upn"] and claims["tid"]


def test_token_endpoint_without_body_defaults_to_an_hour(emulator: EmulatorServer) -> None:
    minted = httpx.post(f"{emulator.url}/_emulator/token").json()
    assert minted["expires_in"] == 3600
    response = httpx.get(
        f"{emulator.api_url}/WhoAmI", headers={"Authorization": f"Bearer {minted['access_token']}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"expires_in": "soon"}, {"expires_in": 10**9}, {"lifetime": 5}, [1]])
def test_token_endpoint_refuses_bad_requests(emulator: EmulatorServer, body: object) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/token", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_control_endpoints_need_no_token(emulator: EmulatorServer) -> None:
    assert httpx.get(f"{emulator.url}/_emulator/stats").status_code == 200
    assert httpx.get(f"{emulator.url}/_emulator/requests").status_code == 200
