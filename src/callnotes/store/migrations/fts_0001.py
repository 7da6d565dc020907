# ruff: noqa: S608  -- DDL built only from the constant table/column names in this module
"""Full-text search DDL of migration 0001 (kept beside it; frozen like the migration itself).

SQLite: FTS5 external-content tables (the base table is the content, triggers keep the index in
step). PostgreSQL: a generated ``search_vector`` tsvector column with a GIN index on each table.

Notes are searched on title, body and ``search_context`` = customer name + topic names. The
database keeps ``search_context`` current with triggers (customer rename, topic rename, topics
added / removed), so every writer (web, MSX import, file import) gets a correct index for free.
SQLite's triggers rely on ``recursive_triggers`` being off (the default; ``db.py`` sets it).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

#: table → (indexed columns, tsvector weights on PostgreSQL)
SIMPLE_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (("name", "A"), ("tpid", "A"), ("account_notes", "C")),
    "sellers": (("name", "A"), ("email", "B")),
    "solution_engineers": (("name", "A"), ("email", "B")),
    "topics": (("name", "A"),),
}
NOTE_COLUMNS: tuple[tuple[str, str], ...] = (("title", "A"), ("search_context", "B"), ("body", "C"))

_TOKENIZE = "porter unicode61 remove_diacritics 2"


def _ctx_sql(note_id: str) -> str:
    """SQL expression: the search context (customer name, topic names) of note ``note_id``."""
    return (
        "trim(coalesce((SELECT c.name FROM customers c JOIN notes n2 ON n2.customer_id = c.id "
        f"WHERE n2.id = {note_id}), '') || ' ' || coalesce((SELECT group_concat(t.name, ' ') "
        f"FROM topics t JOIN note_topics nt ON nt.topic_id = t.id WHERE nt.note_id = {note_id}), ''))"
    )


def _sqlite_fts(table: str, columns: list[str]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    fts = f"{table}_fts"
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        f"tokenize='{_TOKENIZE}', prefix='2 3')",
        f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN {insert} END",
    ]


def _sqlite_statements() -> list[str]:
    statements: list[str] = []
    for table, weighted in SIMPLE_TABLES.items():
        columns = [c for c, _ in weighted]
        statements += _sqlite_fts(table, columns)
        cols = ", ".join(columns)
        statements.append(
            f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {table}_fts({table}_fts, rowid, {cols}) VALUES ('delete', old.id, "
            + ", ".join(f"old.{c}" for c in columns) + "); "
            f"INSERT INTO {table}_fts(rowid, {cols}) VALUES (new.id, "
            + ", ".join(f"new.{c}" for c in columns) + "); END"
        )
    note_cols = [c for c, _ in NOTE_COLUMNS]
    cols = ", ".join(note_cols)
    statements += _sqlite_fts("notes", note_cols)[:2]  # table + delete trigger
    old = ", ".join(f"old.{c}" for c in note_cols)
    refresh = (f"UPDATE notes SET search_context = {_ctx_sql('new.id')} WHERE id = new.id "
               f"AND search_context IS NOT {_ctx_sql('new.id')};")
    statements += [
        # Index first, then fill the context: the update below re-indexes through notes_fts_au.
        f"CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN "
        f"INSERT INTO notes_fts(rowid, {cols}) VALUES (new.id, "
        + ", ".join(f"new.{c}" for c in note_cols) + f"); {refresh} END",
        # Any update: drop the old entry, refresh the context (does not re-fire this trigger), re-index.
        f"CREATE TRIGGER notes_fts_au AFTER UPDATE ON notes BEGIN "
        f"INSERT INTO notes_fts(notes_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); {refresh} "
        f"INSERT INTO notes_fts(rowid, {cols}) SELECT id, {cols} FROM notes WHERE id = new.id; END",
    ]
    touch = "UPDATE notes SET search_context = {ctx} WHERE {where};"
    statements += [
        "CREATE TRIGGER note_topics_ctx_ai AFTER INSERT ON note_topics BEGIN "
        + touch.format(ctx=_ctx_sql("notes.id"), where="id = new.note_id") + " END",
        "CREATE TRIGGER note_topics_ctx_ad AFTER DELETE ON note_topics BEGIN "
        + touch.format(ctx=_ctx_sql("notes.id"), where="id = old.note_id") + " END",
        "CREATE TRIGGER customers_ctx_au AFTER UPDATE OF name ON customers BEGIN "
        + touch.format(ctx=_ctx_sql("notes.id"), where="customer_id = new.id") + " END",
        "CREATE TRIGGER topics_ctx_au AFTER UPDATE OF name ON topics BEGIN "
        + touch.format(ctx=_ctx_sql("notes.id"),
                       where="id IN (SELECT note_id FROM note_topics WHERE topic_id = new.id)") + " END",
    ]
    return statements


def _pg_vector(weighted: tuple[tuple[str, str], ...]) -> str:
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, coalesce({c}, '')), '{w}')" for c, w in weighted
    )


_PG_NOTE_CONTEXT = """
CREATE FUNCTION callnotes_note_context() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_context := trim(
    coalesce((SELECT c.name FROM customers c WHERE c.id = NEW.customer_id), '') || ' ' ||
    coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name_key) FROM topics t
              JOIN note_topics nt ON nt.topic_id = t.id WHERE nt.note_id = NEW.id), ''));
  RETURN NEW;
