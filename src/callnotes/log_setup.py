"""Logging setup: one call, stderr, never a token in the output.

(Named ``log_setup`` so it never shadows the standard library's ``logging``.)
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.~+/=]+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*")
#: Read here directly (it is also ``Settings.log_level``) so the CLI can log before any heavy import.
LOG_LEVEL_ENV = "CALLNOTES_LOG_LEVEL"


def redact(text: str) -> str:
    """Replace bearer tokens and JWTs in ``text`` with a marker."""
    return _JWT.sub("<redacted-jwt>", _BEARER.sub(r"\1<redacted>", text))


class RedactingFilter(logging.Filter):
    """Scrubs tokens from every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _CallnotesHandler(logging.StreamHandler[TextIO]):
    """The one stderr handler callnotes installs (recognised by type, so setup runs once). It
    writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.addFilter(RedactingFilter())

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """The stream is always the current ``sys.stderr``."""


def level_from_env(default: str = "INFO") -> str:
    return os.environ.get(LOG_LEVEL_ENV, default).upper()


def setup_logging(level: str | int | None = None) -> None:
    """Configure the root logger once; repeated calls only change the level (default: the env's)."""
    root = logging.getLogger()
    root.setLevel(level if level is not None else level_from_env())
    if not any(isinstance(h, _CallnotesHandler) for h in root.handlers):
        root.addHandler(_CallnotesHandler())
