"""Signing in to MSX from the app (issue 10): the real MSAL library against the emulator's identity
endpoints over HTTPS (``CALLNOTES_AUTHORITY_HOST`` = the emulator), the app under real uvicorn, the
device code approved at the emulator's ``/devicelogin`` as a user would. The JSON shapes are the
contracts of DESIGN.md §Connection contracts."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from callnotes.config import PREFERENCES_FILE, Settings
from callnotes.emulator import EmulatorServer
from callnotes.sync.connection import TOKEN_CACHE_FILE
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.fixtures.signin import (
    TENANT,
    approve,
    connection_form,
    files_holding,
    identity_control,
    trust_emulator,
)

CONNECTION_KEYS = {"state", "auth", "user", "upn", "expires_on", "crm_url", "last_ok"}
DEVICE_CODE_KEYS = {"user_code", "verification_uri", "expires_in", "message"}
HTMX = {"HX-Request": "true"}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture()
def app_at(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls_emulator: EmulatorServer
           ) -> Callable[[], AbstractContextManager[str]]:
    """Start the app (again) on one data dir; sign-in goes to the emulator (CALLNOTES_AUTHORITY_HOST)."""
    trust_emulator(monkeypatch, tls_emulator)
    monkeypatch.setenv("CALLNOTES_AUTHORITY_HOST", tls_emulator.url)
    monkeypatch.setenv("CALLNOTES_DATA_DIR", str(data_dir))
    for name in ("CRM_URL", "AUTH", "TENANT_ID", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"CALLNOTES_{name}", raising=False)

    def start() -> AbstractContextManager[str]:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}")
        return running_server(create_app(settings))

    return start


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _token(http: httpx.Client, base: str) -> dict[str, str]:
    return {"X-CSRF-Token": http.get(f"{base}/api/csrf").json()["csrf_token"]}


def _save(http: httpx.Client, base: str, form: dict[str, str]) -> httpx.Response:
    return http.post(f"{base}/settings/connection", data=form, headers={**_token(http, base), **HTMX})


def _wait_for(http: httpx.Client, base: str, until: Callable[[dict[str, Any]], bool],
              timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = http.get(f"{base}/api/connection").json()
        if until(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def _cli(args: list[str], data_dir: Path, emulator: EmulatorServer) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env.update({"CALLNOTES_DATA_DIR": str(data_dir), "CALLNOTES_AUTHORITY_HOST": emulator.url})
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_device_code_from_the_api_signs_in_survives_a_restart_is_shared_with_the_cli_and_signs_out(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
    data_dir: Path,
) -> None:
    identity = tls_emulator.app.state.issuer.identity
    cache = data_dir / TOKEN_CACHE_FILE
    with app_at() as base:
        assert _save(http, base, connection_form(tls_emulator)).status_code == 200
        before = http.get(f"{base}/api/connection").json()
        assert set(before) == CONNECTION_KEYS and before["state"] == "signed_out"
        assert before["auth"] == "device-code" and before["crm_url"] == tls_emulator.url
        assert http.post(f"{base}/api/connection/device-code").status_code == 403  # CSRF
        started = http.post(f"{base}/api/connection/device-code", headers=_token(http, base))
        assert started.status_code == 200, started.text
        code = started.json()
        assert set(code) == DEVICE_CODE_KEYS
        assert code["verification_uri"] == f"{tls_emulator.url}/devicelogin"
        assert 800 < code["expires_in"] <= 900
        assert code["user_code"] in code["message"]
        assert http.get(f"{base}/api/connection").json()["state"] == "signing_in"
        assert "Signed in as" in approve(tls_emulator, code["user_code"])
        state = _wait_for(http, base, lambda s: s["state"] != "signing_in")
        assert state["state"] == "signed_in", state
        assert (state["user"], state["upn"]) == (identity.name, identity.upn)
        assert state["expires_on"].endswith("Z") and state["last_ok"]
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    with app_at() as base:  # a restart: the token cache alone signs the app in
        assert http.get(f"{base}/api/connection").json()["state"] == "signed_in"
        done = _cli(["whoami"], data_dir, tls_emulator)  # the CLI reads the same cache
        assert done.returncode == 0, done.stderr
        assert identity.user_id in done.stdout and "token valid until" in done.stdout
        assert http.delete(f"{base}/api/connection").status_code == 403  # CSRF
        out = http.delete(f"{base}/api/connection", headers=_token(http, base))
        assert out.status_code == 200 and set(out.json()) == CONNECTION_KEYS
        assert out.json()["state"] == "signed_out"
        assert not cache.exists() and not files_holding(data_dir, "RefreshToken")
        assert http.get(f"{base}/api/connection").json()["state"] == "signed_out"
    assert "Not signed in" in _cli(["whoami"], data_dir, tls_emulator).stderr


def _panel(http: httpx.Client, base: str) -> str:
    return http.get(f"{base}/connection/panel").text


def _code_in(panel: str) -> str:
    return panel.split('id="device-code-value">', 1)[1].split("<", 1)[0]


def _wait_panel(http: httpx.Client, base: str, until: Callable[[str], bool], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while not until(panel := _panel(http, base)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return panel


def test_device_code_from_the_page_shows_the_code_then_updates_itself_and_the_badge(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
) -> None:
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator))
        assert "connection-sign-in" in _panel(http, base)
        assert http.post(f"{base}/connection/sign-in", headers=HTMX).status_code == 403  # CSRF
        shown = http.post(f"{base}/connection/sign-in", headers={**_token(http, base), **HTMX})
        assert shown.status_code == 200 and f'href="{tls_emulator.url}/devicelogin"' in shown.text
        assert 'hx-trigger="every 2s"' in shown.text  # the panel polls while the code waits
        assert 'data-state="signing_in"' in http.get(f"{base}/outbox/status").text
        approve(tls_emulator, _code_in(shown.text))
        panel = _wait_panel(http, base, lambda p: "Signing in" not in p)
        assert "Signed in" in panel and "every 2s" not in panel and "connection-disconnect" in panel
        badge = http.get(f"{base}/outbox/status").text
        assert 'data-state="signed_in"' in badge
        assert tls_emulator.app.state.issuer.identity.name in badge and "token valid until" in badge
        gone = http.post(f"{base}/connection/disconnect", headers={**_token(http, base), **HTMX})
        assert "Signed out" in gone.text


def test_a_cancelled_sign_in_stops_polling_and_says_so(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
) -> None:
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator))
        http.post(f"{base}/connection/sign-in", headers={**_token(http, base), **HTMX})
        http.post(f"{base}/connection/cancel", headers={**_token(http, base), **HTMX})
        panel = _wait_panel(http, base, lambda p: "cancelled" in p)
        assert "Sign-in cancelled" in panel and "Traceback" not in panel
        assert http.get(f"{base}/api/connection").json()["state"] == "signed_out"


@pytest.mark.parametrize("ending", ["expired", "declined", "lifetime"])
def test_expired_and_declined_codes_give_a_sentence(
    ending: str, app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client,
    tls_emulator: EmulatorServer,
) -> None:
    if ending == "lifetime":  # the code's own lifetime runs out while the app polls
        identity_control(tls_emulator, "", {"device_code_lifetime": 2})
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator))
        code = http.post(f"{base}/api/connection/device-code", headers=_token(http, base)).json()
        if ending == "expired":
            identity_control(tls_emulator, "/expire", {"user_code": code["user_code"]})
        elif ending == "declined":
            assert "declined" in approve(tls_emulator, code["user_code"], deny=True)
        state = _wait_for(http, base, lambda s: s["state"] != "signing_in")
        assert state["state"] == "signed_out"
        panel = _panel(http, base)
        sentence = "was declined" if ending == "declined" else "expired before it was approved"
        assert sentence in panel and "Traceback" not in panel and "AADSTS" not in panel
        assert "connection-sign-in" in panel  # and the user can start again


def test_device_code_in_another_sign_in_method_is_refused_with_a_sentence(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
) -> None:
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator, auth="azcli", client_id=""))
        refused = http.post(f"{base}/api/connection/device-code", headers=_token(http, base))
        assert refused.status_code == 409 and "az login" in refused.json()["detail"][0]["msg"]


def test_an_unreachable_sign_in_service_is_a_sentence_not_a_crash(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("CALLNOTES_AUTHORITY_HOST", f"https://127.0.0.1:{closed}")
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator))
        answer = http.post(f"{base}/api/connection/device-code", headers=_token(http, base))
        assert answer.status_code == 502, answer.text
        assert "Could not reach the sign-in service" in answer.json()["detail"][0]["msg"]
        page = http.post(f"{base}/connection/sign-in", headers={**_token(http, base), **HTMX})
        assert page.status_code == 502 and "Could not reach the sign-in service" in page.text
        assert http.get(f"{base}/api/connection").json()["state"] != "signing_in"


def test_settings_are_validated_and_saved_to_the_data_dir_the_secret_apart(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
    data_dir: Path,
) -> None:
    with app_at() as base:
        bad = _save(http, base, {"crm_url": "ftp://crm.example.com", "auth": "magic",
                                 "tenant_id": "not a tenant", "client_id": "12345"})
        assert bad.status_code == 422
        for words in ("must start with https://", "is not a sign-in method", "GUID or a domain",
                      "client id must be a GUID"):
            assert words in bad.text
        preferences = data_dir / PREFERENCES_FILE
        assert not preferences.exists() or "ftp" not in preferences.read_text()
        plain_http = _save(http, base, connection_form(tls_emulator, crm_url="http://crm.example.com"))
        assert plain_http.status_code == 422
        no_client = _save(http, base, connection_form(tls_emulator, client_id=""))
        assert no_client.status_code == 422 and "needs a client id" in no_client.text
        secret = "s3cret-Value-42"
        saved = _save(http, base, connection_form(tls_emulator, auth="client-secret", client_secret=secret,
                                                  tenant_id="contoso.onmicrosoft.com"))
        assert saved.status_code == 200 and "connection-saved" in saved.text and secret not in saved.text
        secret_file = data_dir / "client_secret"
        assert secret_file.read_text() == secret and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert files_holding(data_dir.parent, secret) == [secret_file]  # not settings.json, not the DB
        assert stat.S_IMODE((data_dir / PREFERENCES_FILE).stat().st_mode) == 0o600
        page = http.get(f"{base}/settings").text
        assert "contoso.onmicrosoft.com" in page and secret not in page and "conn-remove-secret" in page
        form = connection_form(tls_emulator, auth="client-secret", remove_secret="1")
        _save(http, base, form)
        assert not secret_file.exists()


def test_the_environment_wins_and_the_page_says_so(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch, data_dir: Path,
) -> None:
    monkeypatch.setenv("CALLNOTES_CRM_URL", tls_emulator.url)
    with app_at() as base:
        page = http.get(f"{base}/settings").text
        assert "connection-env" in page and "CALLNOTES_CRM_URL" in page
        crm_input = page.split('id="conn-crm-url"')[1].split(">", 1)[0]
        assert f'value="{tls_emulator.url}"' in crm_input and "disabled" in crm_input
        saved = _save(http, base, connection_form(tls_emulator, crm_url="https://other.crm.dynamics.com"))
        assert saved.status_code == 200 and "crm_url kept" in saved.text
        assert "other.crm" not in (data_dir / PREFERENCES_FILE).read_text()
        assert http.get(f"{base}/api/connection").json()["crm_url"] == tls_emulator.url


def test_switching_the_crm_takes_effect_without_a_restart(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
    fresh_emulator: EmulatorServer,
) -> None:
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator, auth="emulator", client_id=""))
        first = http.get(f"{base}/api/connection").json()
        assert (first["state"], first["crm_url"]) == ("signed_in", tls_emulator.url)
        _save(http, base, connection_form(fresh_emulator, crm_url=fresh_emulator.url, auth="emulator",
                                          client_id=""))
        second = http.get(f"{base}/api/connection").json()
        assert (second["state"], second["crm_url"]) == ("signed_in", fresh_emulator.url)
        _save(http, base, connection_form(fresh_emulator, crm_url="", auth="", client_id="", tenant_id=""))
        assert http.get(f"{base}/api/connection").json()["state"] == "demo"


def test_msx_unreachable_shows_one_banner_and_the_badge_says_vpn_down(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, tls_emulator: EmulatorServer,
) -> None:
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator, auth="emulator", client_id=""))
        tls_emulator.configure(vpn_blocked=True)
        try:
            state = http.get(f"{base}/api/connection").json()
            status = http.get(f"{base}/outbox/status").text
            checks = http.get(f"{base}/connection/checks").text
        finally:
            tls_emulator.configure(vpn_blocked=False)
        assert state["state"] == "unreachable"
        assert status.count('id="writeback-banner"') == 1 and "VPN seems down" in status
        assert 'data-state="unreachable"' in status
        assert "IP address is blocked" in checks
        assert 'data-state="signed_in"' in http.get(f"{base}/connection/panel?fresh=1").text


def _fake_az(directory: Path, *, logged_in: bool, tenant: str) -> None:
    """An ``az`` on PATH that answers ``az account show`` as the real one does."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "az"
    answer = (f'print(\'{{"user": {{"name": "me@microsoft.com"}}, "tenantId": "{tenant}"}}\')' if logged_in
              else "import sys; sys.stderr.write(\"Please run 'az login' to setup account.\"); sys.exit(1)")
    script.write_text(f"#!{sys.executable}\n{answer}\n", encoding="utf-8")
    script.chmod(0o755)


