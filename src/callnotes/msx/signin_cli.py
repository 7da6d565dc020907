"""``callnotes login`` / ``logout`` / ``whoami``: signing in to MSX from the terminal.

Device code (``CALLNOTES_AUTH=device-code``) is the one mode that needs a sign-in step here: the
command shows the code and the link, waits for the browser sign-in and stores the MSAL cache (0600) in
the data dir, from which every later request refreshes silently. ``whoami`` is the VPN / token check
of reference/000 §1 (WhoAmI). Typed errors propagate to ``callnotes.cli.main``, the CLI's one edge.
"""

from __future__ import annotations

import typer

from callnotes.cli import app
from callnotes.config import AuthMode, load_settings
from callnotes.dataverse import DeviceCodeToken, token_provider_from_settings
from callnotes.msx.connection import connection_status
from callnotes.msx.errors import MsxError

_SIGN_IN_MINUTES = 15  # Entra device codes expire after about 15 minutes


def _device_code_provider() -> DeviceCodeToken:
    settings = load_settings()
    if settings.auth is not AuthMode.DEVICE_CODE:
        mode = settings.auth.value if settings.auth else ("emulator" if settings.demo_mode else "azcli")
        raise MsxError(
            f"CALLNOTES_AUTH is {mode!r}: no sign-in step is needed here "
            "(azcli: run `az login --tenant <tenant>`; set CALLNOTES_AUTH=device-code to use this command)."
        )
    provider = token_provider_from_settings(settings)
    assert isinstance(provider, DeviceCodeToken)
    return provider


@app.command("login")
def login_command() -> None:
    """Sign in to MSX with a device code (CALLNOTES_AUTH=device-code): shows the code and the link."""
    provider = _device_code_provider()
    prompt = provider.start()
    typer.echo(f"Open {prompt.verification_uri} and enter the code {prompt.user_code}")
    typer.echo(f"(the code expires at {prompt.expires_at:%H:%M} UTC; waiting for you to sign in…)")
    token = provider.wait(timeout=_SIGN_IN_MINUTES * 60 + 30)
    typer.echo(f"Signed in as {token.display_name}; the token cache refreshes silently from now on.")


@app.command("logout")
def logout_command() -> None:
    """Forget the cached device-code sign-in (the 0600 token cache in the data dir)."""
    _device_code_provider().clear()
    typer.echo("Signed out: the MSX token cache is cleared.")


@app.command("whoami")
def whoami_command() -> None:
    """Check the MSX connection (VPN, token): who am I, and until when is the token valid."""
    status = connection_status(load_settings())
    if not status.connected:
        raise MsxError(status.error or "Not connected to MSX.")
    expires = f"{status.expires_on:%Y-%m-%d %H:%M} UTC" if status.expires_on else "unknown"
    typer.echo(f"{status.user_name or 'signed in'} (user {status.user_id}) on {status.crm_url}")
    typer.echo(f"token valid until {expires}")
