"""Full-text search over notes, action items, customers, sellers, solution engineers and topics.

One entry point, :func:`search`. SQLite uses the FTS5 tables of migrations 0001 / 0007 (bm25
ranking, ``snippet()``, ``search_sqlite``); PostgreSQL the generated ``search_vector`` columns
(``ts_rank_cd``, ``ts_headline``, ``search_postgres``). Notes are found by title, body, customer
name, topic names and attendees.

Speed, whatever the number of notes (``bench/search_bench.py``):

* **Rank with a limit** — relevance is computed for the newest :data:`RANK_WINDOW` matches only
  (by the order notes were written), never for every note a common word occurs in; the best
  ``limit`` of those are returned. A rare word's matches all fit in the window, so its ranking is
  exact; a word in half the notes costs the same as one in a few hundred.
* **Snippets only for the rows shown** — a second query highlights the ``limit`` rows kept.
* **Newest first** (``order=SearchOrder.NEWEST``): notes by call date; a word with few matches sorts
  them, a common one walks the call-date index until ``limit`` are found.
* **No word, only filters** (customer, seller, topic, attendee, dates): the notes those filters
  select, newest first (the customer's, the topic's, the attendee's notes).

The user's text never reaches SQL as SQL: it is cut into word tokens (letters, digits, ``_``), each
token is quoted for FTS5 / joined with ``&`` for ``to_tsquery``, the last one as a prefix (search as
you type), and the result is passed as a bound parameter. Quotes, ``*``, ``-``, ``NEAR``, ``OR``,
parentheses… are therefore plain words or separators and cannot cause a syntax error. Filters are
fixed SQL fragments with bound values.

Snippets are safe to render: the database marks matches with two private-use characters, the text
is HTML-escaped, and only then are the marks turned into ``<mark>``/``</mark>`` (always balanced).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from callnotes.store.search_common import (
    KINDS,
    RANK_WINDOW,
    SearchFilters,
    SearchHit,
    SearchOrder,
    excerpt,
    fts5_match_expression,
    note_hit,
    note_where,
    query_tokens,
    safe_snippet,
    statement,
    tsquery_expression,
)
from callnotes.store.search_postgres import PostgresSearch
from callnotes.store.search_sqlite import SqliteSearch

_BROWSE = """
SELECT n.id, n.title, substr(n.body, 1, 300) AS body_start, n.call_date, c.name AS customer
FROM notes n LEFT JOIN customers c ON c.id = n.customer_id
{where}
ORDER BY n.call_date DESC, n.created_at DESC, n.id DESC LIMIT :limit
"""


#: A topic / attendee with at least this many notes is browsed by walking the date index (SQLite).
_LARGE_SET = 2000


def browse_notes(session: Session, filters: SearchFilters, limit: int) -> list[SearchHit]:
    """The notes the filters select, newest first (a search without a word)."""
    where = note_where(filters)
    walk = False
    if where.sets and filters.customer_id is None and session.get_bind().dialect.name == "sqlite":
        size = session.execute(statement(where.set_size_sql(), where.params),
                               {**where.params, "cap": _LARGE_SET}).scalar_one()
        walk = size >= _LARGE_SET
    sql = _BROWSE.format(where=where.sql("WHERE ", walk=walk))
    rows = session.execute(statement(sql, where.params), {**where.params, "limit": limit})
    return [note_hit(row, excerpt(row.body_start), 0.0) for row in rows]


def _kinds(filters: SearchFilters, order: SearchOrder) -> set[str]:
    kinds = set(filters.kinds or KINDS) & set(KINDS)
    if order is SearchOrder.NEWEST:
        return kinds & {"note"}
    if filters.narrowing:
        keep = {"note", "action_item"}
        if not any(getattr(filters, n) for n in ("topic", "attendee", "date_from", "date_to")):
            keep.add("customer")
        kinds &= keep
    return kinds


def search(session: Session, query: str, filters: SearchFilters | None = None, *, limit: int = 50,
           order: SearchOrder | str = SearchOrder.RELEVANCE) -> list[SearchHit]:
    """Hits for ``query`` (at most ``limit``): customers, people and topics, then notes and action
    items, each best first; or notes newest first.

    No words in the query: the notes the filters select, newest first; no filters either → ``[]``.
    """
    filters = filters or SearchFilters()
    order = SearchOrder(order)
    tokens = query_tokens(query)
    if limit <= 0:
        return []
    if not tokens:
        return browse_notes(session, filters, limit) if filters.narrowing else []
    postgres = session.get_bind().dialect.name == "postgresql"
    backend = PostgresSearch(session, tokens) if postgres else SqliteSearch(session, tokens)
    kinds = _kinds(filters, order)
    where = note_where(filters)
    if order is SearchOrder.NEWEST:
        return backend.notes_newest(where, limit) if "note" in kinds else []
    # Customers, people and topics first (few, and what a name typed is usually after), then notes
    # and action items; each group best first.
    others = [kind for kind in KINDS[2:] if kind in kinds]
    hits = backend.others(others, filters.customer_id, filters.seller_id, limit) if others else []
    hits.sort(key=lambda h: (-h.rank, h.kind, h.id))
    writing: list[SearchHit] = []
    if "note" in kinds:
        writing += backend.notes(where, limit)
    if "action_item" in kinds:
        writing += backend.action_items(where, limit)
    writing.sort(key=lambda h: (-h.rank, h.kind, h.id))
    return (hits + writing)[:limit]


__all__ = ["KINDS", "RANK_WINDOW", "SearchFilters", "SearchHit", "SearchOrder", "browse_notes",
           "fts5_match_expression", "query_tokens", "safe_snippet", "search", "tsquery_expression"]
