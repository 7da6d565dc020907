"""``callnotes emulator``: run the Dataverse Web API emulator in the foreground."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from callnotes.emulator.config import EmulatorConfig

_EPILOG = """\
Point any Dataverse client at the service root http://127.0.0.1:PORT/api/data/v9.2 with
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

Full reference: docs/emulator.md.
"""


def register(app: typer.Typer) -> None:
    """Add ``callnotes emulator`` to the top-level app (the emulator loads only when it runs)."""
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
) -> None:
    """Run the Dataverse Web API emulator (MSX-shaped demo data) until Ctrl+C.

    It serves /api/data/v9.2 over HTTP on 127.0.0.1 and prints the service root, the demo user's
    id and a bearer token.
    """
    import uvicorn

    from callnotes.emulator.app import create_app
    from callnotes.emulator.config import ConfigError, EmulatorConfig
    from callnotes.emulator.server import build_default_service, uvicorn_config

    try:
        config = EmulatorConfig(
            accounts=accounts,
            seed=seed,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            fault_rate=fault_rate,
            throttle=throttle,
            vpn_blocked=vpn_blocked,
            msx_quirks=msx_quirks,
            host=host,
            port=port,
            allow_remote=allow_remote,
        )
    except ConfigError as exc:
        typer.echo(f"callnotes emulator: {exc}", err=True)
        raise typer.Exit(2) from exc
    sock = _bind(config)
    bound_port = sock.getsockname()[1]
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound_port}"  # noqa: S104
    typer.echo(f"Building the demo data set ({accounts} accounts, seed {seed})…")
    emulator = create_app(config, build_default_service(config))
    token = emulator.state.mint_token(url, token_hours * 3600)
    _print_banner(url, emulator.state.service.demo_user_id, token, token_hours)
    uvicorn.Server(uvicorn_config(emulator, log_level="info")).run(sockets=[sock])


def _bind(config: EmulatorConfig) -> socket.socket:
    from callnotes.emulator.server import listening_socket

    try:
        return listening_socket(config.host, config.port)
    except OSError as exc:
        typer.echo(
            f"callnotes emulator: cannot listen on {config.host}:{config.port}: {exc.strerror}", err=True
        )
        raise typer.Exit(1) from exc


def _print_banner(url: str, demo_user_id: str, token: str, token_hours: int) -> None:
    from callnotes.emulator.app import API_PREFIX

    typer.echo(f"Dataverse Web API emulator on {url}")
    typer.echo(f"  service root : {url}{API_PREFIX}")
    typer.echo(f"  demo user    : {demo_user_id}")
    typer.echo(f"  control      : {url}/_emulator/stats  /_emulator/config  /_emulator/token")
    typer.echo(f"Bearer token for the demo user (valid {token_hours} h):")
    typer.echo(token)
    typer.echo(f"Try: curl -H 'Authorization: Bearer <token>' {url}{API_PREFIX}/WhoAmI")
    typer.echo(f"Point callnotes at it: CALLNOTES_CRM_URL={url} CALLNOTES_AUTH=emulator")
