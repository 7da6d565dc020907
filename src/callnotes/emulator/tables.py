"""The in-memory database: one table per entity type, hash indexes on lookup and key columns,
a global row version (``versionnumber``, the ETag source) and undo-log transactions.

A row is a plain dict keyed by logical column name. GUIDs are stored lower-case; a multi-table
lookup keeps the target's logical name under ``"<column>@type"``; ``"@seq"`` is the insertion
order (the default result order, stable across runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from callnotes.emulator.table_definitions import STRING_KINDS, EntityType, Kind

Row = dict[str, object]


def type_key(column: str) -> str:
    """The hidden row key holding a multi-table lookup's target logical name."""
    return f"{column}@type"


def index_key(value: object) -> object:
    """Index keys compare the way Dataverse compares: strings case-insensitively."""
    return value.casefold() if isinstance(value, str) else value


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Table:
    """Rows of one entity type with hash indexes on its indexed columns."""

    def __init__(self, entity: EntityType, database: Database) -> None:
        self.entity = entity
        self._db = database
        self.rows: dict[str, Row] = {}
        self._seq = 0
        self._indexes: dict[str, dict[object, set[str]]] = {
            c.name: {} for c in entity.columns.values() if c.indexed and c.kind is not Kind.KEY
        }
        # (column, index, fold?) — only string columns need case folding; GUIDs are stored lower-case.
        self._specs = [
            (name, index, entity.columns[name].kind in STRING_KINDS) for name, index in self._indexes.items()
        ]

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, record_id: str) -> Row | None:
        return self.rows.get(record_id.lower())

    def is_indexed(self, column: str) -> bool:
        return column in self._indexes or column == self.entity.primary_key

    def lookup(self, column: str, value: object) -> set[str]:
        """Ids of rows whose ``column`` equals ``value`` (index comparison semantics)."""
        if column == self.entity.primary_key:
            key = str(value).lower()
            return {key} if key in self.rows else set()
        return set(self._indexes[column].get(index_key(value), ()))

    def insert(self, row: Row) -> Row:
        record_id = str(row[self.entity.primary_key])
        self._seq += 1
        row.setdefault("@seq", self._seq)
        self.rows[record_id] = row
        self._index_row(record_id, row)
        self._db.changes += 1
        self._db.record_undo(lambda: self._remove(record_id))
        return row

    def update(self, record_id: str, changes: Row) -> Row:
        row = self.rows[record_id]
        before = dict(row)
        self._unindex_row(record_id, row)
        row.update(changes)
        self._index_row(record_id, row)

        def undo() -> None:
            self._unindex_row(record_id, row)
            row.clear()
            row.update(before)
            self._index_row(record_id, row)

        self._db.changes += 1
        self._db.record_undo(undo)
        return row

    def delete(self, record_id: str) -> None:
        row = self.rows[record_id]
        self._remove(record_id)
        self._db.changes += 1
        self._db.record_undo(lambda: self._restore(record_id, row))

    def _remove(self, record_id: str) -> None:
        self._db.changes += 1
        row = self.rows.pop(record_id)
        self._unindex_row(record_id, row)

    def _restore(self, record_id: str, row: Row) -> None:
        self._db.changes += 1
        self.rows[record_id] = row
        self._index_row(record_id, row)
        if int(row["@seq"]) < self._seq:  # type: ignore[call-overload]
            # Keep dict order == insertion order (the default result order) after an undone delete.
            self.rows = dict(sorted(self.rows.items(), key=lambda item: item[1]["@seq"]))  # type: ignore[arg-type,return-value]

    def _index_row(self, record_id: str, row: Row) -> None:
        for column, index, fold in self._specs:
            value = row.get(column)
            if value is not None:
                key = value.casefold() if fold and isinstance(value, str) else value
                ids = index.get(key)
                if ids is None:
                    index[key] = {record_id}
                else:
                    ids.add(record_id)

    def _unindex_row(self, record_id: str, row: Row) -> None:
        for column, index, fold in self._specs:
            value = row.get(column)
            if value is not None:
                key = value.casefold() if fold and isinstance(value, str) else value
                ids = index.get(key)
                if ids is not None:
                    ids.discard(record_id)
                    if not ids:
                        del index[key]


class Database:
    """All tables, the row-version counter and the undo log."""

    def __init__(self, schema: dict[str, EntityType], first_version: int = 1_000_000) -> None:
        self.schema = schema
        self.tables: dict[str, Table] = {name: Table(entity, self) for name, entity in schema.items()}
        self.by_set: dict[str, Table] = {t.entity.entity_set: t for t in self.tables.values()}
        self._version = first_version
        self.changes = 0  # bumped by every insert, update, delete and undo (cache validity)
        self._undo: list[Callable[[], None]] | None = None

    def table(self, logical_name: str) -> Table:
        return self.tables[logical_name]

    def next_version(self) -> int:
        self._version += 1
        return self._version

    def record_undo(self, action: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(action)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All changes inside are undone if the block raises (nested blocks join the outer one)."""
        if self._undo is not None:
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            for action in reversed(self._undo):
                action()
            raise
        finally:
            self._undo = None

    def bulk_load(self, logical_name: str, rows: Iterable[Row]) -> None:
        """Insert generated rows outside any transaction (data set construction)."""
        table = self.tables[logical_name]
        for row in rows:
            table.insert(row)
