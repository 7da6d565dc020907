"""OData query options and their execution against one table.

Pages follow powerapps-docs/developer/data-platform/webapi/query/page-results.md: at most
5,000 rows a page (``Prefer: odata.maxpagesize`` lowers it), ``@odata.nextLink`` carrying a
``$skiptoken`` paging cookie, ``$top`` ignored when ``odata.maxpagesize`` is present, no ``$skip``.
``$count=true`` counts matching rows up to 5,000 (query/count-rows.md). ``$select`` and unknown
properties: query/select-columns.md and the "Could not find a property" error in
troubleshoot .../web-api-client-errors. ``$orderby``: query/order-rows.md. ``$expand`` of
single-valued navigation properties: query/join-tables.md.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from callnotes.emulator import errors
from callnotes.emulator.formatting import (
    RecordWriter,
    Wants,
    annotation_filter,
    lookup_target,
    no_annotations,
)
from callnotes.emulator.odata_filter import CompiledFilter, compile_filter
from callnotes.emulator.table_definitions import Column, EntityType, Navigation
from callnotes.emulator.tables import Database, Row, Table

MAX_PAGE_SIZE = 5000
COUNT_LIMIT = 5000
MSX_ACCOUNTTEAM_CAP = 100  # msx-integration-guide.md "Record Limits and Pagination"
_SUPPORTED = {"$select", "$filter", "$orderby", "$top", "$count", "$expand", "$skiptoken"}
_LAST_RE = re.compile(r'last="\{?([0-9a-fA-F-]{36})\}?"')
_OFFSET_RE = re.compile(r'offset="(\d+)"')
_SEQ_RE = re.compile(r'seq="(\d+)"')


@dataclass(frozen=True)
class Expansion:
    navigation: Navigation
    source: Column
    columns: tuple[Column, ...] | None


@dataclass
class QueryOptions:
    select: tuple[Column, ...] | None = None
    filter: CompiledFilter | None = None
    orderby: list[tuple[Column, bool]] = field(default_factory=list)
    top: int | None = None
    count: bool = False
    expand: list[Expansion] = field(default_factory=list)
    skiptoken: str | None = None
    fetch_xml: str | None = None
    raw_pairs: list[tuple[str, str]] = field(default_factory=list)
    shape: tuple[str, str] = ("", "")  # ($filter, $orderby) text: what decides the matching rows


@dataclass(frozen=True)
class Preferences:
    """Parsed ``Prefer`` header (RFC 7240), as Dataverse understands it."""

    annotations: Wants = no_annotations
    annotations_text: str | None = None
    max_page_size: int | None = None
    return_representation: bool = False

    def applied(self) -> list[str]:
        applied: list[str] = []
        if self.annotations_text is not None:
            applied.append(f'odata.include-annotations="{self.annotations_text}"')
        if self.max_page_size is not None:
            applied.append(f"odata.maxpagesize={self.max_page_size}")
        return applied


def parse_preferences(header: str | None) -> Preferences:
    annotations_text: str | None = None
    max_page: int | None = None
    representation = False
    for part in _split_outside_quotes(header or "", ","):
        name, _, value = part.strip().partition("=")
        name, value = name.strip().lower(), value.strip().strip('"')
        if name == "odata.include-annotations":
            annotations_text = value
        elif name == "odata.maxpagesize":
            if not value.isdigit() or int(value) < 1:
                raise errors.query_error(
                    f"The value '{value}' of the odata.maxpagesize preference is not valid."
                )
            max_page = min(int(value), MAX_PAGE_SIZE)
        elif name == "return" and value == "representation":
            representation = True
    wants = annotation_filter(annotations_text.split(",")) if annotations_text else no_annotations
    return Preferences(wants, annotations_text, max_page, representation)


def split_prefer(header: str | None) -> list[str]:
    """The comma-separated preferences of a ``Prefer`` header (commas inside quotes kept)."""
    return [item.strip() for item in _split_outside_quotes(header or "", ",") if item.strip()]


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def split_top_level(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


# -- parsing --------------------------------------------------------------------------------


def raw_pairs(query: str) -> list[tuple[str, str]]:
    """(name, raw value) pairs, values still percent-encoded, as they arrived."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote(name), value))
    return pairs


def parse_query(query: str, entity: EntityType, database: Database) -> QueryOptions:
    options = QueryOptions(raw_pairs=raw_pairs(query))
    seen: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in seen:
            raise errors.query_error(
                f"Query option '{name}' was specified more than once, but it must be specified at most once."
            )
        seen.add(name)
        if name == "$skip":
            # page-results.md: "Dataverse doesn't support the $skip query option".
            raise errors.query_error("The query parameter $skip is not supported")
        if name == "fetchXml":
            options.fetch_xml = value
        elif name.startswith("$") and name not in _SUPPORTED:
            raise errors.query_error(f"The query parameter {name} is not supported")
        elif name.startswith("@") or not name.startswith("$"):
            continue
        else:
            _apply_option(options, name, value, entity, database)
    if options.fetch_xml is not None and len(seen - {"fetchXml"}) > 0:
        raise errors.query_error("The fetchXml parameter cannot be combined with other query options.")
    return options


