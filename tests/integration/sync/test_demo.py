"""Demo mode: ``prepare_demo`` starts the embedded emulator, signs in and imports, so the app opens
populated; the web routes of the same process find the emulator."""

from __future__ import annotations

import os

from sqlalchemy import func, select

from callnotes.config import Settings
from callnotes.store import Customer, Milestone, make_engine, make_session_factory
from callnotes.sync.connection import DEMO_URL_ENV, connection_status
from callnotes.sync.demo import prepare_demo


def test_prepare_demo_lands_on_a_populated_store(tmp_path, monkeypatch):
    monkeypatch.delenv(DEMO_URL_ENV, raising=False)
    settings = Settings(crm_url=None, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.db'}")
    handle = prepare_demo(settings, accounts=10)
    try:
        assert handle.error is None and handle.summary is not None
        assert os.environ[DEMO_URL_ENV] == handle.server.api_url
        status = connection_status(settings)
        assert status.connected and status.demo and status.user_id == handle.server.demo_user_id
        engine = make_engine(settings.resolved_database_url())
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count(Customer.id))) == 10
            assert session.scalar(select(func.count(Milestone.id))) > 0
        engine.dispose()
        again = prepare_demo(settings, accounts=10)  # a second `make run`: same data, nothing changes
        assert again.summary is not None and again.summary.changed == 0
        again.stop()
    finally:
        handle.stop()
    assert DEMO_URL_ENV not in os.environ
    assert not connection_status(settings).connected

