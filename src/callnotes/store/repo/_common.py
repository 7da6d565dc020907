"""Helpers shared by the repositories (private)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from callnotes.store.errors import NotFound, ValidationError

_M = TypeVar("_M")
_V = TypeVar("_V")

#: The default of every field of a partial change (``NoteUpdate``, ``CustomerUpdate``): "not given".
UNSET: Any = object()


def given_fields(change: Any) -> dict[str, Any]:
    """The fields of the dataclass ``change`` that are not :data:`UNSET`, by name."""
    return {f.name: getattr(change, f.name) for f in fields(change) if getattr(change, f.name) is not UNSET}


def get_or_raise(session: Session, model: type[_M], record_id: int, kind: str) -> _M:
    """``session.get`` or :class:`NotFound`."""
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(kind, record_id)
    return record


def required_text(value: str | None, field: str, max_length: int) -> str:
    """Strip ``value``; refuse empty or over-long text with a :class:`ValidationError`."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return text


def optional_text(value: str | None, field: str, max_length: int) -> str | None:
    """Strip ``value``; empty becomes None; refuse over-long text."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters", field=field)
    return text or None


#: A host name as people type it without a scheme ("contoso.com", "www.contoso.com/about").
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_BARE_HOST = re.compile(rf"(?i){_LABEL}(?:\.{_LABEL})+(?:[/?#]\S*)?")
_LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    try:
        return host in _LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_link_url(value: str | None) -> bool:
    """True when ``value`` may become a link in a page: an absolute ``https://`` URL with a host, or
    ``http://`` on the loopback (the CRM's own origin in demo mode: the embedded emulator). No
    ``javascript:``, ``data:``, user names in the host part, spaces or control characters."""
    if not value or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    if not host or "@" in parts.netloc or "\\" in value:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))


def link_url(value: str | None, field: str, max_length: int) -> str | None:
    """A URL stored to be shown as a link (a customer's website, its MSX page): stripped, empty
    becomes None, a bare host name ("contoso.com") gets ``https://``; anything else that is not
    :func:`is_link_url` (``javascript:…``, ``http://`` elsewhere) is a :class:`ValidationError`."""
    text = optional_text(value, field, max_length)
    if text is None:
        return None
    if "://" not in text and _BARE_HOST.fullmatch(text):
        text = f"https://{text}"
    if not is_link_url(text) or len(text) > max_length:
        raise ValidationError(f"{field} must be an https:// address, not {text[:100]!r}", field=field)
    return text


def like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` (wildcards in ``text`` escaped by ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def like_contains(text: str) -> str:
    """A LIKE pattern matching values that contain ``text`` (wildcards escaped by ``\\``)."""
    return f"%{like_prefix(text)}"


def apply_changes(record: Any, values: dict[str, Any]) -> bool:
    """Set each attribute that differs; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


#: Values per ``IN (…)`` list: well under SQLite's and PostgreSQL's bound-parameter limits.
IN_CHUNK = 500


def in_chunks(values: list[_V], size: int = IN_CHUNK) -> Iterator[list[_V]]:
    """``values`` in slices of at most ``size`` (for ``IN`` lists)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def page_count(total: int, per_page: int) -> int:
    """Pages of ``per_page`` rows that ``total`` rows fill (one, empty, when there are none)."""
    return max(1, -(-total // per_page))