@pytest.mark.parametrize("az", ["missing", "logged_out", "other_tenant", "logged_in"])
def test_azure_cli_mode_checks_az_installed_and_logged_in(
    az: str, app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client,
    tls_emulator: EmulatorServer,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    if az != "missing":
        other = "00000000-0000-0000-0000-000000000000"
        _fake_az(bin_dir, logged_in=az != "logged_out", tenant=TENANT if az == "logged_in" else other)
    monkeypatch.setenv("PATH", str(bin_dir))
    with app_at() as base:
        _save(http, base, connection_form(tls_emulator, auth="azcli", client_id=""))
        checks = http.get(f"{base}/connection/checks").text
    expected = {"missing": "not on PATH", "logged_out": f"run `az login --tenant {TENANT}`",
                "other_tenant": f"not {TENANT}: run `az login --tenant {TENANT}`",
                "logged_in": "signed in as me@microsoft.com"}[az]
    assert expected in checks
    assert f"{tls_emulator.url} answered" in checks  # the CRM step


def test_first_run_offers_the_demo_then_remembers_the_choice(
    app_at: Callable[[], AbstractContextManager[str]], http: httpx.Client, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CALLNOTES_DEMO_CRM_URL", raising=False)
    with app_at() as base:
        home = http.get(f"{base}/").text
        assert 'id="first-run"' in home and 'href="/welcome"' in home
        welcome = http.get(f"{base}/welcome").text
        assert "welcome-try-demo" in welcome and "az login --tenant" in welcome and "VPN" in welcome
        token = _token(http, base)
        assert http.post(f"{base}/welcome/demo").status_code == 403
        chosen = http.post(f"{base}/welcome/demo", headers=token, follow_redirects=False)
        assert chosen.status_code == 303
        state = http.get(f"{base}/api/connection").json()
        assert state["state"] == "demo" and state["user"] and state["crm_url"]
        assert 'id="first-run"' not in http.get(f"{base}/").text
        assert 'data-state="demo"' in http.get(f"{base}/outbox/status").text
    assert "CALLNOTES_DEMO_CRM_URL" not in os.environ  # the demo emulator stopped with the app
