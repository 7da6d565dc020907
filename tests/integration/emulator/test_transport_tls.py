"""HTTPS: ``EmulatorServer(…, tls=True)`` and ``callnotes emulator --tls``.

Dataverse serves only HTTPS and accepts a token only for the resource the client addresses
(powerapps-docs/developer/data-platform/authenticate-oauth.md: the token's audience is the
environment URL). The emulator's certificate is made at start for the loopback names; clients
trust it through the CA file it exposes.
"""

from __future__ import annotations

import re
import signal
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callnotes.emulator import EmulatorServer

CLI = [sys.executable, "-c", "from callnotes.cli import main; main()", "emulator"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tls_server_answers_over_https_to_a_client_that_trusts_its_ca(tls_emulator: EmulatorServer) -> None:
    assert tls_emulator.url.startswith("https://127.0.0.1:") and tls_emulator.ca_file is not None
    answer = httpx.get(
        f"{tls_emulator.api_url}/WhoAmI",
        headers=_bearer(tls_emulator.mint_token()),
        verify=tls_emulator.verify,
    )
    assert answer.status_code == 200 and answer.json()["UserId"] == tls_emulator.demo_user_id
    context = ssl.create_default_context(cafile=str(tls_emulator.ca_file))  # the file alone is enough
    assert httpx.get(f"{tls_emulator.url}/_emulator/stats", verify=context).status_code == 200


def test_a_client_that_does_not_trust_the_ca_is_refused_and_plain_http_gets_nothing(
    tls_emulator: EmulatorServer,
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_emulator.url}/_emulator/stats", verify=ssl.create_default_context())
    with pytest.raises(httpx.HTTPError):
        httpx.get(tls_emulator.url.replace("https://", "http://") + "/_emulator/stats", timeout=5)


def test_the_certificate_covers_localhost_and_the_token_audience_follows_the_url(
    tls_emulator: EmulatorServer,
) -> None:
    port = tls_emulator.url.rsplit(":", 1)[1]
    localhost = f"https://localhost:{port}"
    with httpx.Client(verify=tls_emulator.verify) as client:
        minted = client.post(f"{localhost}/_emulator/token").json()
        assert minted["resource"] == localhost
        ok = client.get(f"{localhost}/api/data/v9.2/WhoAmI", headers=_bearer(minted["access_token"]))
        assert ok.status_code == 200
        # A token for https://127.0.0.1:<port> is not one for https://localhost:<port>, and a token for
        # the http URL is not one for the https URL.
        other_host = client.get(
            f"{localhost}/api/data/v9.2/WhoAmI", headers=_bearer(tls_emulator.mint_token())
        )
        plain = tls_emulator.app.state.mint_token(tls_emulator.url.replace("https://", "http://"))
        other_scheme = client.get(f"{tls_emulator.api_url}/WhoAmI", headers=_bearer(plain))
    for refused in (other_host, other_scheme):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "0x8005F101"
        assert "was not issued for" in refused.json()["error"]["message"]
    assert f"resource_id={localhost}/" in other_host.headers["WWW-Authenticate"]


def test_key_is_private_and_the_files_go_when_the_server_stops() -> None:
    with EmulatorServer(tls=True) as server:
        assert server.ca_file is not None
        directory = server.ca_file.parent
        keys = list(directory.glob("*key*"))
        assert keys and all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert not directory.exists() and server.ca_file is None


def _read_banner(process: subprocess.Popen[str]) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(line.startswith("Try:") for line in lines):
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        lines.append(line.rstrip())
    return "\n".join(lines)


def test_cli_tls_prints_the_ca_file_and_serves_https_with_it() -> None:
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--accounts", "5", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        text = _read_banner(process)
        url = re.search(r"emulator on (https://127\.0\.0\.1:\d+)", text)
        ca = re.search(r"CA file +: (\S+)", text)
        assert url and ca, text
        assert f"REQUESTS_CA_BUNDLE={ca.group(1)}" in text and f"--cacert {ca.group(1)}" in text
        token = text.splitlines()[
            text.splitlines().index(next(x for x in text.splitlines() if x.startswith("Bearer"))) + 1
        ]
        context = ssl.create_default_context(cafile=ca.group(1))
        for _ in range(100):  # the banner comes just before uvicorn starts serving
            try:
                answer = httpx.get(
                    f"{url.group(1)}/api/data/v9.2/WhoAmI", headers=_bearer(token), verify=context
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert answer.status_code == 200 and answer.json()["UserId"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert not Path(ca.group(1)).exists()  # the certificate lives as long as the emulator
