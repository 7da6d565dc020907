"""The sync area's commands: ``callnotes import accounts``, ``login`` / ``logout`` / ``whoami``,
``worker``. Heavy modules are imported inside each command, so ``callnotes --help`` stays fast.

Typed errors propagate to ``callnotes.cli.main``, the CLI's one edge (one ``error: …`` line, exit 1).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import typer

import callnotes.sync.push_cli as push_cli

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from callnotes.config import Settings
    from callnotes.dataverse import DataverseClient
    from callnotes.msx.progress import ProgressEvent

_SIGN_IN_MINUTES = 15  # Entra device codes expire after about 15 minutes


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app."""
    import_app = typer.Typer(no_args_is_help=True, help="Import from MSX into the local store.")
    import_app.command("accounts")(import_accounts)
    app.add_typer(import_app, name="import")
    app.command("login")(login_command)
    app.command("logout")(logout_command)
    app.command("whoami")(whoami_command)
    app.command("worker")(worker_command)
    app.command("sync")(sync_command)
    outbox_app = typer.Typer(help="Writes waiting for MSX: list, approve, discard, retry.",
                             invoke_without_command=True)
    outbox_app.callback()(outbox_list)
    for verb in ("approve", "discard", "retry"):
        action = _outbox_action(verb)
        outbox_app.command(verb, help=f"{verb.capitalize()} outbox rows by id (or --all).")(action)
    app.add_typer(outbox_app, name="outbox")
    push_cli.register(app)  # callnotes push (generic mappings, issue 11)


@contextlib.contextmanager
def _client(settings: Settings, console: Console) -> Iterator[DataverseClient]:
    """The configured CRM; in demo mode with no emulator running, a temporary one."""
    from callnotes.sync.connection import api_url, open_client
    from callnotes.sync.demo import start_demo_emulator

    if api_url(settings):
        with open_client(settings) as client:
            yield client
        return
    console.print("No CRM configured: importing from a temporary demo emulator.", style="yellow")
    server = start_demo_emulator()
    try:
        with open_client(settings, url=server.api_url) as client:
            yield client
    finally:
        server.stop()


class _Bars:
    """One rich progress bar per phase, fed by import progress events."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        if self._progress is None:
            return
        if event.phase not in self._tasks:
            self._tasks[event.phase] = self._progress.add_task(event.phase, total=event.total or None)
        self._progress.update(self._tasks[event.phase], completed=event.done, total=event.total or None)


def _progress(console: Console) -> Progress | None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=False) if console.is_terminal else None


def import_accounts() -> None:
    """Import my accounts, territories, PODs, account team, open opportunities and milestones."""
    from rich.console import Console

    from callnotes.config import load_settings
    from callnotes.store import make_engine, make_session_factory, upgrade_database
    from callnotes.sync.connection import link_org
    from callnotes.sync.jobs import run_recorded_import

    settings = load_settings()
    console = Console(stderr=True)
    progress = _progress(console)
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with _client(settings, console) as client, progress or contextlib.nullcontext():
            summary = run_recorded_import(client, make_session_factory(engine), progress=_Bars(progress),
                                          crm_url=link_org(settings))  # never beside a refresh
    finally:
        engine.dispose()
    for line in summary.lines():
        typer.echo(line)


def login_command() -> None:
    """Sign in to MSX with a device code (CALLNOTES_AUTH=device-code): shows the code and the link."""
    from callnotes.config import load_settings
    from callnotes.sync.connection import device_code_provider

    provider = device_code_provider(load_settings())
    prompt = provider.start()
    typer.echo(f"Open {prompt.verification_uri} and enter the code {prompt.user_code}")
    typer.echo(f"(the code expires at {prompt.expires_at:%H:%M} UTC; waiting for you to sign in…)")
    token = provider.wait(timeout=_SIGN_IN_MINUTES * 60 + 30)
    typer.echo(f"Signed in as {token.display_name}; the token cache refreshes silently from now on.")


def logout_command() -> None:
    """Forget the cached device-code sign-in (the 0600 token cache in the data dir)."""
    from callnotes.config import load_settings
    from callnotes.sync.connection import device_code_provider

    device_code_provider(load_settings()).clear()
    typer.echo("Signed out: the MSX token cache is cleared.")


def whoami_command() -> None:
    """Check the MSX connection (VPN, token): who am I, and until when is the token valid."""
    from callnotes.config import load_settings
    from callnotes.msx.errors import MsxError
    from callnotes.sync.connection import connection_status

    status = connection_status(load_settings())
    if not status.connected:
        raise MsxError(status.error or "Not connected to MSX.")
    expires = f"{status.expires_on:%Y-%m-%d %H:%M} UTC" if status.expires_on else "unknown"
    typer.echo(f"{status.user_name or 'signed in'} (user {status.user_id}) on {status.crm_url}")
    typer.echo(f"token valid until {expires}")


def worker_command(
    workers: int = typer.Option(2, "--workers", min=1, max=16, help="Worker threads."),
) -> None:
    """Run a job-queue consumer in the foreground (imports, CRM writes); Ctrl+C stops it."""
    from callnotes.config import load_settings
    from callnotes.sync.runtime import open_runtime

    settings = load_settings()
    with open_runtime(settings) as runtime:
        where = "Redis" if settings.redis_url else "SQLite in the data dir"
        typer.echo(f"callnotes worker: {workers} thread(s) on the job queue ({where}); Ctrl+C stops")
        runtime.queue.consumer(workers=workers, in_process=False).run()


def sync_command(
    no_refresh: bool = typer.Option(False, "--no-refresh", help="Only send the outbox (no refresh first)."),
) -> None:
    """Refresh the MSX mirror, then send every write that may leave (exit 3: MSX unreachable)."""
    from callnotes.config import load_settings
    from callnotes.sync.runtime import open_runtime
    from callnotes.sync.sync_run import run_sync

    with open_runtime(load_settings()) as runtime:
        result = run_sync(runtime.queue.context, refresh=not no_refresh)
    for line in result.lines:
        typer.echo(line)
    if result.exit_code:
        for error in result.errors:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(result.exit_code)


def outbox_list(
    ctx: typer.Context,
    all_rows: bool = typer.Option(False, "--all", help="Also sent and discarded rows."),
    as_json: bool = typer.Option(False, "--json", help="JSON (the shape of GET /api/outbox)."),
) -> None:
    """Writes waiting for MSX, one a line: id, state, what it does, why it waits."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from callnotes.sync.outbox_view import outbox_rows

    rows = outbox_rows(all_rows=all_rows)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        why = f"  ({row['last_error']})" if row["last_error"] and row["state"] != "sent" else ""
        typer.echo(f"{row['id']:>6}  {row['state']:<17} {row['summary']}{why}")
    if not rows:
        typer.echo("nothing waiting for MSX")


def _outbox_action(verb: str) -> Callable[..., None]:
    def action(
        ids: list[int] = typer.Argument(None, help="Outbox row ids."),
        all_rows: bool = typer.Option(False, "--all", help="Every row this applies to."),
    ) -> None:
        from callnotes.sync.outbox_view import decide

        if not ids and not all_rows:
            raise typer.BadParameter("give row ids or --all")
        changed = decide(verb, None if all_rows else ids)
        listed = f" ({', '.join(map(str, changed))})" if changed else ""
        typer.echo(f"{verb}: {len(changed)} row(s){listed}")

    action.__name__ = f"outbox_{verb}"
    return action
