"""Alembic environment: runs against the engine handed over by ``callnotes.store.db``.

From the command line (``alembic -c alembic.ini upgrade head``) the URL comes from the callnotes
settings (``CALLNOTES_DATABASE_URL`` or SQLite in the data dir).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from callnotes.store.models import Base

target_metadata = Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine
    from callnotes.config import load_settings
    from callnotes.store.db import make_engine

    return make_engine(load_settings().resolved_database_url())


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
