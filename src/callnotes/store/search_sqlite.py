
"""Search on SQLite: the FTS5 tables of migrations 0001 and 0007 (see ``store/search.py``).

Plans that stay cheap at 100,000 notes (measured in ``bench/search_bench.py``):

* the rank window is found by walking the match list backwards (``ORDER BY rowid DESC LIMIT 1
  OFFSET n``: no ranking function runs), then ``bm25`` runs on the window only;
* with filters, the newest window of filtered matches is found from the notes' side (the filter's
  index, each note checked against the match list), then ranked; FTS5 is never made to evaluate the
  query once per row (``rowid IN (…)`` on the virtual table does that: the ``+`` in ``+rowid IN``
  keeps the planner from pushing a list into the full-text index);
* snippets are made for the rows kept, in one pass over the matches bounded by their rowid range;
* newest first: few matches → fetch and sort them; many → walk the call-date index and keep the
  matches (``+id IN``), stopping at ``limit``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from callnotes.store.search_common import (
    MARK_CLOSE,
    MARK_OPEN,
    RANK_WINDOW,
    NoteWhere,
    SearchHit,
    as_date,
    customer_cond,
    fts5_match_expression,
    note_hit,
    safe_snippet,
    statement,
)

#: Below this many matches, newest-first sorts the matches; from it on, it walks the date index.
_DENSE = 2000
_FLOOR = ("SELECT {fts}.rowid FROM {fts} WHERE {fts} MATCH :match "
          "ORDER BY {fts}.rowid DESC LIMIT 1 OFFSET :last")
_RANK = ("SELECT {fts}.rowid AS id, bm25({fts}{weights}) AS score FROM {fts} "
         "WHERE {fts} MATCH :match AND {fts}.rowid >= coalesce(({floor}), 0) "
         "ORDER BY score, {fts}.rowid DESC LIMIT :limit")
_RANK_IDS = ("SELECT {fts}.rowid AS id, bm25({fts}{weights}) AS score FROM {fts} "
             "WHERE {fts} MATCH :match AND {fts}.rowid BETWEEN :lo AND :hi "
             "AND +{fts}.rowid IN :ids ORDER BY score, {fts}.rowid DESC LIMIT :limit")
_FILTERED_NOTES = ("SELECT n.id FROM notes n WHERE {where} AND n.id IN "
                   "(SELECT notes_fts.rowid FROM notes_fts WHERE notes_fts MATCH :match) "
                   "ORDER BY n.id DESC LIMIT :window")
_FILTERED_ITEMS = ("SELECT a.id FROM action_items a JOIN notes n ON n.id = a.note_id WHERE {where} "
                   "AND a.id IN (SELECT action_items_fts.rowid FROM action_items_fts "
                   "WHERE action_items_fts MATCH :match) ORDER BY a.id DESC LIMIT :window")
_NOTE_ROWS = ("SELECT n.id, n.title, substr(n.body, 1, 300) AS body_start, n.call_date, "
              "c.name AS customer, snippet(notes_fts, -1, :open, :close, '…', 24) AS snippet "
              "FROM notes_fts JOIN notes n ON n.id = notes_fts.rowid "
              "LEFT JOIN customers c ON c.id = n.customer_id "
              "WHERE notes_fts MATCH :match AND notes_fts.rowid BETWEEN :lo AND :hi "
              "AND +notes_fts.rowid IN :ids")
_ITEM_ROWS = ("SELECT a.id, a.note_id, a.text, n.call_date, c.name AS customer, "
              "snippet(action_items_fts, 0, :open, :close, '…', 24) AS snippet "
              "FROM action_items_fts JOIN action_items a ON a.id = action_items_fts.rowid "
              "JOIN notes n ON n.id = a.note_id LEFT JOIN customers c ON c.id = n.customer_id "
              "WHERE action_items_fts MATCH :match AND action_items_fts.rowid BETWEEN :lo AND :hi "
              "AND +action_items_fts.rowid IN :ids")
_NEWEST = ("SELECT n.id FROM notes n WHERE {plus}n.id IN "
           "(SELECT notes_fts.rowid FROM notes_fts WHERE notes_fts MATCH :match) {where} "
           "ORDER BY n.call_date DESC, n.created_at DESC, n.id DESC LIMIT :limit")
_COUNT = "SELECT count(*) FROM (SELECT 1 FROM notes_fts WHERE notes_fts MATCH :match LIMIT :cap)"
_OTHER = ("SELECT * FROM (SELECT '{kind}' AS kind, t.id AS id, t.name AS title, "
          "snippet({table}_fts, -1, :open, :close, '…', 16) AS snippet, bm25({table}_fts) AS score "
          "FROM {table}_fts JOIN {table} t ON t.id = {table}_fts.rowid "
          "WHERE {table}_fts MATCH :match {cond} ORDER BY score, t.id LIMIT :limit)")
_TABLES = {"customer": "customers", "seller": "sellers", "solution_engineer": "solution_engineers",
           "topic": "topics"}


class SqliteSearch:
    """One query's searches on SQLite (``tokens`` already cut by ``query_tokens``)."""

    def __init__(self, session: Session, tokens: list[str]) -> None:
        self.session = session
        self.params: dict[str, Any] = {"match": fts5_match_expression(tokens), "open": MARK_OPEN,
                                       "close": MARK_CLOSE}

    def _rows(self, sql: str, params: dict[str, Any], expanding: tuple[str, ...] = ()) -> list[Any]:
        values = {**self.params, **params}
        return list(self.session.execute(statement(sql, values, expanding=expanding), values))

    def _ranked(self, fts: str, weights: str, filtered: str | None, where: NoteWhere,
                limit: int) -> dict[int, float]:
        """Best ``limit`` of the newest :data:`RANK_WINDOW` matches of ``fts`` (those the filters keep,
        found by the ``filtered`` statement, when there are filters): {rowid: bm25}."""
        if filtered is None or where.empty:
            sql = _RANK.format(fts=fts, weights=weights, floor=_FLOOR.format(fts=fts))
            rows = self._rows(sql, {"last": RANK_WINDOW - 1, "limit": limit})
        else:
            found = self._rows(filtered.format(where=where.sql("")), {**where.params, "window": RANK_WINDOW})
            ids = [row.id for row in found]
            if not ids:
                return {}
            rows = self._rows(_RANK_IDS.format(fts=fts, weights=weights),
                              {"ids": ids, "lo": min(ids), "hi": max(ids), "limit": limit}, ("ids",))
        return {row.id: float(row.score) for row in rows}

    def notes(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        scores = self._ranked("notes_fts", ", 8.0, 4.0, 1.0", _FILTERED_NOTES, where, limit)
        rows = self._note_rows(list(scores))
        hits = [note_hit(row, safe_snippet(row.snippet), -scores[row.id]) for row in rows]
        return sorted(hits, key=lambda h: (-h.rank, -h.id))

    def _note_rows(self, ids: list[int]) -> list[Any]:
        if not ids:
            return []
        return self._rows(_NOTE_ROWS, {"ids": ids, "lo": min(ids), "hi": max(ids)}, ("ids",))

    def notes_newest(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        dense = self._rows(_COUNT, {"cap": _DENSE})[0][0] >= _DENSE
        sql = _NEWEST.format(plus="+" if dense else "", where=where.sql(walk=dense))
        ids = [row.id for row in self._rows(sql, {**where.params, "limit": limit})]
        rows = {row.id: row for row in self._note_rows(ids)}
        return [note_hit(rows[i], safe_snippet(rows[i].snippet), float(len(ids) - n))
                for n, i in enumerate(ids) if i in rows]

    def action_items(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        scores = self._ranked("action_items_fts", "", _FILTERED_ITEMS, where, limit)
        if not scores:
            return []
        ids = list(scores)
        rows = self._rows(_ITEM_ROWS, {"ids": ids, "lo": min(ids), "hi": max(ids)}, ("ids",))
        return [SearchHit("action_item", row.id, row.text, safe_snippet(row.snippet), -scores[row.id],
                          as_date(row.call_date), row.customer, row.note_id) for row in rows]

    def others(self, kinds: list[str], customer_id: int | None, seller_id: int | None,
               limit: int) -> list[SearchHit]:
        """Customers, sellers, solution engineers and topics in one statement."""
        parts = []
        for kind in kinds:
            cond = customer_cond(customer_id, seller_id) if kind == "customer" else ""
            parts.append(_OTHER.format(kind=kind, table=_TABLES[kind], cond=cond))
        params = {"limit": limit, "o_customer": customer_id, "o_seller": seller_id}
        rows = self._rows(" UNION ALL ".join(parts), params)
        return [SearchHit(row.kind, row.id, row.title, safe_snippet(row.snippet), -float(row.score))
                for row in rows]

