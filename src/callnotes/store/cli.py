"""Store commands: ``callnotes export``, ``callnotes import-file``, ``callnotes db upgrade|seed-demo``.

Exit codes: 0 success; 1 the command could not run (unreadable / malformed file, database error —
nothing changed); 2 the import kept the good rows but rejected some (listed on stderr with lines).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from callnotes.store.errors import ImportReport

_log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level app (SQLAlchemy loads only when one runs)."""
    db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
    db_app.command("upgrade")(db_upgrade)
    db_app.command("seed-demo")(db_seed_demo)
    app.add_typer(db_app, name="db")
    app.command("export")(export_command)
    app.command("import-file")(import_file_command)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _database_url() -> str:
    from callnotes.config import load_settings

    return load_settings().resolved_database_url()


@contextmanager
def _store_session(failure: str) -> Iterator[Session]:
    """One committed unit of work on an upgraded database; errors become ``error: <failure>: …``.

    The engine is disposed on the way out, so no connection outlives the command.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
    from callnotes.store.errors import StoreError

    url = _database_url()
    try:
        upgrade_database(url)
        engine = make_engine(url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                yield session
        finally:
            engine.dispose()
    except (StoreError, SQLAlchemyError, OSError) as exc:
        raise _fail(f"{failure}: {exc}") from None


def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest version."""
    from sqlalchemy.exc import SQLAlchemyError

    from callnotes.store.db import upgrade_database

    try:
        upgrade_database(_database_url())
    except SQLAlchemyError as exc:
        raise _fail(f"could not upgrade the database: {exc.__class__.__name__}: {exc}") from None
    typer.echo("database is up to date")


def db_seed_demo() -> None:
    """Add the small demo data set (only into an empty database)."""
    from callnotes.store.demo import seed_demo

    with _store_session("demo data not added") as session:
        seeded = seed_demo(session)
    typer.echo("demo data added" if seeded else "database is not empty; demo data not added")


def export_command(
    path: str = typer.Argument(..., help="File to write, or - for standard output."),
) -> None:
    """Export everything (customers, notes, topics, MSX records…) as JSON."""
    from callnotes.store.backup import write_export

    with _store_session("export failed") as session:
        count = write_export(session, sys.stdout if path == "-" else Path(path))
    if path != "-":
        typer.echo(f"exported {count} records to {path}", err=True)


def _print_report(report: ImportReport) -> None:
    for kind in sorted(set(report.created) | set(report.updated)):
        typer.echo(f"{kind}: {report.created.get(kind, 0)} created, {report.updated.get(kind, 0)} updated")
    for error in report.errors:
        typer.echo(f"rejected {error}", err=True)


def import_file_command(
    path: Path = typer.Argument(..., help="A callnotes JSON export, or a CSV of customers or notes."),
) -> None:
    """Import a JSON export or a CSV file; bad rows are reported with their line and skipped."""
    from callnotes.store.errors import ImportFileError
    from callnotes.store.import_files import import_source, read_import_file

    try:  # read and parse first: no transaction is open while a large file is parsed
        source = read_import_file(path)
    except (ImportFileError, OSError) as exc:
        raise _fail(f"nothing imported: {exc}") from None
    with _store_session("nothing imported") as session:
        report = import_source(session, source)
    _print_report(report)
    if report.errors:
        typer.echo(f"{len(report.errors)} row(s) rejected; the other rows were imported", err=True)
        raise typer.Exit(2)
