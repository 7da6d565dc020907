"""A service principal end to end: ``CALLNOTES_AUTH=client-secret`` with the tenant, client id and secret
from the environment, signing in through MSAL at ``CALLNOTES_AUTHORITY_HOST`` (the emulator's token
endpoint, over HTTPS as MSAL requires), then pushing; the token is reused until near its expiry,
fetched again after it, and neither it nor the secret is ever logged."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from callnotes.config import Settings
from callnotes.dataverse import AuthError, DataverseClient
from callnotes.emulator.identity import identity_routes
from callnotes.emulator.tls import make_tls_files
from callnotes.store import CustomerInput, NoteInput, create_customer, create_note, session_scope
from callnotes.sync.connection import token_provider
from callnotes.sync.mappings import load_mappings
from callnotes.sync.push import push_mapping
from callnotes.sync.runtime import open_runtime
from tests.fixtures.push import NOTES_AS_PHONECALLS
from tests.integration.dataverse.dv_helpers import serve

TENANT = "3f5e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f"
SECRET = "sp-s3cret-value"


def _store_with_notes(data_dir: Path, crm_url: str, account_number: str) -> None:
    with open_runtime(Settings(data_dir=data_dir, crm_url=crm_url)) as runtime:
        with session_scope(runtime.session_factory) as session:
            customer = create_customer(session, CustomerInput(name="Contoso", tpid=account_number))
            for i in range(3):
                create_note(session, NoteInput(body=f"Body {i}", title=f"Call {i}",
                                               call_date=dt.date(2026, 11, 4), customer_id=customer.id))


def _first_account_number(emulator: Any) -> str:
    rows = emulator.service.database.table("account").rows.values()
    return sorted(str(r["accountnumber"]) for r in rows)[0]


def test_callnotes_push_as_a_service_principal(tls_emulator, tmp_path: Path) -> None:
    number = _first_account_number(tls_emulator)
    _store_with_notes(tmp_path / "data", tls_emulator.url, number)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env.update({
        "CALLNOTES_DATA_DIR": str(tmp_path / "data"), "CALLNOTES_CRM_URL": tls_emulator.url,
        "CALLNOTES_AUTH": "client-secret", "CALLNOTES_TENANT_ID": TENANT, "CALLNOTES_CLIENT_ID": "svc-app",
        "CALLNOTES_CLIENT_SECRET": SECRET, "CALLNOTES_AUTHORITY_HOST": tls_emulator.url,
        # trust the emulator's certificate: MSAL (requests) and the Dataverse client (httpx)
        "REQUESTS_CA_BUNDLE": str(tls_emulator.ca_file), "SSL_CERT_FILE": str(tls_emulator.ca_file),
    })
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", "-v", "push", "--mapping",
               str(NOTES_AS_PHONECALLS)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "notes-as-phonecalls → phonecalls: 3 created" in done.stdout
    rows = tls_emulator.service.database.table("phonecall").rows.values()
    calls = [r for r in rows if r.get("cn_callnotesid")]
    assert len(calls) == 3
    output = done.stdout + done.stderr
    assert "DEBUG" in output  # verbose logging was on …
    assert SECRET not in output and "eyJ" not in output  # … and neither the secret nor a JWT was logged


class _CountingIdentity:
    """The emulator's identity routes, counting the token requests that reach them."""

    def __init__(self, app: Starlette) -> None:
        self.app, self.token_requests = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/oauth2/v2.0/token"):
            self.token_requests += 1
        await self.app(scope, receive, send)


@pytest.fixture()
def short_lived_identity(fresh_emulator: Any,
                         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, _CountingIdentity]]:
    """Identity routes over HTTPS whose tokens live 8 s (the emulator's issuer: its Web API takes them),
    and a client secret that must match."""
    tls = make_tls_files()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    routes = identity_routes(fresh_emulator.app.state.issuer, TENANT, token_lifetime=8,
                             client_secrets={"svc-app": SECRET})
    counting = _CountingIdentity(Starlette(routes=routes))
    try:
        with serve(counting, ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file)) as url:
            yield url, counting
    finally:
        tls.remove()


def _settings(emulator: Any, authority: str, tmp_path: Path, secret: str = SECRET) -> Settings:
    return Settings(crm_url=emulator.url, auth="client-secret", tenant_id=TENANT, client_id="svc-app",
                    client_secret=secret, authority_host=authority, data_dir=tmp_path / "data")


def test_the_token_is_reused_then_fetched_again_after_expiry_and_never_logged(
    fresh_emulator: Any, short_lived_identity: tuple[str, _CountingIdentity], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    authority, identity = short_lived_identity
    settings = _settings(fresh_emulator, authority, tmp_path)
    number = _first_account_number(fresh_emulator)
    _store_with_notes(settings.data_dir, fresh_emulator.url, number)
    caplog.set_level(logging.DEBUG)
    provider = token_provider(settings)
    mapping = load_mappings(NOTES_AS_PHONECALLS).mappings[0]
    with open_runtime(settings) as runtime, DataverseClient(fresh_emulator.api_url, provider) as client:
        first = provider.get_token()
        report = push_mapping(runtime.session_factory, client, mapping)
        assert report.created == 3 and report.http_requests == 2
        assert provider.get_token() == first and identity.token_requests == 1  # one sign-in for all of it
        time.sleep(max(0.0, first.remaining().total_seconds()) + 0.5)  # the token expires
        refreshed = provider.get_token()
        assert refreshed.token != first.token and identity.token_requests == 2
        assert client.whoami()["UserId"] == fresh_emulator.demo_user_id  # the new token is accepted
    logged = caplog.text
    assert first.token not in logged and refreshed.token not in logged and SECRET not in logged


def test_a_wrong_secret_is_a_clear_error(fresh_emulator: Any,
                                         short_lived_identity: tuple[str, _CountingIdentity],
                                         tmp_path: Path) -> None:
    authority, _ = short_lived_identity
    provider = token_provider(_settings(fresh_emulator, authority, tmp_path, secret="wrong"))
    with pytest.raises(AuthError, match="client id or secret is wrong") as caught:
        provider.get_token()
    assert "wrong" not in str(caught.value).replace("is wrong", "")  # the secret itself is not in the message
