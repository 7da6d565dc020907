"""Pending CRM writes for the home page and ``GET /api/outbox``.

The outbox belongs to the sync area; until it exists there is nothing pending and the list is empty.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from sqlalchemy.orm import Session

_log = logging.getLogger(__name__)


def pending_writes(session: Session) -> list[dict[str, Any]]:
    """Pending outbox rows as plain dicts (``[]`` while write-back does not exist)."""
    try:
        outbox = importlib.import_module("callnotes.sync.outbox")
    except ModuleNotFoundError as exc:
        if exc.name not in ("callnotes.sync", "callnotes.sync.outbox"):
            raise
        return []
    list_pending = getattr(outbox, "list_pending", None)
    if not callable(list_pending):
        return []
    return [_as_dict(item) for item in list_pending(session)]


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    fields = ("id", "kind", "state", "summary", "created_at", "attempts", "last_error")
    return {name: getattr(item, name) for name in fields if hasattr(item, name)}
