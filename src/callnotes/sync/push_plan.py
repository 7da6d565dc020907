"""What a push sends for each record: the action (create, update, upsert by alternate key, find first)
and its request, and what an answer means for the record (done, send something else, failed).

Every write is a PATCH, so a ``$batch`` of them can be sent again whatever happened to the answer
(retried by the client's pipeline after a dropped connection): callnotes never makes a duplicate.

- ``create``: ``PATCH <table>(<id callnotes chose>)`` with ``If-None-Match: *`` ("create, never update":
  perform-conditional-operations-using-web-api.md, "Prevent update in upsert"). "Already exists"
  (412 / duplicate key) means an earlier try landed: the record is then updated.
- ``update``: ``PATCH <table>(<id>)`` with ``If-Match: *`` ("Prevent create in upsert"). 404 means the
  record was deleted in Dynamics: it is made again (create-or-update).
- ``upsert``: ``PATCH <table>(<key>='<value>')`` by the alternate key (use-alternate-key-reference-
  record.md): creates or updates; with create-only fields, ``If-None-Match: *`` first, then an update by
  key (``key_update``) when the record exists. ``Prefer: return=representation`` tells created (201)
  from updated (200) and gives the record's id.
- ``find``: no id and no usable alternate key: a keyed query (``$filter=<column> eq …``, many records
  per request) decides between update and create.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callnotes.dataverse import (
    BatchRequest,
    BatchResult,
    DuplicateKey,
    NotExecuted,
    NotFound,
    PreconditionFailed,
    RolledBack,
    ServerError,
    Throttled,
    TransportError,
    UnsafeKeyValue,
    key_path,
    record_path,
)
from callnotes.dataverse.client import primary_key_for
from callnotes.sync.mappings import Direction, MappingSpec
from callnotes.sync.push_payload import RecordPayload, new_record_id


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"
    KEY_UPDATE = "key_update"
    FIND = "find"


class Verdict(StrEnum):
    DONE = "done"
    AGAIN = "again"  # send the (possibly new) action in the next round
    TRANSIENT = "transient"  # a passing failure: again, a few times
    REFUSED = "refused"  # the CRM said no: the reason is kept


@dataclass
class Work:
    """One record on its way: what it sends now and what is known of its remote twin."""

    payload: RecordPayload
    action: Action
    target_id: str | None = None
    created: bool = False
    tries: int = 0
    error: str | None = None
    failure: str | None = None  # transient | refused, once it failed for good


def first_action(mapping: MappingSpec, payload: RecordPayload, known_id: str | None) -> Action:
    if known_id is not None:
        return Action.UPDATE
    if mapping.key.alternate and _key_usable(mapping, payload):
        return Action.UPSERT
    return Action.FIND


def _key_usable(mapping: MappingSpec, payload: RecordPayload) -> bool:
    try:
        key_path(mapping.table, {mapping.key.column: payload.key_value})
    except UnsafeKeyValue:
        return False  # Dataverse cannot address it in a URL: find it with a query instead
    return True


def request_for(mapping: MappingSpec, work: Work) -> BatchRequest:
    """The PATCH that carries ``work``'s action (see the module docstring)."""
    payload, headers = work.payload, dict[str, str]()
    if work.action is Action.CREATE:
        work.target_id = work.target_id or new_record_id(mapping, payload.uid)
        path, body = record_path(mapping.table, work.target_id), payload.create_body
        headers["If-None-Match"] = "*"
    elif work.action is Action.UPDATE:
        path, body = record_path(mapping.table, work.target_id or ""), payload.update_body
        headers["If-Match"] = "*"
    else:
        path = key_path(mapping.table, {mapping.key.column: payload.key_value})
        creating = work.action is Action.UPSERT
        body = payload.create_body if creating else payload.update_body
        if creating and any(f.direction is Direction.CREATE for f in mapping.fields):
            headers["If-None-Match"] = "*"
        elif not creating:
            headers["If-Match"] = "*"
    selected = [primary_key_for(mapping.table), *(f.target for f in mapping.pulled)]
    if work.action in (Action.UPSERT, Action.KEY_UPDATE) or mapping.pulled:
        headers["Prefer"] = "return=representation"
        path += f"?$select={','.join(selected)}"
    return BatchRequest("PATCH", path, body, headers)


def judge(mapping: MappingSpec, work: Work, result: BatchResult) -> Verdict:
    """What ``result`` means for ``work`` (its action / target id change when it must send again)."""
    error = result.error
    if error is None:
        if work.action in (Action.UPSERT, Action.KEY_UPDATE):
            work.target_id = result.entity_id or _id_in(mapping, result) or work.target_id
            work.created = work.created or result.status == 201
        work.created = work.created or work.action is Action.CREATE
        return Verdict.DONE
    if isinstance(error, RolledBack | NotExecuted):
        return Verdict.AGAIN
    if isinstance(error, DuplicateKey | PreconditionFailed) and work.action in (Action.CREATE, Action.UPSERT):
        work.action = Action.UPDATE if work.action is Action.CREATE else Action.KEY_UPDATE  # it exists
        return Verdict.AGAIN
    if isinstance(error, NotFound) and work.action in (Action.UPDATE, Action.KEY_UPDATE):
        usable = mapping.key.alternate and _key_usable(mapping, work.payload)
        work.action = Action.UPSERT if usable else Action.CREATE
        work.target_id = None  # deleted in Dynamics: made again
        return Verdict.AGAIN
    work.error = error.message
    if isinstance(error, ServerError | Throttled | TransportError):
        return Verdict.TRANSIENT
    return Verdict.REFUSED


def _id_in(mapping: MappingSpec, result: BatchResult) -> str | None:
    try:
        body: Any = result.json()
    except ValueError:
        return None
    value = body.get(primary_key_for(mapping.table)) if isinstance(body, dict) else None
    return str(value) if value else None


def pulled_values(mapping: MappingSpec, result: BatchResult) -> dict[str, object]:
    """The pulled fields of an answer with ``return=representation`` (local field → value)."""
    if not mapping.pulled:
        return {}
    try:
        body: Any = result.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {f.source or "": body.get(f.target) for f in mapping.pulled if f.target in body}
