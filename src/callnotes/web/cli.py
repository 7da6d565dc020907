"""``callnotes serve`` (the web app alone) and ``callnotes run`` (what ``make run`` does).

The web app loads only when a command runs, so ``callnotes --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from callnotes.config import Settings


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    app.command("serve")(serve_command)
    app.command("run")(run_command)


def _serve(settings: Settings, host: str, port: int, *, allow_remote: bool, worker: bool) -> None:
    from callnotes.web.app import create_app
    from callnotes.web.server import RemoteBindRefused, check_bind_host, serve, trusted_hosts

    try:
        check_bind_host(host, allow_remote=allow_remote)
    except RemoteBindRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"callnotes on http://{'[' + host + ']' if ':' in host else host}:{port}  (Ctrl+C stops)")
    app = create_app(settings, trusted_hosts=trusted_hosts(host, allow_remote=allow_remote), worker=worker)
    serve(app, host, port, allow_remote=allow_remote, log_level=settings.log_level)


def serve_command(
    host: str = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port to listen on (default 5151)."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a non-loopback --host (exposes your notes to the network)."
    ),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Do not run a job-queue consumer in this process (run `callnotes worker`)."
    ),
) -> None:
    """Serve the web app (binds 127.0.0.1:5151 by default) with a job-queue consumer inside."""
    from callnotes.config import load_settings

    settings = load_settings()
    _serve(settings, host or settings.host, port or settings.port, allow_remote=allow_remote,
           worker=not no_worker)


def run_command() -> None:
    """Start the app as ``make run`` does: demo data when no CRM is configured, then serve."""
    from callnotes.config import load_settings
    from callnotes.sync.demo import prepare_demo

    settings = load_settings()
    if not settings.demo_mode:
        _serve(settings, settings.host, settings.port, allow_remote=False, worker=True)
        return
    typer.echo("No CRM configured (CALLNOTES_CRM_URL unset): demo mode, preparing demo data…")
    demo = prepare_demo(settings)
    try:
        _serve(settings, settings.host, settings.port, allow_remote=False, worker=True)
    finally:
        demo.stop()
