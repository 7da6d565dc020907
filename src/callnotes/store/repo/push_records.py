"""Per-record push state of ``callnotes push``: what was last sent under a mapping, and why a try failed.

A record is in sync under a mapping when its `PushRecord` holds the fingerprint of what it would send
now and no error. One row per (mapping, source uid); the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ValidationError
from callnotes.store.models import PushRecord
from callnotes.store.repo._common import in_chunks

#: Longest failure reason kept (a CRM message can be long).
ERROR_MAX = 2000


@dataclass(frozen=True)
class PushTarget:
    """Which local record, under which mapping, goes to which table."""

    mapping: str
    source_kind: str
    source_uid: str
    target_table: str


@dataclass(frozen=True)
class KnownPush:
    """What the store knows of one record's push (a plain value, usable after the session closed)."""

    target_id: str | None
    fingerprint: str | None
    last_error: str | None
    error_kind: str | None
    next_attempt_at: datetime | None
    attempts: int


def known_pushes(session: Session, mapping: str, uids: Collection[str]) -> dict[str, KnownPush]:
    """`push_records_for` as plain values, by uid."""
    return {uid: KnownPush(row.target_id, row.fingerprint, row.last_error, row.error_kind,
                           row.next_attempt_at, row.attempts or 0)
            for uid, row in push_records_for(session, mapping, uids).items()}


def push_records_for(session: Session, mapping: str, uids: Collection[str]) -> dict[str, PushRecord]:
    """The push state of ``uids`` under ``mapping``, by uid (records never pushed are absent)."""
    found: dict[str, PushRecord] = {}
    for chunk in in_chunks(sorted(set(uids))):
        query = select(PushRecord).where(PushRecord.mapping == mapping, PushRecord.source_uid.in_(chunk))
        found.update({row.source_uid: row for row in session.scalars(query)})
    return found


def push_rows(session: Session, targets: list[PushTarget]) -> dict[str, PushRecord]:
    """The push state rows of ``targets`` (one mapping), by source uid; rows made for new records.

    One query for them all: a push records a whole batch of outcomes at once.
    """
    if not targets:
        return {}
    mapping = targets[0].mapping
    if any(target.mapping != mapping for target in targets):
        raise ValidationError("push rows are asked for one mapping at a time", field="mapping")
    with session.no_autoflush:
        rows = push_records_for(session, mapping, [t.source_uid for t in targets])
        for target in targets:
            row = rows.get(target.source_uid)
            if row is None:
                row = rows[target.source_uid] = PushRecord(
                    mapping=mapping, source_kind=target.source_kind, source_uid=target.source_uid,
                    target_table=target.target_table, attempts=0)
                session.add(row)
            row.target_table = target.target_table
    return rows


def mark_pushed(row: PushRecord, *, target_id: str | None, fingerprint: str) -> None:
    """The record was accepted by the CRM as ``fingerprint`` (its id ``target_id`` when known)."""
    row.target_id = target_id or row.target_id
    row.fingerprint, row.pushed_at = fingerprint, utcnow()
    row.attempts, row.next_attempt_at, row.last_error, row.error_kind = 0, None, None, None


def mark_failed(row: PushRecord, *, error: str, kind: str, retry_at: datetime | None) -> None:
    """A try failed: why (``kind`` ``transient`` or ``refused``) and when a scheduled push tries again."""
    row.attempts = (row.attempts or 0) + 1
    row.last_error, row.error_kind, row.next_attempt_at = error[:ERROR_MAX], kind, retry_at


def push_failures(session: Session, mapping: str | None = None) -> list[PushRecord]:
    """Records whose last try failed, oldest failure first."""
    query = select(PushRecord).where(PushRecord.last_error.is_not(None))
    if mapping is not None:
        query = query.where(PushRecord.mapping == mapping)
    return list(session.scalars(query.order_by(PushRecord.updated_at, PushRecord.id)))


def retry_due(session: Session, now: datetime | None = None) -> bool:
    """Some record's passing failure is due for another try."""
    query = select(PushRecord.id).where(PushRecord.error_kind == "transient",
                                        PushRecord.next_attempt_at <= (now or utcnow()))
    return session.scalars(query.limit(1)).first() is not None
