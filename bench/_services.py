"""What the benchmarks share: is a local service there? which database to run on? (Scripts run as
``python bench/<name>.py``, so this folder is on ``sys.path`` and ``from _services import …`` works.)"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from callnotes.store.db import make_engine, normalise_url


def postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    """True when something accepts TCP connections on the PostgreSQL port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def bench_database(folder: Path, prefix: str) -> Iterator[str]:
    """SQLite in ``folder``, or a throw-away schema ``<prefix>_<random>`` in ``CALLNOTES_DATABASE_URL``
    (PostgreSQL), dropped afterwards."""
    base = os.environ.get("CALLNOTES_DATABASE_URL")
    if not base:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
