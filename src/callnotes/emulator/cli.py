"""``callnotes emulator``: run the Dataverse Web API emulator in the foreground."""

from __future__ import annotations

import socket

import typer
import uvicorn

from callnotes.cli import app
from callnotes.emulator.app import API_PREFIX, create_app
from callnotes.emulator.config import ConfigError, EmulatorConfig
from callnotes.emulator.server import build_default_service, listening_socket, uvicorn_config


@app.command("emulator")
def emulator_command(
    port: int = typer.Option(5555, "--port", "-p", help="TCP port (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless --allow-remote)."),
    accounts: int = typer.Option(20, "--accounts", help="Accounts assigned to the demo user."),
    seed: int = typer.Option(7, "--seed", help="Data set seed: same seed and size, same data and GUIDs."),
    latency_ms: int = typer.Option(0, "--latency-ms", help="Latency added to every Web API request."),
    jitter_ms: int = typer.Option(0, "--jitter-ms", help="Random latency spread, ± milliseconds."),
    fault_rate: float = typer.Option(
        0.0, "--fault-rate", help="Share (0-1) of requests that fail transiently."
    ),
    throttle: bool = typer.Option(False, "--throttle", help="Tight service-protection limits (429s)."),
    vpn_blocked: bool = typer.Option(False, "--vpn-blocked", help="Answer every request 403 'IP blocked'."),
    msx_quirks: bool = typer.Option(True, "--msx-quirks/--no-msx-quirks", help="Imitate MSX oddities."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow binding a non-loopback address."),
    token_hours: int = typer.Option(8, "--token-hours", help="Lifetime of the printed token."),
) -> None:
    """Run the Dataverse Web API emulator (MSX-shaped demo data) until Ctrl+C."""
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
    try:
        return listening_socket(config.host, config.port)
    except OSError as exc:
        typer.echo(
            f"callnotes emulator: cannot listen on {config.host}:{config.port}: {exc.strerror}", err=True
        )
        raise typer.Exit(1) from exc


def _print_banner(url: str, demo_user_id: str, token: str, token_hours: int) -> None:
    typer.echo(f"Dataverse Web API emulator on {url}")
    typer.echo(f"  service root : {url}{API_PREFIX}")
    typer.echo(f"  demo user    : {demo_user_id}")
    typer.echo(f"  control      : {url}/_emulator/stats  /_emulator/config  /_emulator/token")
    typer.echo(f"Bearer token for the demo user (valid {token_hours} h):")
    typer.echo(token)
    typer.echo(f"Try: curl -H 'Authorization: Bearer <token>' {url}{API_PREFIX}/WhoAmI")
    typer.echo(f"Point callnotes at it: CALLNOTES_CRM_URL={url} CALLNOTES_AUTH=emulator")
