"""Undo-log transactions: what $batch changesets rely on (execute-batch-operations-using-web-api.md,
"Change sets": all operations in a change set succeed or none do)."""

from __future__ import annotations

import pytest

from callnotes.emulator.table_definitions import build_schema
from callnotes.emulator.tables import Database

USER = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def _database() -> Database:
    database = Database(build_schema())
    database.tables["account"].insert(
        {"accountid": "a1", "name": "Keep", "ownerid": USER, "versionnumber": 1}
    )
    return database


def test_failed_transaction_restores_rows_and_indexes() -> None:
    database = _database()
    accounts = database.tables["account"]
    with pytest.raises(RuntimeError), database.transaction():
        accounts.insert({"accountid": "a2", "name": "New", "ownerid": USER, "versionnumber": 2})
        accounts.update("a1", {"name": "Changed", "ownerid": "someone-else"})
        accounts.delete("a1")
        raise RuntimeError("part 3 failed")
    assert set(accounts.rows) == {"a1"}
    assert accounts.rows["a1"]["name"] == "Keep"
    assert accounts.lookup("name", "keep") == {"a1"}
    assert accounts.lookup("ownerid", USER) == {"a1"}
    assert accounts.lookup("name", "new") == set()


def test_successful_transaction_keeps_changes() -> None:
    database = _database()
    accounts = database.tables["account"]
    with database.transaction():
        accounts.update("a1", {"name": "Changed"})
    assert accounts.rows["a1"]["name"] == "Changed"
    assert accounts.lookup("name", "CHANGED") == {"a1"}


def test_undone_delete_keeps_insertion_order() -> None:
    database = _database()
    accounts = database.tables["account"]
    accounts.insert({"accountid": "a2", "name": "Second", "versionnumber": 2})
    with pytest.raises(RuntimeError), database.transaction():
        accounts.delete("a1")
        raise RuntimeError("rolled back")
    assert list(accounts.rows) == ["a1", "a2"]
