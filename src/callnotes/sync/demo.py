"""Demo mode: an embedded emulator with MSX-shaped data, signed in and imported before the app
starts, plus starter note templates, so a newcomer lands on a populated app (``make run``)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from callnotes.config import Settings
from callnotes.dataverse import DataverseError
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.msx.errors import MsxError
from callnotes.store import StoreError, make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.repo.templates import TemplateInput, create_template, list_templates
from callnotes.sync.connection import DEMO_URL_ENV, link_org, open_client
from callnotes.sync.importing import run_import
from callnotes.sync.summary import ImportSummary

_log = logging.getLogger(__name__)

DEMO_ACCOUNTS = 50
DEMO_SEED = 7
#: Offered by the editor's template picker in demo mode when the database has no template yet.
STARTER_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Discovery call", "## Attendees\n\n## Goals\n\n## Current estate\n\n## Pain points\n\n## Next steps\n"),
    ("Architecture review", "## Scope\n\n## Findings\n\n## Recommendations\n\n## Follow-ups\n"),
    ("Weekly sync", "## Wins\n\n## Blockers\n\n## Milestones at risk\n\n## Asks\n"),
)


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
    """Start the emulator, sign in to it, import my accounts into the store, add the starter
    templates. Never raises for a failed import: the app still starts, and the MSX page can import
    again."""
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
    ensure_starter_templates(settings)
    _log.info("demo import: %s", "; ".join(summary.lines()))
    return DemoHandle(server, summary)


def ensure_starter_templates(settings: Settings) -> int:
    """Add :data:`STARTER_TEMPLATES` when there is no template at all; returns how many were added."""
    engine = make_engine(settings.resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            if list_templates(session):
                return 0
            for name, body in STARTER_TEMPLATES:
                create_template(session, TemplateInput(name=name, body=body))
            return len(STARTER_TEMPLATES)
    finally:
        engine.dispose()
