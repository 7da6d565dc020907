"""Typed errors from the Dataverse Web API, and the one place that maps an HTTP answer to them.

The error body shape ``{"error": {"code": "0x...", "message": "..."}}`` is documented in
powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md (Parse errors
from the response). Service protection 429 answers carry ``Retry-After``
(powerapps-docs/developer/data-platform/api-limits.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from callnotes.dataverse.retry import parse_retry_after

#: Dataverse error codes the client treats specially.
CODE_NOT_FOUND = "0x80040217"
CODE_DUPLICATE_KEY = "0x80040237"
CODE_IP_BLOCKED = "0x80095ffe"
CODE_THROTTLED = ("0x80072322", "0x80072321", "0x80072326")

_IP_BLOCKED_TEXT = "ip address is blocked"


class DataverseError(Exception):
    """Any failure talking to Dataverse. ``str()`` is a sentence a person can act on."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.attempts = 1  # how many times the request was sent before this error


class BadRequest(DataverseError):
    """400: the CRM rejected the request (bad query, validation error)."""


class AuthError(DataverseError):
    """No usable token, or the CRM refused it (401 / 403 other than an IP block)."""


class SignInUnreachable(AuthError):
    """The sign-in service (the authority) could not be reached: the network, not the account."""


class NetworkBlocked(DataverseError):
    """403 ``0x80095ffe`` / "IP address is blocked": the machine is off the corporate network."""


class NotFound(DataverseError):
    """404: the record or entity set does not exist."""


class Conflict(DataverseError):
    """409: the request conflicts with the current state of the record."""


class DuplicateKey(Conflict):
    """A record with the same key already exists (``0x80040237``)."""


class PreconditionFailed(DataverseError):
    """412: the ETag in ``If-Match`` / ``If-None-Match`` did not match."""


class Throttled(DataverseError):
    """429: a service protection limit was hit and the retry budget ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(DataverseError):
    """5xx (or 408) from the CRM that did not go away within the retry budget."""


class TransportError(DataverseError):
    """The connection failed (reset, refused, timed out) and retries did not help."""


class BadResponse(DataverseError):
    """The CRM answered with something that is not the documented shape (HTML, bad JSON, missing field)."""


class PagingError(DataverseError):
    """Paging went wrong: the service handed back a page it had already sent."""


class BatchError(DataverseError):
    """A ``$batch`` request could not be built or its answer could not be read."""


def _parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """``(code, message)`` from a Dataverse error body, ``(None, None)`` if it is not one."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (str(code) if code is not None else None), (str(message) if message is not None else None)


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


def _is_ip_block(status: int, code: str | None, message: str | None) -> bool:
    if code and code.lower() == CODE_IP_BLOCKED:
        return True
    return status == 403 and _IP_BLOCKED_TEXT in (message or "").lower()


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    what: str = "request",
) -> DataverseError:
    """The typed error for one failed HTTP answer. ``what`` names the request for the message."""
    code, message = _parse_error_body(body)
    detail = message or (_snippet(body) if body else None)
    kwargs: dict[str, Any] = {"status": status, "code": code, "detail": detail}
    said = f": {message}" if message else (f" (body: {_snippet(body)})" if body else "")
    if _is_ip_block(status, code, message):
        return NetworkBlocked(
            "VPN seems down: MSX answered 'IP address is blocked'. Connect to the corporate VPN "
            "(or the office network) and try again.",
            **kwargs,
        )
    if code and code.lower() == CODE_DUPLICATE_KEY:
        return DuplicateKey(f"{what} failed: a record with this key already exists{said}", **kwargs)
    return _error_for_status(status, headers, what, said, kwargs)


def _error_for_status(
    status: int, headers: Mapping[str, str], what: str, said: str, kwargs: dict[str, Any]
) -> DataverseError:
    if status == 401:
        return AuthError(f"MSX refused the sign-in token (401){said}. Sign in again.", **kwargs)
    if status == 403:
        return AuthError(f"MSX denied access to this {what} (403){said}.", **kwargs)
    if status == 404:
        return NotFound(f"{what} failed: not found (404){said}", **kwargs)
    if status == 409:
        return Conflict(f"{what} failed: conflict (409){said}", **kwargs)
    if status == 412:
        return PreconditionFailed(
            f"{what} failed: the record changed since it was read (412){said}. Reload and retry.", **kwargs
        )
    if status == 429:
        wait = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
        hint = f" Try again in {wait:.0f} s." if wait is not None else " Try again in a minute."
        return Throttled(f"MSX is throttling requests (429){said}.{hint}", retry_after=wait, **kwargs)
    if status == 408 or status >= 500:
        return ServerError(
            f"MSX had a server error on this {what} ({status}){said}. Try again later.", **kwargs
        )
    if 400 <= status < 500:
        return BadRequest(f"MSX rejected this {what} ({status}){said}", **kwargs)
    return BadResponse(f"MSX gave an unexpected answer to this {what} ({status}){said}", **kwargs)


class RolledBack(BatchError):
    """A change set part that succeeded on its own but was rolled back because another part failed."""


class NotExecuted(BatchError):
    """A ``$batch`` part the service never ran (an earlier part failed without continue-on-error)."""
