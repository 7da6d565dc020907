"""Connection settings entered in the app: what is accepted, what is refused (with which sentence),
what is saved where, and how saved settings, the environment and arguments combine (live)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callnotes.config import AuthMode, Settings, live_settings, save_preferences
from callnotes.sync.connection_setup import ConnectionInputError, parse_connection, save_connection

GUID = "5a6b7c8d-1111-4222-8333-944455566677"


@pytest.mark.parametrize("url", ["https://microsoftsales.crm.dynamics.com", "https://org.crm4.dynamics.com/",
                                 "http://127.0.0.1:5555", "https://127.0.0.1:8443/api/data/v9.2", ""])
def test_accepted_crm_urls(url: str) -> None:
    entered = parse_connection(url, "azcli", "", "")
    assert entered.crm_url == (url.rstrip("/") or None)


@pytest.mark.parametrize("url", ["http://org.crm.dynamics.com", "ftp://x.example.com", "org.crm.dynamics.com",
                                 "https://user:pw@org.crm.dynamics.com", "https://org.crm.dynamics.com/?a=1",
                                 "http://localhost:5555", "https://nodot", "javascript:alert(1)"])
def test_refused_crm_urls(url: str) -> None:
    with pytest.raises(ConnectionInputError) as refused:
        parse_connection(url, "azcli", "", "")
    assert set(refused.value.errors) == {"crm_url"}


@pytest.mark.parametrize(("tenant", "ok"), [
    (GUID, True), ("contoso.onmicrosoft.com", True), ("microsoft.com", True),
    ("not a tenant", False), ("1234", False), ("-bad-.com", False)])
def test_tenant_is_a_guid_or_a_domain(tenant: str, ok: bool) -> None:
    if ok:
        assert parse_connection("", "azcli", tenant, "").tenant_id == tenant
    else:
        with pytest.raises(ConnectionInputError, match="GUID or a domain"):
            parse_connection("", "azcli", tenant, "")


def test_device_code_and_service_principal_need_a_guid_client_id() -> None:
    for mode in ("device-code", "client-secret"):
        with pytest.raises(ConnectionInputError, match="needs a client id"):
            parse_connection("https://o.crm.dynamics.com", mode, "", "")
    with pytest.raises(ConnectionInputError, match="must be a GUID"):
        parse_connection("https://o.crm.dynamics.com", "device-code", "", "my-app")
    with pytest.raises(ConnectionInputError, match="not a sign-in method"):
        parse_connection("https://o.crm.dynamics.com", "password", "", "")
    entered = parse_connection("https://o.crm.dynamics.com", "device-code", "", GUID)
    assert entered.auth is AuthMode.DEVICE_CODE


def test_saved_settings_apply_live_and_the_environment_wins(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path)
    assert live_settings(settings).crm_url is None
    kept = save_connection(settings, parse_connection("https://a.crm.dynamics.com", "device-code", "", GUID,
                                                      "the-secret"))
    assert kept == []
    live = live_settings(settings)  # the same Settings object: read again, no restart
    assert (live.crm_url, live.auth, live.client_id) == (
        "https://a.crm.dynamics.com", AuthMode.DEVICE_CODE, GUID)
    assert live.client_secret is not None and live.client_secret.get_secret_value() == "the-secret"
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert "the-secret" not in json.dumps(saved) and saved["connection_choice"] == "msx"

    monkeypatch.setenv("CALLNOTES_CRM_URL", "https://env.crm.dynamics.com")
    from_env = Settings(data_dir=tmp_path)
    assert "crm_url" in from_env.fixed_fields()
    kept = save_connection(from_env, parse_connection("https://b.crm.dynamics.com", "azcli", "", ""))
    assert kept == ["crm_url"] and live_settings(from_env).crm_url == "https://env.crm.dynamics.com"
    assert live_settings(from_env).auth is AuthMode.AZCLI


def test_arguments_win_too_and_a_hand_edited_file_is_harmless(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, crm_url="https://arg.crm.dynamics.com")
    save_preferences(settings, crm_url="https://saved.crm.dynamics.com", auth="not-a-mode")
    live = live_settings(settings)
    assert live.crm_url == "https://arg.crm.dynamics.com" and live.auth is None
