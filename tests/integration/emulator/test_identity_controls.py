"""The emulator's identity controls (``POST /_emulator/identity``, ``/_emulator/identity/expire``) and
declining a device code at ``/devicelogin``, over plain HTTP as RFC 8628 clients other than MSAL see it."""

from __future__ import annotations

import httpx

from callnotes.emulator import EmulatorServer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _flow(base: str) -> dict[str, str]:
    scope = f"{base}/.default offline_access"
    answer = httpx.post(f"{base}/{TENANT}/oauth2/v2.0/devicecode", data={"client_id": "c", "scope": scope})
    return answer.json()


def _poll(base: str, flow: dict[str, str]) -> dict[str, str]:
    grant = {"grant_type": GRANT, "client_id": "c", "device_code": flow["device_code"]}
    return httpx.post(f"{base}/{TENANT}/oauth2/v2.0/token", data=grant).json()


def test_declined_expired_and_lifetimes(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.url
    declined = _flow(base)
    answer = httpx.post(f"{base}/devicelogin", data={"user_code": declined["user_code"], "decision": "deny"})
    assert answer.status_code == 200 and "declined" in answer.text
    assert _poll(base, declined)["error"] == "authorization_declined"

    expired = _flow(base)
    expire = {"user_code": expired["user_code"]}
    assert httpx.post(f"{base}/_emulator/identity/expire", json=expire).status_code == 200
    assert _poll(base, expired)["error"] == "expired_token"
    assert httpx.post(f"{base}/devicelogin", data={"user_code": expired["user_code"]}).status_code == 400

    lifetimes = {"token_lifetime": 420, "device_code_lifetime": 60}
    changed = httpx.post(f"{base}/_emulator/identity", json=lifetimes)
    assert changed.json() == {"token_lifetime": 420, "device_code_lifetime": 60}
    flow = _flow(base)
    assert int(flow["expires_in"]) == 60
    httpx.post(f"{base}/devicelogin", data={"user_code": flow["user_code"]})
    assert _poll(base, flow)["expires_in"] == 420


def test_identity_controls_refuse_bad_input(fresh_emulator: EmulatorServer) -> None:
    base = fresh_emulator.url
    for body in ({"token_lifetime": 0}, {"token_lifetime": "60"}, {"token_lifetime": True}, {"other": 1}):
        refused = httpx.post(f"{base}/_emulator/identity", json=body)
        assert refused.status_code == 400 and refused.json()["error"]["message"]
    assert httpx.post(f"{base}/_emulator/identity", content=b"x=1",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
    assert httpx.post(f"{base}/_emulator/identity", json={"token_lifetime": 5},
                      headers={"Origin": "https://evil.example"}).status_code == 400
    assert httpx.post(f"{base}/_emulator/identity/expire", json={"user_code": "NOSUCHCD"}).status_code == 404
