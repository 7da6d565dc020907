# ruff: noqa: S608  -- DDL built only from the constant table/column names in this module
"""Search and attendee DDL of migration 0007 (kept beside it; frozen like the migration itself).

* A note's search context (what full-text search sees besides title and body) becomes customer name
  + topic names + **attendees**: SQLite's note triggers of 0001 are re-created with the new context
  expression, PostgreSQL's ``callnotes_note_context()`` is replaced.
* ``note_attendees`` (one row per attendee, ``name_key = lower(name)``) is kept from
  ``notes.attendees`` by triggers, so every writer (editor, JSON API, file imports) fills it.
* ``action_items`` get their own full-text index (SQLite FTS5 external content, PostgreSQL a
  generated ``search_vector``), like the other searched tables.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from callnotes.store.migrations import fts_0001

_TOKENIZE = "porter unicode61 remove_diacritics 2"
_NOTE_COLS = ("title", "search_context", "body")
#: The note triggers of 0001 that compute the search context (re-created here, restored on downgrade).
_CONTEXT_TRIGGERS = ("notes_fts_ai", "notes_fts_au", "note_topics_ctx_ai", "note_topics_ctx_ad",
                     "customers_ctx_au", "topics_ctx_au")


def context_sql(note_id: str) -> str:
    """SQLite expression: the search context of note ``note_id`` (customer, topics, attendees).

    Also used by the bulk import, which fills the context of many notes in one statement.
    """
    return (
        "trim(coalesce((SELECT c.name FROM customers c JOIN notes n2 ON n2.customer_id = c.id "
        f"WHERE n2.id = {note_id}), '') || ' ' || coalesce((SELECT group_concat(t.name, ' ') "
        f"FROM topics t JOIN note_topics nt ON nt.topic_id = t.id WHERE nt.note_id = {note_id}), '') "
        "|| ' ' || coalesce((SELECT group_concat(j.value, ' ') FROM notes n3, json_each(n3.attendees) j "
        f"WHERE n3.id = {note_id} AND j.type = 'text'), ''))"
    )


def attendee_rows_sql(note_id: str, attendees: str, source: str = "") -> str:
    """SQLite: insert the ``note_attendees`` rows of note ``note_id`` from the JSON ``attendees``
    (``source``: tables to join before ``json_each``, e.g. ``"notes n, "``). Also used by the bulk import."""
    return ("INSERT INTO note_attendees (note_id, position, name, name_key) "
            f"SELECT {note_id}, j.key, substr(trim(j.value), 1, 320), lower(substr(trim(j.value), 1, 320)) "
            f"FROM {source}json_each({attendees}) j WHERE j.type = 'text' AND trim(j.value) <> ''")


def _sqlite_context_triggers() -> list[str]:
    cols = ", ".join(_NOTE_COLS)
    new = ", ".join(f"new.{c}" for c in _NOTE_COLS)
    old = ", ".join(f"old.{c}" for c in _NOTE_COLS)
    refresh = (f"UPDATE notes SET search_context = {context_sql('new.id')} WHERE id = new.id "
               f"AND search_context IS NOT {context_sql('new.id')};")
    touch = "UPDATE notes SET search_context = {ctx} WHERE {where};"
    ctx = context_sql("notes.id")
    return [
        f"CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN "
        f"INSERT INTO notes_fts(rowid, {cols}) VALUES (new.id, {new}); {refresh} END",
        f"CREATE TRIGGER notes_fts_au AFTER UPDATE ON notes BEGIN "
        f"INSERT INTO notes_fts(notes_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); {refresh} "
        f"INSERT INTO notes_fts(rowid, {cols}) SELECT id, {cols} FROM notes WHERE id = new.id; END",
        "CREATE TRIGGER note_topics_ctx_ai AFTER INSERT ON note_topics BEGIN "
        + touch.format(ctx=ctx, where="id = new.note_id") + " END",
        "CREATE TRIGGER note_topics_ctx_ad AFTER DELETE ON note_topics BEGIN "
        + touch.format(ctx=ctx, where="id = old.note_id") + " END",
        "CREATE TRIGGER customers_ctx_au AFTER UPDATE OF name ON customers BEGIN "
        + touch.format(ctx=ctx, where="customer_id = new.id") + " END",
        "CREATE TRIGGER topics_ctx_au AFTER UPDATE OF name ON topics BEGIN "
        + touch.format(ctx=ctx, where="id IN (SELECT note_id FROM note_topics WHERE topic_id = new.id)")
        + " END",
    ]


def _sqlite_attendee_triggers() -> list[str]:
    return [
        "CREATE TRIGGER notes_attendees_ai AFTER INSERT ON notes BEGIN "
        f"{attendee_rows_sql('new.id', 'new.attendees')}; END",
        "CREATE TRIGGER notes_attendees_au AFTER UPDATE OF attendees ON notes BEGIN "
        "DELETE FROM note_attendees WHERE note_id = new.id; "
        f"{attendee_rows_sql('new.id', 'new.attendees')}; END",
    ]


def _sqlite_action_item_fts() -> list[str]:
    fts = "action_items_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(text, content='action_items', content_rowid='id', "
        f"tokenize='{_TOKENIZE}', prefix='2 3')",
        f"CREATE TRIGGER action_items_fts_ai AFTER INSERT ON action_items BEGIN "
        f"INSERT INTO {fts}(rowid, text) VALUES (new.id, new.text); END",
        f"CREATE TRIGGER action_items_fts_ad AFTER DELETE ON action_items BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, text) VALUES ('delete', old.id, old.text); END",
        f"CREATE TRIGGER action_items_fts_au AFTER UPDATE OF text ON action_items BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, text) VALUES ('delete', old.id, old.text); "
        f"INSERT INTO {fts}(rowid, text) VALUES (new.id, new.text); END",
    ]


def sqlite_note_triggers() -> tuple[str, ...]:
    """The triggers that index a note (and its action items) as it is inserted: set aside by the bulk
    import, which then indexes the new notes itself with :func:`context_sql`,
    :func:`attendee_rows_sql` and one insert into each full-text table."""
    return (*_CONTEXT_TRIGGERS, "notes_attendees_ai", "notes_attendees_au", "action_items_fts_ai")


_PG_NOTE_CONTEXT = """
CREATE OR REPLACE FUNCTION callnotes_note_context() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_context := trim(
    coalesce((SELECT c.name FROM customers c WHERE c.id = NEW.customer_id), '') || ' ' ||
    coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name_key) FROM topics t
              JOIN note_topics nt ON nt.topic_id = t.id WHERE nt.note_id = NEW.id), '') || ' ' ||
    coalesce((SELECT string_agg(a.v, ' ') FROM json_array_elements_text(
                CASE WHEN json_typeof(NEW.attendees) = 'array' THEN NEW.attendees ELSE '[]'::json END)
              AS a(v)), ''));
  RETURN NEW;
