"""Demo data for ``callnotes run`` when the MSX demo (embedded emulator) is not available:
the store's small local seed, which only writes into an empty database."""

from __future__ import annotations

from callnotes.config import Settings
from callnotes.store.db import make_engine, make_session_factory, session_scope, upgrade_database
from callnotes.store.demo import seed_demo
from callnotes.store.repo.templates import TemplateInput, create_template, list_templates

#: Offered by the editor's template picker in demo mode when the database has no template yet.
STARTER_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Discovery call", "## Attendees\n\n## Goals\n\n## Current estate\n\n## Pain points\n\n## Next steps\n"),
    ("Architecture review", "## Scope\n\n## Findings\n\n## Recommendations\n\n## Follow-ups\n"),
    ("Weekly sync", "## Wins\n\n## Blockers\n\n## Milestones at risk\n\n## Asks\n"),
)


def seed_demo_data(settings: Settings) -> None:
    """Migrate the database of ``settings`` and seed it (no-op when it already holds data)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with session_scope(make_session_factory(engine)) as session:
            seed_demo(session)
    finally:
        engine.dispose()


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
