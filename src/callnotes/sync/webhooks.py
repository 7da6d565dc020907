"""The Dataverse webhook receiver's logic (the route is web/routes/webhooks.py): who may post, what the
body says, and applying it to the MSX mirror once.

Authentication (register-web-hook.md "Authentication options"): the key ``CALLNOTES_WEBHOOK_KEY`` as
``?code=`` (WebhookKey), or in a header or query parameter named ``CALLNOTES_WEBHOOK_KEY_NAME``
(HttpHeader, HttpQueryString). With ``CALLNOTES_WEBHOOK_SECRET`` the raw body must also carry its
HMAC-SHA256 (hex) in ``X-MS-Signature``, as the sync guide (reference/002) verifies it. Every
comparison is constant-time; anything else is `WebhookUnauthorized` and nothing is read further.

A delivery is applied once: its OperationId (or the SHA-256 of the body when it has none) is recorded
with the outcome; a delivery older than one already applied to the same record is "stale" and ignored.
Tables callnotes does not mirror, and records it does not hold, are acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from callnotes.config import Settings
from callnotes.dataverse import MalformedContext, RemoteExecutionContext, parse_remote_context
from callnotes.store import Conflict, session_scope
from callnotes.store.repo import webhook_deliveries
from callnotes.store.repo.remote_changes import ChangeOutcome
from callnotes.sync.context import SyncContext
from callnotes.sync.errors import SyncError
from callnotes.sync.webhook_apply import MIRRORED, apply_context

_log = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-ms-signature"
#: Bodies larger than this are refused before parsing (Dataverse trims contexts above 256 KB).
MAX_BODY = 1024 * 1024


class WebhookUnauthorized(SyncError):
    """The request does not carry the configured key (or signature)."""


class WebhookMalformed(SyncError):
    """The body is not a RemoteExecutionContext."""


@dataclass(frozen=True)
class WebhookOutcome:
    outcome: str  # applied | unchanged | duplicate | stale | ignored
    message: str
    entity: str
    record_id: str

    def as_json(self) -> dict[str, str]:
        return {"outcome": self.outcome, "message": self.message, "entity": self.entity,
                "record_id": self.record_id}


def authenticate(settings: Settings, query: Mapping[str, str], headers: Mapping[str, str],
                 body: bytes) -> None:
    """`WebhookUnauthorized` unless the key (and, when configured, the signature) is right."""
    key = settings.webhook_key.get_secret_value() if settings.webhook_key else ""
    if not key:
        raise WebhookUnauthorized("webhooks are not enabled here: set CALLNOTES_WEBHOOK_KEY")
    name = settings.webhook_key_name.lower()
    offered = [query.get("code"), _get(query, name), _get(headers, name)]
    matches = [hmac.compare_digest(value.encode(), key.encode()) for value in offered if value]
    if not any(matches):
        raise WebhookUnauthorized("the webhook key is missing or wrong")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if secret:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        given = (_get(headers, SIGNATURE_HEADER) or "").strip().lower().removeprefix("sha256=")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookUnauthorized("the X-MS-Signature of the body is missing or wrong")


def _get(values: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in values.items() if key.lower() == name), None)


def parse_delivery(body: bytes) -> RemoteExecutionContext:
    if len(body) > MAX_BODY:
        raise WebhookMalformed(f"the body is larger than {MAX_BODY // 1024} KB")
    try:
        document = json.loads(body.decode("utf-8"))
        return parse_remote_context(document)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, MalformedContext) else f"not JSON ({type(exc).__name__})"
        raise WebhookMalformed(f"not a Dataverse RemoteExecutionContext: {reason}") from exc


def receive(context: SyncContext, body: bytes) -> WebhookOutcome:
    """Parse and apply one delivery (`WebhookMalformed` when the body is not a context)."""
    change = parse_delivery(body)
    if change.entity not in MIRRORED:
        return _result(change, "ignored", f"callnotes does not mirror {change.entity}")
    key = change.operation_id or hashlib.sha256(body).hexdigest()
    try:
        with session_scope(context.session_factory) as session:
            result = _apply_once(session, change, key)
    except Conflict:  # the same delivery, applied by a parallel request a moment ago
        return _result(change, "duplicate", "this delivery was applied already")
    _log.info("webhook %s %s %s: %s", change.message, change.entity, change.record_id, result.outcome)
    return result


def _apply_once(session: Session, change: RemoteExecutionContext, key: str) -> WebhookOutcome:
    if webhook_deliveries.seen_delivery(session, key):
        return _result(change, "duplicate", "this delivery was applied already")
    if webhook_deliveries.newer_applied(session, change.entity, change.record_id, change.created_on):
        result = _result(change, "stale", "a newer change to this record was applied already")
    else:
        result = _result(change, *_OUTCOMES[apply_context(session, change)])
    webhook_deliveries.record_delivery(session, key=key, message=change.message, entity=change.entity,
                                       record_id=change.record_id, created_on=change.created_on,
                                       outcome=result.outcome)
    return result


_OUTCOMES = {
    ChangeOutcome.APPLIED: ("applied", "applied to the mirror"),
    ChangeOutcome.UNCHANGED: ("unchanged", "the mirror already held this"),
    ChangeOutcome.NOT_MIRRORED: ("ignored", "callnotes does not hold this record"),
}


def prune(context: SyncContext) -> int:
    """Forget delivery keys older than two weeks (a daily task on the job queue)."""
    with session_scope(context.session_factory) as session:
        return webhook_deliveries.prune_deliveries(session)


def _result(change: RemoteExecutionContext, outcome: str, message: str) -> WebhookOutcome:
    return WebhookOutcome(outcome, message, change.entity, change.record_id)
