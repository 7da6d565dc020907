"""Settings → token provider and CRM URLs (the app's configuration meets the generic client here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callnotes.config import Settings
from callnotes.dataverse import AuthError, AzureCliToken, ClientSecretToken, DeviceCodeToken, EmulatorToken
from callnotes.msx.errors import MsxError
from callnotes.msx.schema import TENANT_ID
from callnotes.sync.connection import (
    DEMO_URL_ENV,
    NotConfigured,
    device_code_provider,
    link_org,
    org_url,
    token_cache_path,
    token_provider,
)

CRM = "https://org.crm.dynamics.com"
_MSAL = {"instance_discovery": False, "validate_authority": False}


def test_demo_mode_signs_in_to_the_emulator_and_real_msx_through_az(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(DEMO_URL_ENV, raising=False)
    demo = token_provider(Settings(data_dir=tmp_path), url="http://127.0.0.1:9/api/data/v9.2")
    assert isinstance(demo, EmulatorToken)
    az = token_provider(Settings(crm_url=CRM))
    assert isinstance(az, AzureCliToken)
    assert az._tenant == TENANT_ID  # unset CALLNOTES_TENANT_ID: the corporate tenant (reference/000)
    with pytest.raises(NotConfigured, match="CALLNOTES_CRM_URL"):
        token_provider(Settings())


def test_msal_modes_need_their_settings(tmp_path: Path) -> None:
    device = token_provider(
        Settings(crm_url=CRM, auth="device-code", client_id="c", data_dir=tmp_path), msal_options=_MSAL
    )
    assert isinstance(device, DeviceCodeToken)
    secret = token_provider(
        Settings(crm_url=CRM, auth="client-secret", client_id="c", client_secret="s", tenant_id="t"),
        msal_options=_MSAL,
    )
    assert isinstance(secret, ClientSecretToken)
    with pytest.raises(AuthError, match="CALLNOTES_CLIENT_ID"):
        token_provider(Settings(crm_url=CRM, auth="device-code"))
    with pytest.raises(AuthError, match="CALLNOTES_CLIENT_SECRET"):
        token_provider(Settings(crm_url=CRM, auth="client-secret", client_id="c"))


def test_device_code_commands_explain_other_modes(tmp_path: Path) -> None:
    with pytest.raises(MsxError, match="az login"):
        device_code_provider(Settings(crm_url=CRM, data_dir=tmp_path))
    assert token_cache_path(Settings(data_dir=tmp_path)) == tmp_path / "msal_token_cache.json"


def test_links_point_at_the_org_not_the_api() -> None:
    assert org_url(f"{CRM}/api/data/v9.2") == CRM
    assert link_org(Settings(crm_url=f"{CRM}/")) == CRM
    assert link_org(Settings()) == "https://microsoftsales.crm.dynamics.com"


def test_the_job_queue_file_is_private_even_when_an_old_one_was_not(tmp_path: Path) -> None:
    import os
    import stat

    from callnotes.sync.queue import QUEUE_FILE, make_huey

    old = tmp_path / QUEUE_FILE
    old.write_bytes(b"")
    old.chmod(0o644)
    huey = make_huey(Settings(data_dir=tmp_path))
    huey.storage.close()
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o600
