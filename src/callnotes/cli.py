"""The ``callnotes`` command line. Each area registers its commands here; errors end at ``main``."""

from __future__ import annotations

import logging
import sys

import typer

from callnotes.config import load_settings
from callnotes.logging import setup_logging

app = typer.Typer(no_args_is_help=True, add_completion=False, help="callnotes: call notes wired to MSX.")
_log = logging.getLogger(__name__)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    settings = load_settings()
    setup_logging("DEBUG" if verbose else settings.log_level)


def _register_commands() -> None:
    """Import the command modules so their ``@app.command`` decorators run."""
    from callnotes import cli_commands  # noqa: F401


def _user_errors() -> tuple[type[BaseException], ...]:
    """Every typed error a person can act on, from each layer (imported late: the CLI sits on top)."""
    from sqlalchemy.exc import SQLAlchemyError

    from callnotes.dataverse import DataverseError
    from callnotes.msx.errors import MsxError
    from callnotes.store.errors import StoreError

    return (DataverseError, MsxError, StoreError, SQLAlchemyError, OSError)


def main() -> None:
    """Entry point: run the Typer app; typed errors become one readable line and exit 1.

    This is the one place the CLI maps errors: commands let typed errors propagate.
    """
    _register_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except _user_errors() as exc:
        _log.debug("command failed", exc_info=exc)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
