"""The PostgreSQL test fixtures survive what broke runs before: leaked connections, killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from callnotes.store.db import make_engine
from tests.fixtures.database import _HOST, _drop_stale_schemas, _reset_postgres


def _schemas(admin) -> set[str]:
    with admin.connect() as connection:
        return set(connection.execute(text("SELECT nspname FROM pg_namespace")).scalars())


def test_reset_closes_a_connection_a_test_leaked_holding_a_lock(_postgres_session_schema: str) -> None:
    """A test that left a transaction open (here: holding a table lock) cannot break the next one."""
    url = _postgres_session_schema
    leaked = make_engine(url, poolclass=NullPool)
    connection = leaked.connect()
    connection.execute(text("INSERT INTO pods (uid, name, created_at, updated_at) "
                            "VALUES ('u-1', 'P', now(), now())"))
    connection.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))  # and never released
    with pytest.warns(UserWarning, match="closed 1 PostgreSQL connection"):
        _reset_postgres(url)
    with pytest.raises(Exception):  # noqa: B017 - the server closed it; the driver's error class varies
        connection.execute(text("SELECT 1"))
    connection.invalidate()
    leaked.dispose()
    probe = make_engine(url, poolclass=NullPool)
    try:
        with probe.connect() as check:
            assert check.execute(text("SELECT count(*) FROM pods")).scalar() == 0  # rolled back, emptied
            assert check.execute(text("SELECT count(*) FROM customers")).scalar() == 0
    finally:
        probe.dispose()


def test_schemas_of_killed_runs_are_dropped_and_live_ones_kept(postgres_url: str) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead, alive = (f"cn_{_HOST}_{pid}_{uuid.uuid4().hex[:8]}" for pid in (int(finished.stdout), os.getpid()))
    other_host = f"cn_000000_{finished.stdout.strip()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            for schema in (dead, alive, other_host):
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        _drop_stale_schemas(admin)
        remaining = _schemas(admin)
        assert dead not in remaining and {alive, other_host} <= remaining
    finally:
        with admin.begin() as connection:
            for schema in (dead, alive, other_host):
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