def _apply_option(
    options: QueryOptions, name: str, value: str, entity: EntityType, database: Database
) -> None:
    if name == "$select":
        options.select = parse_select(value, entity)
    elif name == "$filter":
        options.filter = compile_filter(value, entity)
        options.shape = (value, options.shape[1])
    elif name == "$orderby":
        options.orderby = _parse_orderby(value, entity)
        options.shape = (options.shape[0], value)
    elif name == "$top":
        if not value.strip().isdigit():
            raise errors.query_error(
                f"Invalid value '{value}' for $top query option found. "
                "The $top query option requires a non-negative integer value."
            )
        options.top = int(value)
    elif name == "$count":
        if value not in ("true", "false"):
            raise errors.query_error(f"'{value}' is not a valid count option.")
        options.count = value == "true"
    elif name == "$expand":
        options.expand = _parse_expand(value, entity, database)
    elif name == "$skiptoken":
        options.skiptoken = value


def parse_select(value: str, entity: EntityType) -> tuple[Column, ...]:
    columns: list[Column] = []
    for raw in value.split(","):
        name = raw.strip()
        column = entity.by_wire(name)
        if column is None:
            raise errors.property_not_found(name, entity.logical_name)
        if column not in columns:
            columns.append(column)
    return tuple(columns)


def _parse_orderby(value: str, entity: EntityType) -> list[tuple[Column, bool]]:
    result = []
    for raw in value.split(","):
        words = raw.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise errors.query_error(f"Syntax error in $orderby '{value}'.")
        column = entity.by_wire(words[0])
        if column is None:
            raise errors.property_not_found(words[0], entity.logical_name)
        result.append((column, len(words) == 2 and words[1] == "desc"))
    return result


def _parse_expand(value: str, entity: EntityType, database: Database) -> list[Expansion]:
    expansions = []
    for raw in split_top_level(value, ","):
        item = raw.strip()
        name, _, rest = item.partition("(")
        nav = entity.navigations.get(name.strip())
        if nav is None:
            raise errors.property_not_found(name.strip(), entity.logical_name)
        target = database.schema[nav.target]
        columns: tuple[Column, ...] | None = None
        if rest:
            if not rest.endswith(")"):
                raise errors.query_error(f"Syntax error in $expand '{value}'.")
            for option in rest[:-1].split(";"):
                opt_name, _, opt_value = option.partition("=")
                if opt_name.strip() != "$select":
                    raise errors.query_error(
                        f"The query option {opt_name.strip()} is not supported inside $expand."
                    )
                columns = parse_select(opt_value, target)
        expansions.append(Expansion(nav, entity.columns[nav.column], columns))
    return expansions


# -- execution ------------------------------------------------------------------------------


@dataclass
class Page:
    rows: list[Row]
    count: int | None
    next_skiptoken: str | None


def matching_rows(table: Table, options: QueryOptions, within: set[str] | None = None) -> list[Row]:
    """Rows matching ``$filter`` (restricted to ``within`` ids), ordered by ``$orderby`` then insertion."""
    candidates = options.filter.candidates(table) if options.filter is not None else None
    if within is not None:
        candidates = within if candidates is None else candidates & within
    if candidates is None:
        rows: Iterable[Row] = table.rows.values()
    else:
        rows = sorted((table.rows[i] for i in candidates if i in table.rows), key=lambda r: r["@seq"])  # type: ignore[arg-type,return-value]
    if options.filter is not None:
        predicate = options.filter.predicate
        rows = [r for r in rows if predicate(r)]
    result = list(rows)
    for column, descending in reversed(options.orderby):
        result.sort(key=_by_column(column.name), reverse=descending)
    return result


class ResultCache:
    """Recently matched row lists, so following ``@odata.nextLink`` does not filter the table again.

    An entry is valid while the database has not changed (``Database.changes``); a few entries only.
    """

    def __init__(self, database: Database, size: int = 16) -> None:
        self._database = database
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], tuple[int, list[Row]]] = OrderedDict()

    def rows(self, table: Table, options: QueryOptions, within: set[str] | None = None) -> list[Row]:
        key = (table.entity.logical_name, options.shape, frozenset(within) if within is not None else None)
        changes = self._database.changes
        cached = self._entries.get(key)
        if cached is not None and cached[0] == changes:
            self._entries.move_to_end(key)
            return cached[1]
        rows = matching_rows(table, options, within)
        self._entries[key] = (changes, rows)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return rows


