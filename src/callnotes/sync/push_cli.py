"""``callnotes push --mapping FILE [--dry-run]`` (DESIGN.md §Contracts, generic sync).

Prints, per mapping, what was (or would be) created, updated, left unchanged or skipped; exit 0 when
every record is in sync, 1 on errors (each listed on stderr). A bad mapping file is one
``error: FILE:LINE: …`` line and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)


def push_command(
    mapping: list[Path] = typer.Option(..., "--mapping", help="A mapping file (TOML); may be repeated."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be created / updated / skipped."),
) -> None:
    """Push callnotes records to a Dynamics 365 org by declarative mappings (create-or-update)."""
    from callnotes.config import load_settings
    from callnotes.sync.mappings import load_mappings
    from callnotes.sync.push_run import push_files
    from callnotes.sync.runtime import open_runtime

    for path in mapping:
        load_mappings(path)  # a bad file stops here, before the database or the CRM is touched
    with open_runtime(load_settings()) as runtime:
        reports = push_files(runtime.queue.context, mapping, dry_run=dry_run)
    for report in reports:
        for line in report.lines():
            typer.echo(line)
    problems = [f"{r.mapping}: {e}" for r in reports for e in r.errors]
    problems += [f"{r.mapping}: stopped: {r.stopped}" for r in reports if r.stopped]
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
