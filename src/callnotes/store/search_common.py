"""What the search backends share: filters, hits, query tokens, safe snippets, the filter SQL.

See ``store/search.py`` for how search works; this module holds the pieces both ``search_sqlite``
and ``search_postgres`` use.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, TextClause, bindparam, text

from callnotes.store.models import note_title
from callnotes.store.repo.topics import normalise_topic_name

KINDS = ("note", "action_item", "customer", "seller", "solution_engineer", "topic")
#: How many of the newest matches are ranked (see the module docstring).
RANK_WINDOW = 500
MARK_OPEN, MARK_CLOSE = "\ufdd0", "\ufdd1"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_MARKDOWN = re.compile(r"^\s*(#{1,6}\s+|>\s*|[-*+]\s+(\[[ xX]\]\s+)?|\d+[.)]\s+)")
_MAX_TOKENS = 12
_MAX_TOKEN_LENGTH = 60
_EXCERPT = 200


class SearchOrder(StrEnum):
    """``relevance``: best first, every kind. ``newest``: notes only, latest call date first."""

    RELEVANCE = "relevance"
    NEWEST = "newest"


@dataclass(frozen=True)
class SearchFilters:
    """Narrow a search. Any filter set → only notes, action items and (for customer / seller
    filters) customers are searched.

    ``topic`` is a topic name and ``attendee`` an attendee as written on notes (any case); dates bound
    the note's call date (inclusive). ``kinds`` limits the result kinds (subset of :data:`KINDS`).
    """

    customer_id: int | None = None
    seller_id: int | None = None
    topic: str | None = None
    attendee: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    kinds: frozenset[str] | None = None

    @property
    def narrowing(self) -> bool:
        return any(v is not None for v in (self.customer_id, self.seller_id, self.topic, self.attendee,
                                           self.date_from, self.date_to))


@dataclass(frozen=True)
class SearchHit:
    """One result. ``snippet`` is HTML-escaped text with ``<mark>`` around matches; higher rank = better.

    Notes and action items also carry their (note's) call date and customer name; an action item
    the id of its note.
    """

    kind: str
    id: int
    title: str
    snippet: str
    rank: float
    call_date: date | None = None
    customer: str | None = None
    note_id: int | None = None


@dataclass(frozen=True)
class NoteWhere:
    """The filters as SQL on ``notes n``: fixed fragments joined by AND, values bound by name.

    ``sets`` are subqueries of note ids (topic, attendee): ``walk`` writes them as ``+n.id IN (…)``,
    which tells SQLite to walk the notes in the order asked for and check each against the set
    (right for a large set), instead of fetching the set's notes and sorting them (a small set).
    """

    clauses: tuple[str, ...]
    params: dict[str, Any]
    sets: tuple[str, ...] = ()

    def sql(self, prefix: str = "AND ", *, walk: bool = False) -> str:
        parts = [*self.clauses, *(f"{'+' if walk else ''}n.id IN ({s})" for s in self.sets)]
        return f"{prefix}{' AND '.join(parts)}" if parts else ""

    @property
    def empty(self) -> bool:
        return not (self.clauses or self.sets)

    def set_size_sql(self) -> str:
        """Counts the first set's notes, up to ``:cap`` (only when :attr:`sets` is not empty)."""
        return f"SELECT count(*) FROM ({self.sets[0]} LIMIT :cap) s"  # noqa: S608 - a constant fragment


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
    for part in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", raw or ""):
        if part == MARK_OPEN:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == MARK_CLOSE:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(html.escape(_SPACES.sub(" ", part), quote=True))
    if open_mark:
        out.append("</mark>")
    return re.sub(r"(<mark>|</mark>) +(?=<mark>|</mark>)", r"\1 ", "".join(out)).strip()


def excerpt(body_start: str | None) -> str:
    """The first words of a body as a snippet without marks (Markdown line markers dropped)."""
    lines = [_MARKDOWN.sub("", line).strip() for line in (body_start or "").splitlines()]
    flat = _SPACES.sub(" ", " ".join(line for line in lines if line)).strip()
    return safe_snippet(flat[:_EXCERPT] + ("…" if len(flat) > _EXCERPT else ""))


def note_where(filters: SearchFilters) -> NoteWhere:
    """The note filters of ``filters`` (customer, seller, topic, attendee, dates) as SQL on ``n``."""
    clauses: list[str] = []
    sets: list[str] = []
    params: dict[str, Any] = {}
    if filters.customer_id is not None:
        clauses.append("n.customer_id = :f_customer")
        params["f_customer"] = filters.customer_id
    if filters.seller_id is not None:
        clauses.append("n.customer_id IN (SELECT cs.customer_id FROM customer_sellers cs "
                       "WHERE cs.seller_id = :f_seller)")
        params["f_seller"] = filters.seller_id
    if filters.topic:
        sets.append("SELECT nt.note_id FROM note_topics nt WHERE nt.topic_id = "
                    "(SELECT t.id FROM topics t WHERE t.name_key = :f_topic)")
        params["f_topic"] = normalise_topic_name(filters.topic)[1]
    if filters.attendee and filters.attendee.strip():
        sets.append("SELECT na.note_id FROM note_attendees na WHERE na.name_key = lower(:f_attendee)")
        params["f_attendee"] = filters.attendee.strip()
    for name, op in (("date_from", ">="), ("date_to", "<=")):
        if getattr(filters, name) is not None:
            clauses.append(f"n.call_date {op} :f_{name}")
            params[f"f_{name}"] = getattr(filters, name)
    return NoteWhere(tuple(clauses), params, tuple(sets))


def customer_cond(customer_id: int | None, seller_id: int | None) -> str:
    """The customer / seller filters on customers ``t`` (values bound as ``o_customer``, ``o_seller``)."""
    cond = " AND t.id = :o_customer" if customer_id is not None else ""
    if seller_id is not None:
        cond += " AND t.id IN (SELECT cs.customer_id FROM customer_sellers cs WHERE cs.seller_id = :o_seller)"
    return cond


def statement(sql: str, params: dict[str, Any], *, expanding: tuple[str, ...] = ()) -> TextClause:
    """``text(sql)`` with the date filters typed (so each database gets its own date format) and
    ``expanding`` parameters bound as lists."""
    binds = [bindparam(name, type_=Date) for name in ("f_date_from", "f_date_to") if name in params]
    binds += [bindparam(name, expanding=True) for name in expanding]
    return text(sql).bindparams(*binds)


def as_date(value: Any) -> date | None:
    """A date column read through plain SQL (SQLite gives text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def note_hit(row: Any, snippet: str, rank: float) -> SearchHit:
    """A note result from a row with ``id, title, body_start, call_date, customer``."""
    call_date = as_date(row.call_date)
    return SearchHit("note", row.id, note_title(row.title, row.body_start, call_date), snippet, rank,
                     call_date, row.customer)
