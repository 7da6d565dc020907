"""Imports every module that adds commands to ``callnotes.cli.app``.

One line per area; each module defines its commands with ``@app.command`` or ``app.add_typer``.
"""

from __future__ import annotations

import callnotes.emulator.cli
import callnotes.msx.cli
import callnotes.msx.signin_cli
import callnotes.store.cli
import callnotes.web.cli  # noqa: F401