END $$
"""
_PG_TOUCH = """
CREATE FUNCTION callnotes_touch_notes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'note_topics' THEN
    UPDATE notes SET search_context = search_context
      WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.note_id ELSE NEW.note_id END;
  ELSIF TG_TABLE_NAME = 'customers' THEN
    UPDATE notes SET search_context = search_context WHERE customer_id = NEW.id;
  ELSIF TG_TABLE_NAME = 'topics' THEN
    UPDATE notes SET search_context = search_context
      WHERE id IN (SELECT note_id FROM note_topics WHERE topic_id = NEW.id);
  END IF;
  RETURN NULL;
END $$
"""


def _postgres_statements() -> list[str]:
    statements: list[str] = []
    for table, weighted in {**SIMPLE_TABLES, "notes": NOTE_COLUMNS}.items():
        statements += [
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({_pg_vector(weighted)}) STORED",
            f"CREATE INDEX ix_{table}_search_vector ON {table} USING gin (search_vector)",
        ]
    return [
        *statements,
        _PG_NOTE_CONTEXT,
        _PG_TOUCH,
        "CREATE TRIGGER notes_context BEFORE INSERT OR UPDATE ON notes "
        "FOR EACH ROW EXECUTE FUNCTION callnotes_note_context()",
        "CREATE TRIGGER note_topics_touch AFTER INSERT OR DELETE ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION callnotes_touch_notes()",
        "CREATE TRIGGER customers_touch AFTER UPDATE OF name ON customers "
        "FOR EACH ROW EXECUTE FUNCTION callnotes_touch_notes()",
        "CREATE TRIGGER topics_touch AFTER UPDATE OF name ON topics "
        "FOR EACH ROW EXECUTE FUNCTION callnotes_touch_notes()",
    ]


def create(bind: Connection) -> None:
    """Create the search index objects for the bound dialect."""
    statements = _postgres_statements() if bind.dialect.name == "postgresql" else _sqlite_statements()
    for statement in statements:
        bind.exec_driver_sql(statement)


def drop(bind: Connection) -> None:
    """Drop what :func:`create` made (tables are dropped by the migration afterwards)."""
    if bind.dialect.name == "postgresql":
        for trigger, table in (("notes_context", "notes"), ("note_topics_touch", "note_topics"),
                               ("customers_touch", "customers"), ("topics_touch", "topics")):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS callnotes_note_context()")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS callnotes_touch_notes()")
        return
    for name in (*SIMPLE_TABLES, "notes"):
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {name}_fts")
    rows = bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for (trigger,) in rows:
        bind.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{trigger}"')
