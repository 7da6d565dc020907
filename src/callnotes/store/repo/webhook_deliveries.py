"""Webhook deliveries taken in: each applied once, an older one never undoing a newer one.

Dataverse may post the same system job more than once (a retry after a timeout); `seen_delivery` says
whether a delivery key (its OperationId, else a hash of the body) was recorded. `newer_applied` says
whether a later change to the same record was applied already (deliveries can arrive out of order).
The caller commits; a race between two identical deliveries ends in the unique key (`Conflict`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.models import WebhookDelivery
from callnotes.store.repo._common import in_chunks

#: How long delivery keys are kept (Dataverse retries within hours, not weeks).
KEEP = timedelta(days=14)


def seen_delivery(session: Session, key: str) -> bool:
    query = select(WebhookDelivery.id).where(WebhookDelivery.delivery_key == key)
    return session.scalars(query).first() is not None


def newer_applied(session: Session, entity: str, record_id: str, created_on: datetime) -> bool:
    """A change to the same record made after ``created_on`` was applied already."""
    query = select(WebhookDelivery.id).where(
        WebhookDelivery.entity == entity, WebhookDelivery.record_id == record_id,
        WebhookDelivery.outcome == "applied", WebhookDelivery.operation_created_on > created_on)
    return session.scalars(query.limit(1)).first() is not None


def record_delivery(session: Session, *, key: str, message: str, entity: str, record_id: str,
                    created_on: datetime, outcome: str, detail: str | None = None) -> WebhookDelivery:
    row = WebhookDelivery(delivery_key=key, message=message[:40], entity=entity[:100], record_id=record_id,
                          operation_created_on=created_on, received_at=utcnow(), outcome=outcome,
                          detail=detail[:2000] if detail else None)
    session.add(row)
    session.flush()
    return row


def prune_deliveries(session: Session, *, keep: timedelta = KEEP) -> int:
    """Forget deliveries older than ``keep``; how many were removed."""
    cutoff = utcnow() - keep
    old = list(session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.received_at < cutoff)))
    for chunk in in_chunks(old):
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(chunk)))
    return len(old)
