"""Connection settings entered in the app (settings page, first-run screen) and the live checks of
the steps to reach MSX: the VPN, ``az login --tenant …``, the CRM answering.

What the user enters is checked here (`parse_connection`) and saved in the data dir's preferences
(``settings.json``, 0600); a client secret goes to its own 0600 file (`config.save_client_secret`),
never to settings.json, the database or a log. Fields the environment sets are left alone: the
environment wins.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from callnotes.config import AuthMode, Settings, live_settings, save_client_secret, save_preferences
from callnotes.dataverse.errors import NetworkBlocked, error_from_response
from callnotes.msx.errors import MsxError
from callnotes.msx.schema import TENANT_ID
from callnotes.sync.connection import auth_mode, org_url

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_EMULATOR_HOSTS = frozenset({"127.0.0.1"})
#: The sign-in methods the page offers (the emulator's is for tests and the demo).
METHODS = (
    (AuthMode.AZCLI.value, "Azure CLI", "Uses your `az login`; nothing to store here."),
    (AuthMode.DEVICE_CODE.value, "Device code", "Sign in in the browser with a code; needs a client id."),
    (AuthMode.CLIENT_SECRET.value, "Service principal", "Tenant, client id and a client secret."),
)
_AZ_TIMEOUT_S = 15.0
_PROBE_TIMEOUT_S = 5.0


class ConnectionInputError(MsxError):
    """What the user entered cannot be saved; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ConnectionInput:
    crm_url: str | None
    auth: AuthMode | None
    tenant_id: str | None
    client_id: str | None
    #: None: keep the saved secret; "": remove it; else the new secret.
    client_secret: str | None = None


def _check_url(text: str) -> str | None:
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname and "." in parts.hostname:
        pass
    elif parts.scheme == "http" and parts.hostname in _EMULATOR_HOSTS:
        pass
    else:
        return ("the CRM URL must start with https:// (e.g. https://microsoftsales.crm.dynamics.com), "
                "or be http://127.0.0.1:<port> for the emulator")
    if parts.username or parts.password or parts.query or parts.fragment or " " in text:
        return "the CRM URL must be a plain address: no user name, query or #fragment"
    return None


def parse_connection(crm_url: str, auth: str, tenant_id: str, client_id: str,
                     client_secret: str | None = None) -> ConnectionInput:
    """Check the form's fields; `ConnectionInputError` names every field that is wrong."""
    errors: dict[str, str] = {}
    url, tenant, client = crm_url.strip().rstrip("/"), tenant_id.strip(), client_id.strip()
    if url and (problem := _check_url(url)):
        errors["crm_url"] = problem
    mode: AuthMode | None = None
    if auth.strip():
        try:
            mode = AuthMode(auth.strip())
        except ValueError:
            errors["auth"] = f"{auth!r} is not a sign-in method ({', '.join(m for m, _, _ in METHODS)})"
    if tenant and not (_GUID.match(tenant) or _DOMAIN.match(tenant)):
        errors["tenant_id"] = "the tenant must be a GUID or a domain such as contoso.onmicrosoft.com"
    if client and not _GUID.match(client):
        errors["client_id"] = "the client id must be a GUID (the app registration's Application ID)"
    if mode in (AuthMode.DEVICE_CODE, AuthMode.CLIENT_SECRET) and not client and "client_id" not in errors:
        errors["client_id"] = f"sign-in method {mode.value} needs a client id (the app registration)"
    if errors:
        raise ConnectionInputError(errors)
    return ConnectionInput(url or None, mode, tenant or None, client or None, client_secret)


def save_connection(settings: Settings, entered: ConnectionInput) -> list[str]:
    """Save what the environment does not fix; returns the fields left alone (environment wins)."""
    fixed = settings.fixed_fields()
    values = {"crm_url": entered.crm_url, "auth": entered.auth.value if entered.auth else None,
              "tenant_id": entered.tenant_id, "client_id": entered.client_id}
    changes = {name: value for name, value in values.items() if name not in fixed}
    if changes:
        save_preferences(settings, **changes, connection_choice="msx" if entered.crm_url else None)
    if entered.client_secret is not None and "client_secret" not in fixed:
        save_client_secret(settings, entered.client_secret.strip() or None)
    return sorted(name for name in values if name in fixed)


# -- live checks of the steps ------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One step to reach MSX and whether it is done now (``ok`` None: not applicable)."""

    name: str
    ok: bool | None
    detail: str


def expected_tenant(settings: Settings) -> str:
    return live_settings(settings).tenant_id or TENANT_ID


def check_az() -> Check:
    """Is the Azure CLI installed?"""
    path = shutil.which("az")
    if path is None:
        return Check("Azure CLI installed", False, "`az` is not on PATH: install the Azure CLI "
                     "(https://aka.ms/installazurecli), or choose the device code sign-in.")
    return Check("Azure CLI installed", True, f"found at {path}")


def check_az_login(tenant: str) -> Check:
    """Is the Azure CLI signed in, to the right tenant? (``az account show``: no shell, a timeout)"""
    name, path = "Signed in with `az login`", shutil.which("az")
    login = f"az login --tenant {tenant}"
    if path is None:
        return Check(name, None, f"needs the Azure CLI; then run `{login}`")
    try:
        done = subprocess.run([path, "account", "show", "--output", "json"],  # noqa: S603 - no shell, az on PATH
                              capture_output=True, text=True, timeout=_AZ_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check(name, False, f"`az account show` did not answer ({type(exc).__name__}); run `{login}`")
    if done.returncode != 0:
        return Check(name, False, f"not signed in: run `{login}`")
    try:
        account = json.loads(done.stdout)
        user, signed_tenant = str(account["user"]["name"]), str(account["tenantId"])
    except (ValueError, KeyError, TypeError):
        return Check(name, False, f"`az account show` gave an answer that is not an account; run `{login}`")
    if _GUID.match(tenant) and signed_tenant.lower() != tenant.lower():
        return Check(name, False,
                     f"signed in as {user} in tenant {signed_tenant}, not {tenant}: run `{login}`")
    return Check(name, True, f"signed in as {user}")


def check_crm(settings: Settings) -> Check:
    """Does the CRM answer from here? (A 401 is fine: it answered; "IP address is blocked": VPN down.)"""
    live = live_settings(settings)
    name = "MSX reachable (VPN connected)"
    if not live.crm_url:
        return Check(name, None, "no CRM URL saved yet")
    url = f"{org_url(live.crm_url)}/api/data/v9.2/"
    try:
        answer = httpx.get(url, timeout=_PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Check(name, False, f"{org_url(live.crm_url)} cannot be reached ({type(exc).__name__}): "
                     "connect the VPN (or the office network) and check the URL.")
    if answer.status_code == 403 and isinstance(
            error_from_response(answer.status_code, answer.headers, answer.content), NetworkBlocked):
        return Check(name, False, "MSX answered 'IP address is blocked': connect the corporate VPN.")
    return Check(name, True, f"{org_url(live.crm_url)} answered (HTTP {answer.status_code})")


def planned_mode(settings: Settings) -> AuthMode:
    """The sign-in method in force, or, before a CRM URL is saved, the one it will be."""
    live = live_settings(settings)
    return auth_mode(live) if live.crm_url else (live.auth or AuthMode.AZCLI)


def connection_checks(settings: Settings) -> list[Check]:
    """The steps for the sign-in method in force (nothing saved yet: the default, the Azure CLI),
    each checked now."""
    checks = [check_crm(settings)]
    if planned_mode(settings) is AuthMode.AZCLI:
        checks += [check_az(), check_az_login(expected_tenant(settings))]
    return checks
