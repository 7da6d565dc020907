"""Committed record changes, handed to whoever listens (the webhook dispatcher) after each commit.

The writer publishes one `Change` per Create / Update / Delete it performs; the feed keeps them until
the outermost transaction of the service ends. A commit hands them to the listeners (in order, still
under the service lock, so a listener reads the tables as they were committed); a rollback (a failed
request, a change set that failed) drops them — Dataverse raises no event for work it undid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from callnotes.emulator.messages import ApiRequest
from callnotes.emulator.table_definitions import EntityType
from callnotes.emulator.tables import Row

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One committed operation: the message, the record, what the request set, the row before/after."""

    message: str  # Create | Update | Delete
    entity: EntityType
    record_id: str
    target: Row  # the columns the request set (Create: all it set; Update: the changed ones)
    before: Row | None  # Update, Delete
    after: Row | None  # Create, Update
    caller_id: str
    service_root: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Listener = Callable[[list[Change]], None]


class ChangeFeed:
    """Collects changes inside a transaction; hands them out when the outermost one commits."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._pending: list[Change] = []
        self._depth = 0

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def record(self, message: str, request: ApiRequest, entity: EntityType, changes: Row, before: Row | None,
               after: Row | None) -> None:
        """Keep one operation's change until the transaction ends (nothing is kept when nobody listens)."""
        if not self._listeners:
            return
        record_id = str((after or before or {})[entity.primary_key])
        target = {name: value for name, value in changes.items() if not name.startswith("@")}
        self._pending.append(Change(message, entity, record_id, target, before,
                                    dict(after) if after is not None else None, request.caller_id,
                                    request.service_root))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested blocks join the outer one; the outermost hands out (commit) or drops (raise)."""
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._depth == 1:
                self._pending.clear()
            raise
        finally:
            self._depth -= 1
        if self._depth == 0 and self._pending:
            committed, self._pending = self._pending, []
            self._notify(committed)

    def _notify(self, changes: list[Change]) -> None:
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # a listener must never fail the request that committed
                _log.exception("change listener failed")