END $$
"""
_PG_ATTENDEES = """
CREATE FUNCTION callnotes_note_attendees() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM note_attendees WHERE note_id = NEW.id;
  END IF;
  INSERT INTO note_attendees (note_id, position, name, name_key)
    SELECT NEW.id, (a.n - 1)::int, left(btrim(a.v), 320), lower(left(btrim(a.v), 320))
    FROM json_array_elements_text(
      CASE WHEN json_typeof(NEW.attendees) = 'array' THEN NEW.attendees ELSE '[]'::json END)
      WITH ORDINALITY AS a(v, n)
    WHERE btrim(a.v) <> '';
  RETURN NULL;
END $$
"""


def _postgres_statements() -> list[str]:
    return [
        _PG_NOTE_CONTEXT,
        _PG_ATTENDEES,
        "CREATE TRIGGER notes_attendees AFTER INSERT OR UPDATE OF attendees ON notes "
        "FOR EACH ROW EXECUTE FUNCTION callnotes_note_attendees()",
        "ALTER TABLE action_items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        "(to_tsvector('english'::regconfig, coalesce(text, ''))) STORED",
        "CREATE INDEX ix_action_items_search_vector ON action_items USING gin (search_vector)",
    ]


def _backfill(bind: Connection) -> None:
    """Existing notes: attendees into ``note_attendees``, the context (with attendees) re-indexed."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "INSERT INTO note_attendees (note_id, position, name, name_key) "
            "SELECT n.id, (a.k - 1)::int, left(btrim(a.v), 320), lower(left(btrim(a.v), 320)) FROM notes n, "
            "json_array_elements_text(CASE WHEN json_typeof(n.attendees) = 'array' THEN n.attendees "
            "ELSE '[]'::json END) WITH ORDINALITY AS a(v, k) WHERE btrim(a.v) <> ''")
        bind.exec_driver_sql("UPDATE notes SET search_context = search_context "
                             "WHERE json_typeof(attendees) = 'array' AND json_array_length(attendees) > 0")
        return
    bind.exec_driver_sql(attendee_rows_sql("n.id", "n.attendees", "notes n, "))
    bind.exec_driver_sql(f"UPDATE notes SET search_context = {context_sql('notes.id')} "
                         "WHERE id IN (SELECT note_id FROM note_attendees)")


def create(bind: Connection) -> None:
    """Create this revision's triggers and search objects, then fill them for existing rows."""
    if bind.dialect.name == "postgresql":
        for statement in _postgres_statements():
            bind.exec_driver_sql(statement)
    else:
        for name in _CONTEXT_TRIGGERS:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        for statement in (*_sqlite_context_triggers(), *_sqlite_attendee_triggers(),
                          *_sqlite_action_item_fts()):
            bind.exec_driver_sql(statement)
    _backfill(bind)


def drop(bind: Connection) -> None:
    """Undo :func:`create`: 0001's context (without attendees) comes back and is refilled."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS notes_attendees ON notes")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS callnotes_note_attendees()")
        old_context = fts_0001._PG_NOTE_CONTEXT.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        bind.exec_driver_sql(old_context)
        bind.exec_driver_sql("UPDATE notes SET search_context = search_context")
        return
    for name in (*_CONTEXT_TRIGGERS, "notes_attendees_ai", "notes_attendees_au", "action_items_fts_ai",
                 "action_items_fts_ad", "action_items_fts_au"):
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS action_items_fts")
    for statement in fts_0001._sqlite_statements():
        if statement.startswith(tuple(f"CREATE TRIGGER {name} " for name in _CONTEXT_TRIGGERS)):
            bind.exec_driver_sql(statement)
    bind.exec_driver_sql(f"UPDATE notes SET search_context = {fts_0001._ctx_sql('notes.id')}")
