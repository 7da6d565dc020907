"""Demo mode: an embedded emulator with MSX-shaped data, signed in and imported before the app starts."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from callnotes.config import Settings
from callnotes.dataverse import DataverseError
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.msx.connection import DEMO_URL_ENV, link_org, open_client
from callnotes.msx.errors import MsxError
from callnotes.msx.importer import run_import
from callnotes.msx.progress import ImportSummary
from callnotes.store import StoreError, make_engine, make_session_factory, upgrade_database

_log = logging.getLogger(__name__)

DEMO_ACCOUNTS = 50
DEMO_SEED = 7


@dataclass
class DemoHandle:
    """The running demo emulator (it lives as long as the process) and what the import did."""

    server: EmulatorServer
    summary: ImportSummary | None
    error: str | None = None

    def stop(self) -> None:
        self.server.stop()
        os.environ.pop(DEMO_URL_ENV, None)


def start_demo_emulator(accounts: int = DEMO_ACCOUNTS, seed: int = DEMO_SEED) -> EmulatorServer:
    """An emulator on a free loopback port, registered as this process's demo CRM."""
    server = EmulatorServer(EmulatorConfig(accounts=accounts, seed=seed)).start()
    os.environ[DEMO_URL_ENV] = server.api_url
    _log.info("demo emulator on %s", server.url)
    return server


def prepare_demo(settings: Settings, *, accounts: int = DEMO_ACCOUNTS) -> DemoHandle:
    """Start the emulator, sign in to it, import my accounts into the store. Never raises for a
    failed import: the app still starts, and the settings page can import again."""
    server = start_demo_emulator(accounts)
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with open_client(settings, url=server.api_url) as client:
            summary = run_import(client, make_session_factory(engine), crm_url=link_org(settings))
    except (MsxError, DataverseError, StoreError) as exc:
        _log.error("demo import failed: %s", exc)
        return DemoHandle(server, None, str(exc))
    finally:
        engine.dispose()
    _log.info("demo import: %s", "; ".join(summary.lines()))
    return DemoHandle(server, summary)
