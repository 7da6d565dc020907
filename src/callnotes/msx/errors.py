"""Typed errors of the MSX layer, and the one place that turns any error into a sentence."""

from __future__ import annotations


class MsxError(Exception):
    """Base of every error raised by callnotes.msx."""


class MalformedCrmAnswer(MsxError):
    """MSX answered with a row or body that does not have the shape the reference documents."""

    def __init__(self, entity: str, field: str, reason: str) -> None:
        self.entity, self.field, self.reason = entity, field, reason
        super().__init__(f"MSX sent a malformed {entity}: field {field!r} {reason}")


class MsxNotFound(MsxError):
    """A record asked for by number, TPID or id does not exist in MSX."""


class VpnDown(MsxError):
    """MSX refused the connection at the network level (corpnet / VPN)."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "VPN seems down: MSX is only reachable on the Microsoft corporate network. "
            "Connect the VPN and retry."
        )
        super().__init__(f"{message} ({detail})" if detail else message)


class ImportCancelled(MsxError):
    """The user cancelled an import; nothing half-written was committed."""

    def __init__(self) -> None:
        super().__init__("Import cancelled; the store was left as it was before the import.")


class InvalidInput(MsxError, ValueError):
    """A value given by the user (TPID, email, number, id) cannot be valid."""
