"""``callnotes emulator``: run the Dataverse Web API emulator in the foreground."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # the emulator itself loads only when the command runs (fast `callnotes --help`)
    from callnotes.emulator.config import EmulatorConfig
    from callnotes.emulator.tls import TlsFiles

_EPILOG = """\
Point any Dataverse client at the service root http://127.0.0.1:PORT/api/data/v9.2 (https:// with
--tls: trust the CA file it prints through REQUESTS_CA_BUNDLE, SSL_CERT_FILE or httpx verify=) with
"Authorization: Bearer <token>" (the token printed at start-up, or mint one:
curl -X POST http://127.0.0.1:PORT/_emulator/token -H 'Content-Type: application/json'
-d '{"expires_in": 3600}'; expires_in <= 0 gives an expired token). callnotes itself:
CALLNOTES_CRM_URL=http://127.0.0.1:PORT CALLNOTES_AUTH=emulator.

Control endpoints (never delayed, faulted or throttled): GET /_emulator/stats,
POST /_emulator/stats/reset, GET|POST /_emulator/config, POST /_emulator/token,
GET /_emulator/requests?limit=N, GET /. POST /_emulator/config takes JSON with any of
latency_ms, jitter_ms, fault_rate, throttle (true | false | {"requests_per_window",
"window_seconds", "max_concurrent", "execution_ms_per_window"}), vpn_blocked, msx_quirks and
fail_next: a list of {"fault": 429|500|502|503|504|"drop"|"truncate"|"drop_after_commit",
"method", "path_contains", "times", "retry_after"}.
Webhooks: POST /_emulator/webhooks {"url", "entity", "messages": ["Create", "Update", "Delete"],
"auth": {"type": "WebhookKey"|"HttpHeader"|"HttpQueryString", "name", "value"}} -> {"id"};
GET /_emulator/webhooks (with delivery counts); DELETE /_emulator/webhooks/{id}. After each commit a
RemoteExecutionContext is posted to matching webhooks, retried with backoff.

Full reference: docs/emulator.md.
"""


def register(app: typer.Typer) -> None:
    """Add ``callnotes emulator`` to the top-level app."""
    app.command("emulator", epilog=_EPILOG)(emulator_command)


def emulator_command(
    port: int = typer.Option(5555, "--port", "-p", help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless --allow-remote)."),
    accounts: int = typer.Option(
        20, "--accounts", help="Accounts assigned to the demo user (about 3x as many in all, 1-5000)."
    ),
    seed: int = typer.Option(7, "--seed", help="Data set seed: same seed and size, same data and GUIDs."),
    latency_ms: int = typer.Option(
        0, "--latency-ms", help="Milliseconds added to every Web API request (0-60000)."
    ),
    jitter_ms: int = typer.Option(0, "--jitter-ms", help="Random latency spread, ± milliseconds."),
    fault_rate: float = typer.Option(
        0.0,
        "--fault-rate",
        help="Share (0-1) of Web API requests that meet a transient failure (429, 5xx, dropped or "
        "truncated connection).",
    ),
    throttle: bool = typer.Option(
        False,
        "--throttle",
        help="Service-protection limits: 100 requests at once then one every 3 s, 20 concurrent "
        "(429 + Retry-After).",
    ),
    vpn_blocked: bool = typer.Option(False, "--vpn-blocked", help="Answer every request 403 'IP blocked'."),
    msx_quirks: bool = typer.Option(
        True,
        "--msx-quirks/--no-msx-quirks",
        help="Imitate MSX oddities (msp_accountteams capped at 100 rows without a nextLink).",
    ),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow binding a non-loopback address."),
    token_hours: int = typer.Option(8, "--token-hours", help="Lifetime of the printed token."),
    tls: bool = typer.Option(
        False,
        "--tls",
        help="Serve HTTPS with a certificate made at start for 127.0.0.1/localhost; prints the CA file "
        "to trust (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, httpx verify=).",
    ),
) -> None:
    """Run the Dataverse Web API emulator (MSX-shaped demo data) until Ctrl+C.

    It serves /api/data/v9.2 over HTTP (HTTPS with --tls) on 127.0.0.1 and prints the service root,
    the demo user's id and a bearer token.
    """
    from callnotes.emulator.config import ConfigError, EmulatorConfig

    try:
        config = EmulatorConfig(
            accounts=accounts, seed=seed, latency_ms=latency_ms, jitter_ms=jitter_ms, fault_rate=fault_rate,
            throttle=throttle, vpn_blocked=vpn_blocked, msx_quirks=msx_quirks, host=host, port=port,
            allow_remote=allow_remote,
        )  # fmt: skip
    except ConfigError as exc:
        typer.echo(f"callnotes emulator: {exc}", err=True)
        raise typer.Exit(2) from exc
    _serve(config, tls=tls, token_hours=token_hours)


def _serve(config: EmulatorConfig, *, tls: bool, token_hours: int) -> None:
    import uvicorn

    from callnotes.emulator.app import create_app
    from callnotes.emulator.server import build_default_service, public_url, uvicorn_config
    from callnotes.emulator.tls import make_tls_files

    sock = _bind(config)
    url = public_url(config.host, sock.getsockname()[1], tls=tls)
    typer.echo(f"Building the demo data set ({config.accounts} accounts, seed {config.seed})…")
    emulator = create_app(config, build_default_service(config))
    token = emulator.state.mint_token(url, token_hours * 3600)
    files = make_tls_files() if tls else None
    try:
        _print_banner(url, emulator.state.service.demo_user_id, token, token_hours, files)
        uvicorn.Server(uvicorn_config(emulator, files, log_level="info")).run(sockets=[sock])
    finally:
        if files is not None:
            files.remove()


def _bind(config: EmulatorConfig) -> socket.socket:
    from callnotes.emulator.server import listening_socket

    try:
        return listening_socket(config.host, config.port)
    except OSError as exc:
        typer.echo(
            f"callnotes emulator: cannot listen on {config.host}:{config.port}: {exc.strerror}", err=True
        )
        raise typer.Exit(1) from exc


def _print_banner(url: str, demo_user_id: str, token: str, token_hours: int, tls: TlsFiles | None) -> None:
    from callnotes.emulator.app import API_PREFIX

    typer.echo(f"Dataverse Web API emulator on {url}")
    typer.echo(f"  service root : {url}{API_PREFIX}")
    typer.echo(f"  demo user    : {demo_user_id}")
    typer.echo(f"  control      : {url}/_emulator/stats  /_emulator/config  /_emulator/token")
    if tls is not None:
        typer.echo(f"  CA file      : {tls.ca_file}")
        typer.echo(f"Trust it: REQUESTS_CA_BUNDLE={tls.ca_file} SSL_CERT_FILE={tls.ca_file}")
    typer.echo(f"Bearer token for the demo user (valid {token_hours} h):")
    typer.echo(token)
    cacert = f" --cacert {tls.ca_file}" if tls is not None else ""
    typer.echo(f"Try: curl{cacert} -H 'Authorization: Bearer <token>' {url}{API_PREFIX}/WhoAmI")
    typer.echo(f"Point callnotes at it: CALLNOTES_CRM_URL={url} CALLNOTES_AUTH=emulator")
