"""Full-text search over notes, customers, sellers, solution engineers and topics.

One entry point, :func:`search`. SQLite uses the FTS5 tables of migration 0001 (bm25 ranking,
``snippet()``); PostgreSQL the generated ``search_vector`` columns (``ts_rank_cd``, ``ts_headline``).

The user's text never reaches SQL as SQL: it is cut into word tokens (letters, digits, ``_``), each
token is quoted for FTS5 / joined with ``&`` for ``to_tsquery``, the last one as a prefix (search as
you type), and the result is passed as a bound parameter. Quotes, ``*``, ``-``, ``NEAR``, ``OR``,
parentheses… are therefore plain words or separators and cannot cause a syntax error.

Snippets are safe to render: the database marks matches with two private-use characters, the text
is HTML-escaped, and only then are the marks turned into ``<mark>``/``</mark>`` (always balanced).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, select, true
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from callnotes.store.models import (
    Customer,
    Note,
    Seller,
    SolutionEngineer,
    Topic,
    note_title,
)
from callnotes.store.repo.customers import customer_ids_of_seller
from callnotes.store.repo.topics import note_ids_with_topic

KINDS = ("note", "customer", "seller", "solution_engineer", "topic")
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_MAX_TOKENS = 12
_MAX_TOKEN_LENGTH = 60
#: bm25 column weights (title, customer + topics, body) and tsvector weights D, C, B, A.
_NOTE_BM25 = (8.0, 4.0, 1.0)
_PG_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
_PG_HEADLINE = f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=28, MinWords=10, ShortWord=2, MaxFragments=2"


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. Any filter set → only notes and customers are searched.

    ``topic`` is a topic name (any case); dates bound the note's call date (inclusive).
    ``kinds`` limits the result kinds (subset of :data:`KINDS`).
    """

    customer_id: int | None = None
    seller_id: int | None = None
    topic: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    kinds: frozenset[str] | None = None

    @property
    def narrowing(self) -> bool:
        return any(v is not None for v in (self.customer_id, self.seller_id, self.topic, self.date_from,
                                           self.date_to))


@dataclass(frozen=True)
class SearchHit:
    """One result. ``snippet`` is HTML-escaped text with ``<mark>`` around matches; higher rank = better."""

    kind: str
    id: int
    title: str
    snippet: str
    rank: float


def query_tokens(query: str) -> list[str]:
    """The words of ``query`` that are searched for (at most 12, each at most 60 characters)."""
    return [t[:_MAX_TOKEN_LENGTH] for t in _TOKEN.findall(query or "")][:_MAX_TOKENS]


