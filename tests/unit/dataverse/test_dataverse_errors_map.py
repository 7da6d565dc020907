"""Mapping Dataverse error answers to typed errors (the error body shape is documented in
powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md)."""

from __future__ import annotations

import json

import pytest

from callnotes.dataverse import (
    AuthError,
    BadRequest,
    Conflict,
    DuplicateKey,
    NetworkBlocked,
    NotFound,
    PreconditionFailed,
    ServerError,
    Throttled,
)
from callnotes.dataverse.errors import error_from_response


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (404, "0x80040217", NotFound),
        (409, "0x80040237", DuplicateKey),
        (412, "0x80040237", DuplicateKey),
        (409, "0x80040265", Conflict),
        (412, "0x80060882", PreconditionFailed),
        (401, "0x8005F101", AuthError),
        (403, "0x80040220", AuthError),
        (400, "0x80044331", BadRequest),
        (500, "0x80040216", ServerError),
        (503, "0x80040216", ServerError),
        (408, "", ServerError),
    ],
)
def test_status_and_code_map_to_types(status: int, code: str, kind: type) -> None:
    error = error_from_response(status, {}, _body(code, "said so"), what="GET accounts")
    assert type(error) is kind
    assert error.status == status and "said so" in str(error)


def test_ip_block_by_code_or_text_says_what_to_do() -> None:
    by_code = error_from_response(403, {}, _body("0x80095ffe", "denied"))
    by_text = error_from_response(403, {}, _body("0x0", "Your IP address is blocked."))
    for error in (by_code, by_text):
        assert isinstance(error, NetworkBlocked)
        assert str(error).startswith("VPN seems down: MSX answered 'IP address is blocked'")


def test_throttled_carries_retry_after() -> None:
    error = error_from_response(
        429, {"retry-after": "12"}, _body("0x80072322", "Number of requests exceeded")
    )
    assert isinstance(error, Throttled) and error.retry_after == 12.0 and "12 s" in str(error)


def test_non_json_and_html_bodies_still_give_typed_errors() -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    error = error_from_response(502, {}, html)
    assert isinstance(error, ServerError) and "502 Bad Gateway" in str(error)
    odd = error_from_response(418, {}, b"\xff\xfe")
    assert isinstance(odd, BadRequest)
    missing = error_from_response(404, {}, json.dumps({"error": "nope"}).encode())
    assert isinstance(missing, NotFound) and missing.code is None
