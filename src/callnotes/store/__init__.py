"""callnotes.store: the local database (SQLAlchemy 2 + Alembic), repositories and full-text search.

Every domain rule lives here and every way in goes through it: the web layer, the CLI, the MSX import
and the file imports reach the database only through these functions (never their own queries).

Public API (import from ``callnotes.store``; details in each module's docstrings)

Database (``db.py``)
    ``make_engine(url)``, ``make_session_factory(engine)``, ``session_scope(factory)`` (commits, or
    rolls back; a uniqueness race the database refuses becomes ``Conflict``),
    ``upgrade_database(url_or_engine)`` (run on app start), ``downgrade_database``;
    ``describe_database(url)`` → ``DatabaseInfo(url without password, kind)``,
    ``check_connection(session)`` (``/healthz``).
    URL: ``Settings.resolved_database_url()`` — SQLite in the data dir, or ``CALLNOTES_DATABASE_URL``
    (PostgreSQL via psycopg 3, ``postgresql+psycopg://``; plain ``postgresql://`` is mapped to it).
    Repository functions never commit: the caller owns the transaction (``session.commit()``).
    SQLite: WAL, foreign keys, 10 s busy timeout, transactions ``BEGIN IMMEDIATE`` (writers queue
    instead of failing) — keep transactions short.

Models (``models.py``)
    ``Pod``, ``Territory``, ``Seller`` (``SellerType``), ``SolutionEngineer`` (``SeSpecialty``),
    ``Customer``, ``Topic``, ``Note``, ``Opportunity``, ``Milestone``, ``Task``, ``NoteTemplate``,
    ``Draft``. MSX records carry ``msx_id`` (unique) and ``gone_from_msx_at``; datetimes are UTC-aware
    (naive ones raise ``NaiveDatetimeError``). Column types in ``column_types.py``: ``UTCDateTime``,
    ``utcnow``.

Limits (``limits.py``, import from there)
    Each field limit once (``NOTE_TITLE_MAX``, ``NOTE_TOPICS_MAX``, ``CUSTOMER_NAME_MAX``, ``MAX_ID``, …):
    the repositories enforce them, the column widths and the web schemas use the same constants.

Repositories (``repo/``) — typed inputs (dataclasses), typed errors
    customers: ``CustomerInput``, ``CustomerUpdate``, ``create_customer``, ``get_customer``,
    ``get_customer_by_msx_id``, ``update_customer``, ``delete_customer``, ``list_customers`` (→
    ``CustomerSummary`` with ``last_contact``), ``group_customers`` (by seller / territory),
    ``find_customers`` (autocomplete), ``link_customer_to_msx`` (one customer per MSX account, else
    ``Conflict``), ``list_customers_to_link`` (TPID, no MSX account), ``list_customers_with_milestones``.
    notes: ``NoteInput``, ``NoteUpdate``, ``create_note``, ``get_note``, ``update_note``,
    ``delete_note``, ``list_notes``. Rules on every way in (form, API, JSON backup, CSV):
    ``clean_note_fields`` (limits) and ``check_note`` (counts; a note's milestones belong to its
    customer, so a note without a customer has none) → ``ValidationError``.
    topics: ``get_or_create_topics``, ``list_topics``, ``rename_topic``, ``delete_topic``.
    templates: ``TemplateInput``, ``create_template``, ``list_templates``, ``get_template``,
    ``update_template``, ``delete_template``.
    drafts: ``DraftInput``, ``save_draft`` (drops a customer that no longer exists), ``get_draft``,
    ``list_drafts`` (customer loaded), ``delete_draft``.
    people: ``list_sellers``, ``list_solution_engineers``, ``list_territories``, ``list_pods``,
    ``get_seller``, ``get_solution_engineer``, ``get_territory``, ``get_pod``, ``create_seller``,
    ``create_solution_engineer``.
    milestones: ``get_milestone``, ``list_milestones`` — the one milestone listing and ordering (on
    my team first, then by date, undated last; filters: customer, on my team, due range, gone too,
    limit), ``set_on_my_team``, ``list_opportunities``, ``list_tasks``.
    msx_records (for the MSX import; record types in ``msx_types``): ``TerritoryRecord``,
    ``SellerRecord``, ``SolutionEngineerRecord``, ``CustomerRecord``, ``OpportunityRecord``,
    ``MilestoneRecord``, ``TaskRecord``; ``upsert_records`` (many, in bulk: a few queries per table,
    not per row) and ``upsert_territory`` … ``upsert_task`` (one) → ``UpsertResult`` CREATED /
    UPDATED / UNCHANGED; ``mark_gone(session, kind, seen_ids)``; ``pod_name_for_territory``.
    Upserts never touch notes or the customer's local notes field.

Search (``search.py``, import from there; backends ``search_sqlite`` / ``search_postgres``)
    ``search(session, query, SearchFilters(...), order=SearchOrder.RELEVANCE | NEWEST) ->
    list[SearchHit(kind, id, title, snippet, rank, call_date, customer, note_id)]``; kinds ``note``,
    ``action_item``, ``customer``, ``seller``, ``solution_engineer``, ``topic``; filters customer,
    seller, topic, attendee, dates (alone, without a word: the notes they select, newest first);
    snippets are HTML-escaped with ``<mark>`` around matches (safe to render as-is); any query text
    is safe. Ranks the newest ``RANK_WINDOW`` matches only.

A seller's week (import from each module)
    ``repo.action_items``: the ``- [ ]`` lines of notes (``parse_action_items``, kept in step by
    ``sync_action_items`` on every way in), ``open_action_items`` (overdue / this week / later),
    ``set_action_item_done`` (rewrites the note's Markdown), ``closed_action_items``.
    ``repo.attendees``: ``attendee_suggestions`` (account team, earlier calls). ``repo.report``:
    ``quarter_report`` (a ``domain.FiscalQuarter``), ``report_markdown``, ``report_csv``.
    ``calendar``: ``read_meetings`` (an ``.ics`` file → ``Meeting`` drafts matched to customers,
    ``CalendarFileError`` otherwise), ``meeting_note``. ``repo.notes_bulk``:
    ``create_notes_in_bulk`` (file imports: the note rules, a few statements per thousand notes).
    ``repo.customer_page``: ``customer_page`` (newest notes a page at a time, open milestones with
    overdue flags, open opportunities, the account team of my kind), ``customer_notes``.
    ``repo.milestone_tracker``: ``parse_filters`` (the tracker's query string, checked),
    ``track_milestones`` (filters that combine, sort, paging, counts at a glance), ``set_favourite``.
    ``repo.milestones``: ``is_open`` / ``is_overdue`` (closed milestones are hidden by default).
    ``repo.hok_coverage``: ``hok_coverage`` (last note and HoK task per milestone on my team,
    drafts for engagements without one), ``approve_drafts`` (through ``outbox.queue_note_tasks``).

Files (``backup.py``: the JSON backup; ``import_files.py``: reading a file, bounded; ``csv_import.py``;
import from there; nothing commits)
    ``export_store(session) -> dict``, ``write_export(session, path_or_stream)``,
    ``import_store(session, document) -> ImportReport``, ``import_file(session, path) -> ImportReport``
    (JSON export, customers CSV, notes CSV; per-row errors in ``report.errors``).

Demo (``demo.py``, also ``from callnotes.store import seed_demo``)
    ``seed_demo(session)`` fills an empty store with a small demo set; False when not empty.

CLI (``cli.py``)
    ``callnotes export PATH|-``, ``callnotes import-file PATH``, ``callnotes db upgrade``,
    ``callnotes db seed-demo``.

Errors (``errors.py``)
    ``StoreError`` ⊃ ``NotFound``, ``ValidationError``, ``Conflict``, ``DatabaseBusy``,
    ``NaiveDatetimeError``, ``ImportFileError``; ``ImportReport`` / ``RowError`` for file imports.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the public names, for type checkers and readers
    from callnotes.store._public import *  # noqa: F403


__all__ = [
    "Base",
    "Conflict",
    "Customer",
    "CustomerGroup",
    "CustomerInput",
    "CustomerRecord",
    "CustomerSort",
    "CustomerSummary",
    "CustomerUpdate",
    "DatabaseBusy",
    "DatabaseInfo",
    "Draft",
    "DraftInput",
    "ImportFileError",
    "ImportReport",
    "Milestone",
    "MilestoneRecord",
    "MsxKind",
    "NaiveDatetimeError",
    "NotFound",
    "Note",
    "NoteInput",
    "NoteTemplate",
    "NoteUpdate",
    "Opportunity",
    "OpportunityRecord",
    "PersonInput",
    "Pod",
    "RowError",
    "SeSpecialty",
    "Seller",
    "SellerRecord",
    "SellerType",
    "SolutionEngineer",
    "SolutionEngineerRecord",
    "StoreError",
    "Task",
    "TaskRecord",
    "TemplateInput",
    "Territory",
    "TerritoryRecord",
    "Topic",
    "TopicSummary",
    "UTCDateTime",
    "UpsertCounts",
    "UpsertResult",
    "Upserted",
    "ValidationError",
    "check_connection",
    "check_note",
    "clean_note_fields",
    "create_customer",
    "create_note",
    "create_seller",
    "create_solution_engineer",
    "create_template",
    "delete_customer",
    "delete_draft",
    "delete_note",
    "delete_template",
    "delete_topic",
    "describe_database",
    "downgrade_database",
    "find_customers",
    "get_customer",
    "get_customer_by_msx_id",
    "get_draft",
    "get_milestone",
    "get_note",
    "get_or_create_topics",
    "get_pod",
    "get_seller",
    "get_solution_engineer",
    "get_template",
    "get_territory",
    "get_topic",
    "get_topic_by_name",
    "group_customers",
    "link_customer_to_msx",
    "list_customers",
    "list_customers_to_link",
    "list_customers_with_milestones",
    "list_drafts",
    "list_milestones",
    "list_notes",
    "list_opportunities",
    "list_pods",
    "list_sellers",
    "list_solution_engineers",
    "list_tasks",
    "list_templates",
    "list_territories",
    "list_topics",
    "make_engine",
    "make_session_factory",
    "mark_gone",
    "pod_name_for_territory",
    "rename_topic",
    "save_draft",
    "seed_demo",
    "session_scope",
    "set_on_my_team",
    "update_customer",
    "update_note",
    "update_template",
    "upgrade_database",
    "upsert_customer",
    "upsert_milestone",
    "upsert_opportunity",
    "upsert_records",
    "upsert_seller",
    "upsert_solution_engineer",
    "upsert_task",
    "upsert_territory",
    "utcnow",
]


def __getattr__(name: str) -> Any:
    """Public names load on first use (PEP 562), so ``callnotes --help`` (which reads the store's
    command list in ``store/cli.py``) does not pay for SQLAlchemy and Alembic."""
    if name not in __all__:  # a submodule (``from callnotes.store import x``) or a typo
        raise AttributeError(f"module 'callnotes.store' has no attribute {name!r}")
    import callnotes.store._public as public  # not ``from … import``: that would ask __getattr__ again

    return getattr(public, name)