def _by_column(name: str) -> Callable[[Row], tuple[int, object]]:
    def key(row: Row) -> tuple[int, object]:
        return _sort_key(row.get(name))

    return key


def _sort_key(value: object) -> tuple[int, object]:
    # Nulls sort first in ascending order (SQL Server collation); strings case-insensitively.
    if value is None:
        return (0, 0)
    return (1, value.casefold() if isinstance(value, str) else value)


def take_page(
    rows: Sequence[Row],
    entity: EntityType,
    options: QueryOptions,
    prefs: Preferences,
    *,
    cap: int | None = None,
) -> Page:
    """Cut one page out of the matching rows (``cap``: MSX's hard limit, no nextLink)."""
    count = min(len(rows), COUNT_LIMIT) if options.count else None
    start = _resume_offset(rows, entity, options) if options.skiptoken else 0
    if prefs.max_page_size is not None:
        size, limit = prefs.max_page_size, None  # page-results.md: with maxpagesize, $top is ignored
    else:
        size, limit = MAX_PAGE_SIZE, options.top
    if limit is not None:
        size = max(0, min(size, limit - start))
    if cap is not None:
        return Page(list(rows[start : start + min(size, cap)]), count, None)
    page = list(rows[start : start + size])
    end = start + len(page)
    more = end < len(rows) and (limit is None or end < limit)
    token = _cookie(entity, page, end // max(size, 1) + 1, end) if more and page else None
    return Page(page, count, token)


def _cookie(entity: EntityType, page: list[Row], next_page: int, offset: int) -> str:
    # The emulator adds the row offset and insertion sequence as fallbacks for when the last row
    # was deleted meanwhile.
    key = entity.primary_key
    inner = (
        f'<cookie page="{next_page - 1}" offset="{offset}" seq="{page[-1]["@seq"]}">'
        f'<{key} last="{{{str(page[-1][key]).upper()}}}" '
        f'first="{{{str(page[0][key]).upper()}}}" /></cookie>'
    )
    encoded = quote(quote(inner, safe=""), safe="")
    return f'<cookie pagenumber="{next_page}" pagingcookie="{encoded}" istracking="False" />'


def _resume_offset(rows: Sequence[Row], entity: EntityType, options: QueryOptions) -> int:
    text = unquote(unquote(options.skiptoken or ""))
    last = _LAST_RE.search(text)
    if last is None:
        raise errors.query_error("The $skiptoken value is not a valid paging cookie.")
    last_id = last.group(1).lower()
    key = entity.primary_key
    offset = _OFFSET_RE.search(text)
    hint = int(offset.group(1)) if offset else 0
    if 0 < hint <= len(rows) and rows[hint - 1][key] == last_id:  # nothing moved: O(1)
        return hint
    for index, row in enumerate(rows):
        if row[key] == last_id:
            return index + 1
    seq = _SEQ_RE.search(text)
    if seq is not None and not options.orderby:  # default order is insertion order
        return next((i for i, row in enumerate(rows) if int(row["@seq"]) > int(seq.group(1))), len(rows))  # type: ignore[call-overload]
    return min(hint, len(rows)) if offset else len(rows)


def next_link(service_root: str, path: str, options: QueryOptions, token: str) -> str:
    kept = "&".join(f"{n}={v}" for n, v in options.raw_pairs if n != "$skiptoken")
    joined = f"{kept}&" if kept else ""
    return f"{service_root}/{path}?{joined}$skiptoken={quote(token, safe='')}"


def context_url(
    service_root: str, entity: EntityType, columns: tuple[Column, ...] | None, single: bool
) -> str:
    selected = f"({','.join(c.wire for c in columns)})" if columns else ""
    suffix = "/$entity" if single else ""
    return f"{service_root}/$metadata#{entity.entity_set}{selected}{suffix}"


def default_columns(entity: EntityType) -> tuple[Column, ...]:
    return tuple(entity.columns.values())


def render_row(
    writer: RecordWriter, entity: EntityType, row: Row, options: QueryOptions, wants: Wants
) -> dict[str, object]:
    columns = options.select or default_columns(entity)
    record = writer.record(entity, row, columns, wants)
    for expansion in options.expand:
        record[expansion.navigation.name] = _expanded(writer, row, expansion, wants)
    return record


def _expanded(writer: RecordWriter, row: Row, expansion: Expansion, wants: Wants) -> dict[str, object] | None:
    nav = expansion.navigation
    value = row.get(nav.column)
    if value is None:
        return None
    if lookup_target(row, expansion.source) != nav.target:
        return None
    table = writer.database.tables[nav.target]
    target = table.get(str(value))
    if target is None:
        return None
    columns = expansion.columns or default_columns(table.entity)
    return writer.record(table.entity, target, columns, wants)
