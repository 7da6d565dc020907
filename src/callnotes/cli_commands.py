"""Imports every module that adds commands to ``callnotes.cli.app``.

One line per area; each module defines its commands with ``@app.command`` or ``app.add_typer``.
"""

from __future__ import annotations

import importlib
import logging

_log = logging.getLogger(__name__)

_COMMAND_MODULES = (
    "callnotes.emulator.cli",
    "callnotes.dataverse.cli",
    "callnotes.store.cli",
    "callnotes.web.cli",
    "callnotes.msx.cli",
    "callnotes.sync.cli",
)

for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # an area not built yet
        if exc.name is None or not _name.startswith(exc.name):
            raise
