"""``callnotes import accounts``: the MSX import on the command line, with a progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from callnotes.cli import app
from callnotes.config import Settings, load_settings
from callnotes.dataverse import DataverseClient, DataverseError
from callnotes.msx.connection import api_url, link_org, open_client
from callnotes.msx.errors import MsxError
from callnotes.msx.progress import ProgressEvent
from callnotes.store import StoreError, make_engine, make_session_factory, upgrade_database

import_app = typer.Typer(no_args_is_help=True, help="Import from MSX into the local store.")
app.add_typer(import_app, name="import")


@contextlib.contextmanager
def _client(settings: Settings, console: Console) -> Iterator[DataverseClient]:
    """The configured CRM; in demo mode with no emulator running, a temporary one."""
    if api_url(settings):
        with open_client(settings) as client:
            yield client
        return
    from callnotes.msx.demo import start_demo_emulator

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


@import_app.command("accounts")
def import_accounts() -> None:
    """Import my accounts, territories, PODs, account team, open opportunities and milestones."""
    from callnotes.msx.importer import run_import

    settings = load_settings()
    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=False) if console.is_terminal else None
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with _client(settings, console) as client, progress or contextlib.nullcontext():
            summary = run_import(client, make_session_factory(engine), progress=_Bars(progress),
                                 crm_url=link_org(settings))
    except (MsxError, DataverseError, StoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for line in summary.lines():
        typer.echo(line)
