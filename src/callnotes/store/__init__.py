"""callnotes.store: the local database (SQLAlchemy 2 + Alembic), repositories and full-text search.

Public API (import from ``callnotes.store``; details in each module's docstrings)

Database (``db.py``)
    ``make_engine(url)``, ``make_session_factory(engine)``, ``session_scope(factory)``,
    ``upgrade_database(url_or_engine)`` (run on app start), ``downgrade_database``.
    URL: ``Settings.resolved_database_url()`` — SQLite in the data dir, or ``CALLNOTES_DATABASE_URL``
    (PostgreSQL via psycopg 3, ``postgresql+psycopg://``; plain ``postgresql://`` is mapped to it).
    Repository functions never commit: the caller owns the transaction (``session.commit()``).

Models (``models.py``)
    ``Pod``, ``Territory``, ``Seller`` (``SellerType``), ``SolutionEngineer`` (``SeSpecialty``),
    ``Customer``, ``Topic``, ``Note``, ``Opportunity``, ``Milestone``, ``Task``, ``NoteTemplate``,
    ``Draft``. MSX records carry ``msx_id`` (unique) and ``gone_from_msx_at``; datetimes are UTC-aware
    (naive ones raise ``NaiveDatetimeError``).

Repositories (``repo/``) — typed inputs (dataclasses), typed errors
    customers: ``CustomerInput``, ``CustomerUpdate``, ``create_customer``, ``get_customer``,
    ``update_customer``, ``delete_customer``, ``list_customers`` (→ ``CustomerSummary`` with
    ``last_contact``), ``group_customers`` (by seller / territory), ``find_customers`` (autocomplete).
    notes: ``NoteInput``, ``NoteUpdate``, ``create_note``, ``get_note``, ``update_note``,
    ``delete_note``, ``list_notes``.
    topics: ``get_or_create_topics``, ``list_topics``, ``rename_topic``, ``delete_topic``.
    templates: ``TemplateInput``, ``create_template``, ``list_templates``, ``get_template``,
    ``update_template``, ``delete_template``.
    drafts: ``DraftInput``, ``save_draft``, ``get_draft``, ``list_drafts``, ``delete_draft``.
    people: ``list_sellers``, ``list_solution_engineers``, ``list_territories``, ``list_pods``,
    ``get_seller``, ``get_solution_engineer``, ``get_territory``, ``get_pod``, ``create_seller``,
    ``create_solution_engineer``.
    msx_records (for the MSX import): ``TerritoryRecord``, ``SellerRecord``,
    ``SolutionEngineerRecord``, ``CustomerRecord``, ``OpportunityRecord``, ``MilestoneRecord``,
    ``TaskRecord``; ``upsert_territory`` … ``upsert_task`` (one) and ``upsert_records`` (many) →
    ``UpsertResult`` CREATED / UPDATED / UNCHANGED; ``mark_gone(session, kind, seen_ids)``;
    ``pod_name_for_territory``. Upserts never touch notes or the customer's local notes field.

Search (``search.py``)
    ``search(session, query, SearchFilters(...)) -> list[SearchHit(kind, id, title, snippet, rank)]``;
    snippets are HTML-escaped with ``<mark>`` around matches (safe to render as-is).

Files (``io.py``)
    ``export_store(session) -> dict``, ``import_store(session, document) -> ImportReport``,
    ``import_file(session, path) -> ImportReport`` (JSON export, customers CSV, notes CSV).

Errors (``errors.py``)
    ``StoreError`` ⊃ ``NotFound``, ``ValidationError``, ``Conflict``, ``NaiveDatetimeError``,
    ``ImportFileError``; ``ImportReport`` / ``RowError`` for file imports.
"""

from callnotes.store.db import (
    downgrade_database,
    make_engine,
    make_session_factory,
    session_scope,
    upgrade_database,
)
from callnotes.store.errors import (
    Conflict,
    ImportFileError,
    ImportReport,
    NaiveDatetimeError,
    NotFound,
    RowError,
    StoreError,
    ValidationError,
)
from callnotes.store.models import (
    Base,
    Customer,
    Draft,
    Milestone,
    Note,
    NoteTemplate,
    Opportunity,
    Pod,
    Seller,
    SellerType,
    SeSpecialty,
    SolutionEngineer,
    Task,
    Territory,
    Topic,
)
from callnotes.store.types import utcnow

__all__ = [
    "Base",
    "Conflict",
    "Customer",
    "Draft",
    "ImportFileError",
    "ImportReport",
    "Milestone",
    "NaiveDatetimeError",
    "NotFound",
    "Note",
    "NoteTemplate",
    "Opportunity",
    "Pod",
    "RowError",
    "SeSpecialty",
    "Seller",
    "SellerType",
    "SolutionEngineer",
    "StoreError",
    "Task",
    "Territory",
    "Topic",
    "ValidationError",
    "downgrade_database",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "upgrade_database",
    "utcnow",
]
