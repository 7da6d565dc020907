"""The ``callnotes`` command line. Each area registers its commands here; errors end at ``main``.

Only Typer loads up front: each area's commands import what they need when they run, so
``callnotes --help`` answers fast (bench/cli_startup_bench.py).
"""

from __future__ import annotations

import logging
import sys

import typer

# ``import a.b as c``, not ``from a import b``: the latter would make the store's and the emulator's
# lazy ``__getattr__`` load their whole public surface before finding the submodule.
import callnotes.emulator.cli as emulator_cli
import callnotes.store.cli as store_cli
import callnotes.sync.cli as sync_cli
import callnotes.web.cli as web_cli
from callnotes.log_setup import setup_logging

_log = logging.getLogger(__name__)


def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    setup_logging("DEBUG" if verbose else None)


def build_app() -> typer.Typer:
    """The top-level app with every area's commands."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, help="callnotes: call notes wired to MSX.",
                      rich_markup_mode=None)
    app.callback()(_root)
    for area in (emulator_cli, store_cli, sync_cli, web_cli):
        area.register(app)
    return app


def _user_errors() -> tuple[type[BaseException], ...]:
    """Every typed error a person can act on, from each layer (imported when one is raised)."""
    from sqlalchemy.exc import SQLAlchemyError

    from callnotes.dataverse import DataverseError
    from callnotes.msx.errors import MsxError
    from callnotes.store.errors import StoreError
    from callnotes.sync.errors import SyncError

    return (DataverseError, MsxError, StoreError, SyncError, SQLAlchemyError, OSError)


def main() -> None:
    """Entry point: run the Typer app; typed errors become one readable line and exit 1.

    This is the one place the CLI maps errors: commands let typed errors propagate.
    """
    try:
        build_app()()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        _log.debug("command failed", exc_info=exc)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
