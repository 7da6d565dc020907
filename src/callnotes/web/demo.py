"""Demo data for ``callnotes run`` when the MSX demo (embedded emulator) is not available:
the store's small local seed, which only writes into an empty database."""

from __future__ import annotations

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.demo import seed_demo


def seed_demo_data(settings: Settings) -> None:
    """Migrate the database of ``settings`` and seed it (no-op when it already holds data)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with session_scope(make_session_factory(engine)) as session:
            seed_demo(session)
    finally:
        engine.dispose()
