"""``callnotes serve`` (the web app alone) and ``callnotes run`` (what ``make run`` does)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import typer

from callnotes.cli import app
from callnotes.config import Settings, load_settings
from callnotes.web.demo import ensure_starter_templates

_log = logging.getLogger(__name__)


def _serve(settings: Settings, host: str, port: int, allow_remote: bool) -> None:
    from callnotes.web.app import create_app
    from callnotes.web.server import RemoteBindRefused, check_bind_host, serve, trusted_hosts

    try:
        check_bind_host(host, allow_remote=allow_remote)
    except RemoteBindRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"callnotes on http://{'[' + host + ']' if ':' in host else host}:{port}  (Ctrl+C stops)")
    app = create_app(settings, trusted_hosts=trusted_hosts(host, allow_remote=allow_remote))
    serve(app, host, port, allow_remote=allow_remote, log_level=settings.log_level)


@app.command("serve")
def serve_command(
    host: str = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port to listen on (default 5151)."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a non-loopback --host (exposes your notes to the network)."
    ),
) -> None:
    """Serve the web app (binds 127.0.0.1:5151 by default)."""
    settings = load_settings()
    _serve(settings, host or settings.host, port or settings.port, allow_remote)


def _demo_preparer() -> Callable[[Settings], Any]:
    """``callnotes.msx.demo.prepare_demo`` when the MSX area provides it, else the store's seed."""
    try:
        demo = importlib.import_module("callnotes.msx.demo")
    except ModuleNotFoundError as exc:
        if exc.name not in ("callnotes.msx", "callnotes.msx.demo"):
            raise
    else:
        prepare = getattr(demo, "prepare_demo", None)
        if callable(prepare):
            return prepare
    from callnotes.web.demo import seed_demo_data

    return seed_demo_data


@app.command("run")
def run_command() -> None:
    """Start the app as ``make run`` does: demo data when no CRM is configured, then serve."""
    settings = load_settings()
    demo = None
    if settings.demo_mode:
        typer.echo("No CRM configured (CALLNOTES_CRM_URL unset): demo mode, preparing demo data…")
        demo = _demo_preparer()(settings)
        ensure_starter_templates(settings)
    try:
        _serve(settings, settings.host, settings.port, allow_remote=False)
    finally:
        _stop(demo)


def _stop(demo: Any) -> None:
    """Stop whatever the demo preparer left running (e.g. the embedded emulator)."""
    if demo is None:
        return
    if hasattr(demo, "__exit__"):
        demo.__exit__(None, None, None)
    elif callable(getattr(demo, "stop", None)):
        demo.stop()
    elif callable(getattr(demo, "close", None)):
        demo.close()