def fts5_match_expression(tokens: list[str]) -> str:
    """An FTS5 MATCH string: every token a quoted phrase (AND), the last one a prefix."""
    quoted = [f'"{t}"' for t in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery_expression(tokens: list[str]) -> str:
    """A ``to_tsquery`` string: tokens joined by ``&``, the last one a prefix."""
    return " & ".join([*tokens[:-1], f"{tokens[-1]}:*"])


def safe_snippet(raw: str | None) -> str:
    """Escape ``raw`` for HTML, then turn the match marks into balanced ``<mark>`` tags."""
    out: list[str] = []
    open_mark = False
    for part in re.split(f"([{_OPEN}{_CLOSE}])", raw or ""):
        if part == _OPEN:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == _CLOSE:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(html.escape(_SPACES.sub(" ", part), quote=True))
    if open_mark:
        out.append("</mark>")
    return re.sub(r"(<mark>|</mark>) +(?=<mark>|</mark>)", r"\1 ", "".join(out)).strip()


def search(session: Session, query: str, filters: SearchFilters | None = None, *,
           limit: int = 50) -> list[SearchHit]:
    """Ranked hits for ``query`` (best first, at most ``limit``); no words in the query → ``[]``."""
    filters = filters or SearchFilters()
    tokens = query_tokens(query)
    if not tokens or limit <= 0:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    match = tsquery_expression(tokens) if postgres else fts5_match_expression(tokens)
    kinds = set(filters.kinds or KINDS) & set(KINDS)
    if filters.narrowing:
        kinds &= {"note", "customer"}
    hits: list[SearchHit] = []
    backend = _Postgres(session, match) if postgres else _Sqlite(session, match)
    if "note" in kinds:
        hits += backend.notes(_note_conditions(filters), limit)
    if "customer" in kinds:
        hits += backend.simple("customer", Customer, _customer_conditions(filters), limit)
    for kind, model in (("seller", Seller), ("solution_engineer", SolutionEngineer), ("topic", Topic)):
        if kind in kinds:
            hits += backend.simple(kind, model, [], limit)
    hits.sort(key=lambda h: (-h.rank, h.kind, h.id))
    return hits[:limit]


def _customer_id_conditions(column: Any, filters: SearchFilters) -> list[ColumnElement[bool]]:
    """The customer and seller filters on a customer id column (``notes.customer_id``, ``customers.id``)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.customer_id is not None:
        conditions.append(column == filters.customer_id)
    if filters.seller_id is not None:
        conditions.append(column.in_(customer_ids_of_seller(filters.seller_id)))
    return conditions


def _note_conditions(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions = _customer_id_conditions(Note.customer_id, filters)
    if filters.topic:
        conditions.append(Note.id.in_(note_ids_with_topic(filters.topic)))
    if filters.date_from is not None:
        conditions.append(Note.call_date >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Note.call_date <= filters.date_to)
    return conditions


def _customer_conditions(filters: SearchFilters) -> list[ColumnElement[bool]] | None:
    """Conditions on customers, or None when the filters exclude customers altogether."""
    if filters.topic or filters.date_from is not None or filters.date_to is not None:
        return None
    return _customer_id_conditions(Customer.id, filters)


def _title(kind: str, row: Any) -> str:
    if kind == "note":
        return note_title(row.title, row.body_start, row.call_date)
    return row.name


class _Sqlite:
    def __init__(self, session: Session, match: str) -> None:
        self.session, self.match = session, match

    def _fts(self, table: str) -> tuple[Any, Any]:
        """The FTS5 table (to join on rowid) and its name as a column (for MATCH, bm25, snippet)."""
        return sa_table(table, sa_column("rowid")), literal_column(table)

    def notes(self, conditions: list[ColumnElement[bool]], limit: int) -> list[SearchHit]:
        """Two steps: rank ids without snippets (cheap on many matches), then snippet the top ones only."""
        fts_table, fts = self._fts("notes_fts")
        bm25 = func.bm25(fts, *_NOTE_BM25)
        ranked = select(fts_table.c.rowid, bm25.label("score")).select_from(fts_table)
        if conditions:
            ranked = ranked.join(Note, Note.id == fts_table.c.rowid)
        ranked = (
            ranked.where(fts.op("MATCH")(self.match), *conditions)
            .order_by(bm25, fts_table.c.rowid.desc())
            .limit(limit)
        )
        scores = {row_id: score for row_id, score in self.session.execute(ranked)}
        if not scores:
            return []
        stmt = (
            select(Note.id, Note.title, func.substr(Note.body, 1, 300).label("body_start"), Note.call_date,
                   func.snippet(fts, -1, _OPEN, _CLOSE, "…", 24).label("snippet"))
            .select_from(fts_table)
            .join(Note, Note.id == fts_table.c.rowid)
            .where(fts.op("MATCH")(self.match), fts_table.c.rowid.in_(list(scores)))
        )
        hits = [SearchHit("note", row.id, _title("note", row), safe_snippet(row.snippet),
                          -float(scores[row.id])) for row in self.session.execute(stmt)]
        return sorted(hits, key=lambda h: (-h.rank, -h.id))

    def simple(self, kind: str, model: Any, conditions: list[ColumnElement[bool]] | None,
               limit: int) -> list[SearchHit]:
        if conditions is None:
            return []
        table = model.__tablename__
        fts_table, fts = self._fts(f"{table}_fts")
        stmt = (
            select(model.id, model.name, func.snippet(fts, -1, _OPEN, _CLOSE, "…", 16).label("snippet"),
                   func.bm25(fts).label("score"))
            .select_from(model)
            .join(fts_table, fts_table.c.rowid == model.id)
            .where(fts.op("MATCH")(self.match), *conditions)
            .order_by(func.bm25(fts), model.id)
            .limit(limit)
        )
        return self._hits(kind, stmt)

    def _hits(self, kind: str, stmt: Select[Any]) -> list[SearchHit]:
        return [SearchHit(kind, row.id, _title(kind, row), safe_snippet(row.snippet), -float(row.score))
                for row in self.session.execute(stmt)]


class _Postgres:
    def __init__(self, session: Session, match: str) -> None:
        self.session = session
        self.query = func.to_tsquery(literal_column("'english'::regconfig"), match)

    def _ranked(self, model: Any, conditions: list[ColumnElement[bool]], limit: int) -> Any:
        vector: ColumnElement[Any] = literal_column(f"{model.__tablename__}.search_vector")
        rank = func.ts_rank_cd(literal_column(f"'{_PG_WEIGHTS}'::float4[]"), vector, self.query)
        return (
            select(model.id.label("hit_id"), rank.label("score"))
            .where(vector.op("@@")(self.query), *conditions)
            .order_by(rank.desc(), model.id.desc())
            .limit(limit)
            .subquery()
        )

    def _headline(self, text: Any) -> Any:
        return func.ts_headline(literal_column("'english'::regconfig"), text, self.query, _PG_HEADLINE)

    def notes(self, conditions: list[ColumnElement[bool]], limit: int) -> list[SearchHit]:
        ranked = self._ranked(Note, conditions, limit)
        text = func.concat_ws(" · ", func.nullif(Note.search_context, ""), Note.body)
        stmt = (
            select(Note.id, Note.title, func.substr(Note.body, 1, 300).label("body_start"), Note.call_date,
                   self._headline(text).label("snippet"), ranked.c.score)
            .join(ranked, ranked.c.hit_id == Note.id)
            .order_by(ranked.c.score.desc(), Note.id.desc())
        )
        return self._hits("note", stmt)

    def simple(self, kind: str, model: Any, conditions: list[ColumnElement[bool]] | None,
               limit: int) -> list[SearchHit]:
        if conditions is None:
            return []
        ranked = self._ranked(model, conditions or [true()], limit)
        text = model.name
        if model is Customer:
            text = func.concat_ws(" · ", Customer.name, Customer.tpid,
                                  func.nullif(Customer.account_notes, ""))
        elif model in (Seller, SolutionEngineer):
            text = func.concat_ws(" · ", model.name, model.email)
        stmt = (
            select(model.id, model.name, self._headline(text).label("snippet"), ranked.c.score)
            .join(ranked, ranked.c.hit_id == model.id)
            .order_by(ranked.c.score.desc(), model.id)
        )
        return self._hits(kind, stmt)

    def _hits(self, kind: str, stmt: Select[Any]) -> list[SearchHit]:
        return [SearchHit(kind, row.id, _title(kind, row), safe_snippet(row.snippet), float(row.score))
                for row in self.session.execute(stmt)]


__all__ = ["KINDS", "SearchFilters", "SearchHit", "query_tokens", "safe_snippet", "search"]
