"""Who may post to the webhook receiver: the key in each form Dataverse sends it, the signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from callnotes.config import Settings
from callnotes.sync.webhooks import WebhookMalformed, WebhookUnauthorized, authenticate, parse_delivery

BODY = b'{"MessageName": "Update"}'


def _settings(**values: object) -> Settings:
    return Settings(webhook_key="the-key", **values)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({"code": "the-key"}, {}),  # WebhookKey
        ({"x-callnotes-key": "the-key"}, {}),  # HttpQueryString
        ({}, {"X-Callnotes-Key": "the-key"}),  # HttpHeader, any case
        ({"code": "wrong"}, {"x-callnotes-key": "the-key"}),  # one right form is enough
    ],
)
def test_the_key_in_any_form_dataverse_sends(query: dict, headers: dict) -> None:
    authenticate(_settings(), query, headers, BODY)


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({}, {}),
        ({"code": "the-ke"}, {}),
        ({"code": "the-key "}, {}),
        ({"key": "the-key"}, {}),
        ({}, {"Authorization": "the-key"}),
        ({"code": ""}, {}),
    ],
)
def test_anything_else_is_refused(query: dict, headers: dict) -> None:
    with pytest.raises(WebhookUnauthorized, match="key is missing or wrong"):
        authenticate(_settings(), query, headers, BODY)


def test_without_a_configured_key_nothing_gets_in() -> None:
    with pytest.raises(WebhookUnauthorized, match="CALLNOTES_WEBHOOK_KEY"):
        authenticate(Settings(), {"code": ""}, {}, BODY)


def test_a_custom_key_name() -> None:
    authenticate(_settings(webhook_key_name="X-Dv-Key"), {}, {"x-dv-key": "the-key"}, BODY)


def test_the_signature_of_the_raw_body() -> None:
    settings = _settings(webhook_secret="s3cret")
    signature = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    authenticate(settings, {"code": "the-key"}, {"X-MS-Signature": signature}, BODY)
    authenticate(settings, {"code": "the-key"}, {"x-ms-signature": f"sha256={signature.upper()}"}, BODY)
    for bad in ({}, {"X-MS-Signature": signature[:-1]}, {"X-MS-Signature": signature}):
        with pytest.raises(WebhookUnauthorized, match="X-MS-Signature"):
            authenticate(settings, {"code": "the-key"}, bad, BODY + b" " if bad else BODY)


@pytest.mark.parametrize("body", [b"", b"null", b"{", b"\xff", b"[" * 100_000, b"x" * (1024 * 1024 + 1)])
def test_bodies_that_are_not_contexts(body: bytes) -> None:
    with pytest.raises(WebhookMalformed, match=r"RemoteExecutionContext|larger than"):
        parse_delivery(body)
