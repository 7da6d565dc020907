"""Logging setup: one call, stderr, never a token in the output."""

from __future__ import annotations

import logging
import re

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.~+/=]+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*")


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


def setup_logging(level: str | int = "INFO") -> None:
    """Configure the root logger once; repeated calls only change the level."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_callnotes", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._callnotes = True  # type: ignore[attr-defined]
        root.addHandler(handler)
