"""Token warm-up (issue 10): the job queue's every-minute task refreshes a device-code token with less
than 10 minutes left, through the real MSAL library against the emulator's token endpoint (HTTPS),
so the shared cache file holds a fresh token before the next call; one with more left is not touched,
and a signed-out cache is never written back."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from callnotes.config import Settings, save_preferences
from callnotes.emulator import EmulatorServer
from callnotes.sync.connection import TOKEN_CACHE_FILE
from callnotes.sync.runtime import open_runtime
from callnotes.sync.signin import Connection, ConnectionState
from tests.fixtures.signin import CLIENT_ID, TENANT, approve, identity_control, trust_emulator


def _cached_access_token(cache: Path) -> tuple[str, int]:
    """The cached access token's secret and its expiry (epoch seconds), as MSAL stores them."""
    entries = list(json.loads(cache.read_text(encoding="utf-8"))["AccessToken"].values())
    assert len(entries) == 1
    return entries[0]["secret"], int(entries[0]["expires_on"])


@pytest.fixture()
def signed_in(tls_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Signed in with a device code whose access token lives 7 minutes (< the 10-minute margin)."""
    trust_emulator(monkeypatch, tls_emulator)
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        authority_host=tls_emulator.url)
    save_preferences(settings, crm_url=tls_emulator.url, auth="device-code", tenant_id=TENANT,
                     client_id=CLIENT_ID)
    identity_control(tls_emulator, "", {"token_lifetime": 420})
    connection = Connection()
    prompt = connection.start_device_code(settings)
    approve(tls_emulator, prompt.user_code)
    deadline = time.monotonic() + 20
    while connection.report(settings, reach=False).state is ConnectionState.SIGNING_IN:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert connection.report(settings, reach=False).state is ConnectionState.SIGNED_IN
    connection.close()
    identity_control(tls_emulator, "", {"token_lifetime": 3600})  # what the refresh will get
    return settings


def test_the_periodic_task_refreshes_a_token_near_expiry_into_the_shared_cache(signed_in: Settings) -> None:
    cache = signed_in.resolved_data_dir() / TOKEN_CACHE_FILE
    secret, expires = _cached_access_token(cache)
    assert expires - time.time() < 600
    with open_runtime(signed_in) as runtime:
        due = {task.name for task in runtime.queue.huey.read_periodic(datetime.now())}
        assert "warm_up_token" in due  # registered, every minute
        time.sleep(1.1)  # a token minted in another second differs
        runtime.queue.warm_up_token()
        fresh_secret, fresh_expires = _cached_access_token(cache)
        assert fresh_secret != secret and fresh_expires - time.time() > 3000
        runtime.queue.warm_up_token()  # more than 10 minutes left now: nothing to do
        assert _cached_access_token(cache) == (fresh_secret, fresh_expires)


def test_warm_up_never_writes_back_a_removed_cache(signed_in: Settings) -> None:
    Connection().disconnect(signed_in)
    cache = signed_in.resolved_data_dir() / TOKEN_CACHE_FILE
    assert not cache.exists()
    with open_runtime(signed_in) as runtime:
        runtime.queue.warm_up_token()
    assert not cache.exists()


def test_warm_up_in_demo_mode_does_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    with open_runtime(settings) as runtime:
        assert runtime.queue.token_warmer.warm(settings) is None
