# ruff: noqa: S608  -- SQL assembled only from this module's constant fragments; values are bound
"""Search on PostgreSQL: the generated ``search_vector`` columns and their GIN indexes (see
``store/search.py``). The same plan as SQLite's: rank the newest :data:`RANK_WINDOW` matches
(``ts_rank_cd``), headline only the rows kept (``ts_headline``), newest first by the call date."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from callnotes.store.search_common import (
    MARK_CLOSE,
    MARK_OPEN,
    RANK_WINDOW,
    NoteWhere,
    SearchHit,
    customer_cond,
    note_hit,
    safe_snippet,
    statement,
    tsquery_expression,
)

_QUERY = "to_tsquery('english'::regconfig, :match)"
#: tsvector weights D, C, B, A (notes: title A, customer + topics + attendees B, body C); braces
#: doubled, as the statements below are ``str.format`` templates.
_WEIGHTS = "'{{0.1, 0.2, 0.5, 1.0}}'::float4[]"
_HEADLINE = (f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=28, MinWords=10, ShortWord=2, "
             "MaxFragments=2")
_RANK = (f"WITH cand AS (SELECT {{v}}.id, {{v}}.search_vector FROM {{source}} "
         f"WHERE {{v}}.search_vector @@ {_QUERY} {{where}} ORDER BY {{v}}.id DESC LIMIT :window) "
         f"SELECT id, ts_rank_cd({_WEIGHTS}, search_vector, {_QUERY}) AS score FROM cand "
         "ORDER BY score DESC, id DESC LIMIT :limit")
_NOTE_ROWS = ("SELECT n.id, n.title, substr(n.body, 1, 300) AS body_start, n.call_date, c.name AS customer, "
              f"ts_headline('english'::regconfig, concat_ws(' · ', nullif(n.search_context, ''), n.body), "
              f"{_QUERY}, :headline) AS snippet "
              "FROM notes n LEFT JOIN customers c ON c.id = n.customer_id WHERE n.id IN :ids")
_ITEM_ROWS = ("SELECT a.id, a.note_id, a.text, n.call_date, c.name AS customer, "
              f"ts_headline('english'::regconfig, a.text, {_QUERY}, :headline) AS snippet "
              "FROM action_items a JOIN notes n ON n.id = a.note_id "
              "LEFT JOIN customers c ON c.id = n.customer_id "
              "WHERE a.id IN :ids")
#: Newest first: few matches are fetched through the GIN index and sorted (the CTE keeps the planner
#: from walking the date index past every note, testing each); many walk the date index.
_NEWEST_FEW = (f"WITH m AS MATERIALIZED (SELECT n.id, n.call_date, n.created_at FROM notes n "
               f"WHERE n.search_vector @@ {_QUERY} {{where}}) "
               "SELECT id FROM m ORDER BY call_date DESC, created_at DESC, id DESC LIMIT :limit")
_NEWEST_MANY = (f"SELECT n.id FROM notes n WHERE n.search_vector @@ {_QUERY} {{where}} "
                "ORDER BY n.call_date DESC, n.created_at DESC, n.id DESC LIMIT :limit")
_COUNT = f"SELECT count(*) FROM (SELECT 1 FROM notes n WHERE n.search_vector @@ {_QUERY} LIMIT :cap) s"
_DENSE = 2000
_OTHER = (f"(SELECT '{{kind}}' AS kind, t.id, t.name AS title, "
          f"ts_headline('english'::regconfig, {{text}}, {_QUERY}, :headline) AS snippet, "
          f"ts_rank_cd({_WEIGHTS}, t.search_vector, {_QUERY}) AS score FROM {{table}} t "
          f"WHERE t.search_vector @@ {_QUERY} {{cond}} ORDER BY score DESC, t.id LIMIT :limit)")
_OTHER_TABLES = {
    "customer": ("customers", "concat_ws(' · ', t.name, t.tpid, nullif(t.account_notes, ''))"),
    "seller": ("sellers", "concat_ws(' · ', t.name, t.email)"),
    "solution_engineer": ("solution_engineers", "concat_ws(' · ', t.name, t.email)"),
    "topic": ("topics", "t.name"),
}


class PostgresSearch:
    """One query's searches on PostgreSQL (``tokens`` already cut by ``query_tokens``)."""

    def __init__(self, session: Session, tokens: list[str]) -> None:
        self.session = session
        self.params: dict[str, Any] = {"match": tsquery_expression(tokens), "headline": _HEADLINE}

    def _rows(self, sql: str, params: dict[str, Any], expanding: tuple[str, ...] = ()) -> list[Any]:
        values = {**self.params, **params}
        return list(self.session.execute(statement(sql, values, expanding=expanding), values))

    def _ranked(self, source: str, vector: str, where: NoteWhere, limit: int) -> dict[int, float]:
        """Best ``limit`` of the newest :data:`RANK_WINDOW` matches in ``vector``'s table: {id: rank}."""
        sql = _RANK.format(source=source, v=vector, where=where.sql())
        rows = self._rows(sql, {**where.params, "window": RANK_WINDOW, "limit": limit})
        return {row.id: float(row.score) for row in rows}

    def notes(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        scores = self._ranked("notes n", "n", where, limit)
        if not scores:
            return []
        rows = self._rows(_NOTE_ROWS, {"ids": list(scores)}, ("ids",))
        hits = [note_hit(row, safe_snippet(row.snippet), scores[row.id]) for row in rows]
        return sorted(hits, key=lambda h: (-h.rank, -h.id))

    def notes_newest(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        dense = self._rows(_COUNT, {"cap": _DENSE})[0][0] >= _DENSE
        sql = (_NEWEST_MANY if dense else _NEWEST_FEW).format(where=where.sql())
        found = self._rows(sql, {**where.params, "limit": limit})
        ids = [row.id for row in found]
        if not ids:
            return []
        rows = {row.id: row for row in self._rows(_NOTE_ROWS, {"ids": ids}, ("ids",))}
        return [note_hit(rows[i], safe_snippet(rows[i].snippet), float(len(ids) - n))
                for n, i in enumerate(ids) if i in rows]

    def action_items(self, where: NoteWhere, limit: int) -> list[SearchHit]:
        scores = self._ranked("action_items a JOIN notes n ON n.id = a.note_id", "a", where, limit)
        if not scores:
            return []
        rows = self._rows(_ITEM_ROWS, {"ids": list(scores)}, ("ids",))
        return [SearchHit("action_item", row.id, row.text, safe_snippet(row.snippet), scores[row.id],
                          row.call_date, row.customer, row.note_id) for row in rows]

    def others(self, kinds: list[str], customer_id: int | None, seller_id: int | None,
               limit: int) -> list[SearchHit]:
        parts = []
        for kind in kinds:
            table, text = _OTHER_TABLES[kind]
            cond = customer_cond(customer_id, seller_id) if kind == "customer" else ""
            parts.append(_OTHER.format(kind=kind, table=table, text=text, cond=cond))
        params = {"limit": limit, "o_customer": customer_id, "o_seller": seller_id}
        rows = self._rows(" UNION ALL ".join(parts), params)
        return [SearchHit(row.kind, row.id, row.title, safe_snippet(row.snippet), float(row.score))
                for row in rows]
