"""FetchXML over the Web API (``GET <entityset>?fetchXml=...``), the subset the MSX layer uses.

Supported: ``fetch`` (count, page, paging-cookie, distinct, top), ``entity``, ``attribute``,
``all-attributes``, ``order``, ``filter`` (and/or, nested) with ``condition`` operators eq, ne, neq,
in, not-in, null, not-null, like, begins-with, ends-with, gt, ge, lt, le, eq-userid, ne-userid;
``link-entity`` (inner/outer, nested, with filters; attributes of first-level links are returned
as ``<alias>.<attribute>``, those of nested links are not). Anything else is refused with 400.
powerapps-docs/developer/data-platform/fetchxml/overview.md, fetchxml/join-tables.md,
fetchxml/filter-rows.md, fetchxml/reference/condition.md.
Paging: fetchxml/page-results.md — default and maximum page size 5,000; with
``Prefer: odata.include-annotations`` covering them, ``@Microsoft.Dynamics.CRM.fetchxmlpagingcookie``
(a ``<cookie pagenumber=... pagingcookie=...>`` element whose ``pagingcookie`` is URL-encoded twice)
and ``@Microsoft.Dynamics.CRM.morerecords`` when more rows exist; neither on the last page.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from callnotes.emulator import errors
from callnotes.emulator.formatting import RecordWriter
from callnotes.emulator.query import MAX_PAGE_SIZE, Preferences, context_url
from callnotes.emulator.table_definitions import GUID_KINDS, NUMBER_KINDS, Column, EntityType, Kind
from callnotes.emulator.tables import Database, Row, Table

PAGING_COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
MORE_RECORDS = "Microsoft.Dynamics.CRM.morerecords"
_LAST_RE = re.compile(r'last="\{?([0-9a-fA-F-]{36})\}?"')
RowTest = Callable[[Row], bool]


@dataclass
class _Link:
    table: Table
    from_column: str
    to_column: str
    inner: bool
    alias: str
    test: RowTest
    columns: list[Column] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)


@dataclass
class _Fetch:
    table: Table
    columns: list[Column]
    test: RowTest
    links: list[_Link]
    orders: list[tuple[Column, bool]]
    count: int
    page: int
    cookie: str | None
    distinct: bool
    top: int | None


def _bad(message: str) -> errors.DataverseFault:
    return errors.query_error(f"The FetchXML is not valid: {message}")


class _Compiler:
    def __init__(self, database: Database, caller_id: str) -> None:
        self.database = database
        self.caller_id = caller_id.lower()

    def fetch(self, text: str, table: Table) -> _Fetch:
        if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
            raise _bad("document type declarations are not allowed.")
        try:
            root = ET.fromstring(text)  # noqa: S314 - no DTDs (checked above); expat limits expansion
        except ET.ParseError as exc:
            raise _bad(str(exc)) from exc
        entity_node = root.find("entity")
        if root.tag != "fetch" or entity_node is None:
            raise _bad("a fetch element with one entity element is required.")
        if entity_node.get("name") != table.entity.logical_name:
            raise _bad(
                f"the entity '{entity_node.get('name')}' does not match "
                f"the entity set '{table.entity.entity_set}'."
            )
        if root.get("aggregate", "false").lower() == "true":
            raise _bad("aggregate queries are not supported by the emulator.")
        count = _int_attr(root, "count", MAX_PAGE_SIZE)
        if not 1 <= count <= MAX_PAGE_SIZE:
            raise _bad(f"count must be between 1 and {MAX_PAGE_SIZE}.")
        if _int_attr(root, "page", 1) < 1:
            raise _bad("page must be 1 or more.")
        top = root.get("top")
        return _Fetch(
            table=table,
            columns=self._columns(entity_node, table.entity),
            test=self._filters(entity_node, table.entity),
            links=[self._link(n, table.entity) for n in entity_node.findall("link-entity")],
            orders=[self._order(n, table.entity) for n in entity_node.findall("order")],
            count=count,
            page=_int_attr(root, "page", 1),
            cookie=root.get("paging-cookie"),
            distinct=root.get("distinct", "false").lower() == "true",
            top=int(top) if top is not None and top.isdigit() else None,
        )

    def _columns(self, node: ET.Element, entity: EntityType) -> list[Column]:
        if node.find("all-attributes") is not None:
            return list(entity.columns.values())
        return [self._column(entity, a.get("name")) for a in node.findall("attribute")]

    def _column(self, entity: EntityType, name: str | None) -> Column:
        column = entity.columns.get(name or "")
        if column is None:
            raise _bad(f"'{entity.logical_name}' entity doesn't contain attribute with Name = '{name}'.")
        return column

    def _order(self, node: ET.Element, entity: EntityType) -> tuple[Column, bool]:
        return self._column(entity, node.get("attribute")), node.get("descending", "false").lower() == "true"

    def _filters(self, node: ET.Element, entity: EntityType) -> RowTest:
        tests = [self._filter(f, entity) for f in node.findall("filter")]
        return lambda row: all(t(row) for t in tests)

    def _filter(self, node: ET.Element, entity: EntityType) -> RowTest:
        kind = node.get("type", "and")
        if kind not in ("and", "or"):
            raise _bad(f"filter type '{kind}' is not valid.")
        parts: list[RowTest] = []
        for child in node:
            if child.tag == "condition":
                parts.append(self._condition(child, entity))
            elif child.tag == "filter":
                parts.append(self._filter(child, entity))
        if kind == "or":
            return lambda row: any(p(row) for p in parts)
        return lambda row: all(p(row) for p in parts)

    def _condition(self, node: ET.Element, entity: EntityType) -> RowTest:
        column = self._column(entity, node.get("attribute"))
        operator = node.get("operator", "")
        name = column.name
        if operator in ("null", "not-null"):
            want_null = operator == "null"
            return lambda row: (row.get(name) is None) == want_null
        if operator in ("eq-userid", "ne-userid"):
            equal = operator == "eq-userid"
            return lambda row: (row.get(name) == self.caller_id) == equal
        if operator in ("in", "not-in"):
            values = {_fold(_convert(column, v.text or "")) for v in node.findall("value")}
            inside = operator == "in"
            return lambda row: row.get(name) is not None and (_fold(row.get(name)) in values) == inside
        raw = node.get("value")
        if raw is None:
            raise _bad(f"the condition on '{name}' with operator '{operator}' needs a value.")
        return _operator_test(name, operator, column, raw)

    def _link(self, node: ET.Element, parent: EntityType) -> _Link:
        name = node.get("name") or ""
        table = self.database.tables.get(name)
        if table is None:
            raise _bad(f"the link-entity '{name}' is not a known table.")
        link_type = node.get("link-type", "inner")
        if link_type not in ("inner", "outer"):
            raise _bad(f"link-type '{link_type}' is not supported by the emulator.")
        from_column = self._column(table.entity, node.get("from")).name
        to_column = self._column(parent, node.get("to")).name
        return _Link(
            table=table,
            from_column=from_column,
            to_column=to_column,
            inner=link_type == "inner",
            alias=node.get("alias") or name,
            test=self._filters(node, table.entity),
            columns=self._columns(node, table.entity) if node.findall("attribute") else [],
            links=[self._link(n, table.entity) for n in node.findall("link-entity")],
        )


def _int_attr(node: ET.Element, name: str, default: int) -> int:
    value = node.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise _bad(f"'{name}' must be a positive integer.")
    return int(value)


def _fold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _convert(column: Column, text: str) -> object:
    kind = column.kind
    try:
        if kind in GUID_KINDS:
            return str(uuid.UUID(text.strip().strip("{}")))
        if kind in (Kind.INT, Kind.BIGINT, Kind.CHOICE):
            return int(text)
        if kind in NUMBER_KINDS:
            return float(text)
        if kind is Kind.BOOL:
            return text.strip().lower() in ("1", "true")
    except ValueError as exc:
        raise _bad(f"'{text}' is not a valid value for attribute '{column.name}'.") from exc
    if kind is Kind.DATE:
        return text[:10]
    return text


def _operator_test(name: str, operator: str, column: Column, raw: str) -> RowTest:
    if operator in ("like", "not-like", "begins-with", "ends-with"):
        pattern = {"begins-with": f"{raw}%", "ends-with": f"%{raw}"}.get(operator, raw)
        regex = re.compile(
            "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.IGNORECASE | re.DOTALL
        )
        negate = operator == "not-like"
        return lambda row: isinstance(row.get(name), str) and bool(regex.match(str(row.get(name)))) != negate
    value = _fold(_convert(column, raw))
    checks: dict[str, Callable[[object], bool]] = {
        "eq": lambda v: v == value,
        "ne": lambda v: v != value,
        "neq": lambda v: v != value,
        "gt": lambda v: v > value,  # type: ignore[operator]
        "ge": lambda v: v >= value,  # type: ignore[operator]
        "lt": lambda v: v < value,  # type: ignore[operator]
        "le": lambda v: v <= value,  # type: ignore[operator]
    }
    check = checks.get(operator)
    if check is None:
        raise _bad(f"the condition operator '{operator}' is not supported by the emulator.")
    return lambda row: row.get(name) is not None and check(_fold(row.get(name)))


# -- execution ------------------------------------------------------------------------------


def _matches(link: _Link, parent: Row) -> list[Row]:
    """Linked rows for one parent row that pass the link's filters and its own inner links."""
    key = parent.get(link.to_column)
    if key is None:
        return []
    if link.table.is_indexed(link.from_column):
        candidates = [link.table.rows[i] for i in sorted(link.table.lookup(link.from_column, key))]
    else:
        candidates = [r for r in link.table.rows.values() if _fold(r.get(link.from_column)) == _fold(key)]
    return [r for r in candidates if link.test(r) and _links_hold(link.links, r)]


def _links_hold(links: list[_Link], row: Row) -> bool:
    return all(not link.inner or _matches(link, row) for link in links)


def _execute(fetch: _Fetch) -> list[tuple[Row, dict[str, Row | None]]]:
    results: list[tuple[Row, dict[str, Row | None]]] = []
    for row in fetch.table.rows.values():
        if not fetch.test(row):
            continue
        joined: list[dict[str, Row | None]] = [{}]
        for link in fetch.links:
            found = _matches(link, row)
            if not found and link.inner:
                joined = []
                break
            linked: list[Row | None] = list(found) if found else [None]
            joined = [{**j, link.alias: f} for j in joined for f in linked]
        if fetch.distinct:
            joined = joined[:1]
        results.extend((row, j) for j in joined)
    for column, descending in reversed(fetch.orders):
        results.sort(key=_by_column(column.name), reverse=descending)
    return results


def _by_column(name: str) -> Callable[[tuple[Row, dict[str, Row | None]]], tuple[int, object]]:
    def key(item: tuple[Row, dict[str, Row | None]]) -> tuple[int, object]:
        return _sort_key(item[0].get(name))

    return key


def _sort_key(value: object) -> tuple[int, object]:
    return (0, 0) if value is None else (1, _fold(value))


def _start(fetch: _Fetch, results: list[tuple[Row, dict[str, Row | None]]]) -> int:
    key = fetch.table.entity.primary_key
    if fetch.cookie:
        last = _LAST_RE.search(unquote(fetch.cookie))
        if last is not None:
            last_id = last.group(1).lower()
            for index, (row, _) in enumerate(results):
                if row[key] == last_id:
                    return index + 1
    return (fetch.page - 1) * fetch.count


def _cookie(entity: EntityType, page_rows: list[Row], page: int) -> str:
    key = entity.primary_key
    inner = (
        f'<cookie page="{page}"><{key} last="{{{str(page_rows[-1][key]).upper()}}}" '
        f'first="{{{str(page_rows[0][key]).upper()}}}" /></cookie>'
    )
    encoded = quote(quote(inner, safe=""), safe="")
    return f'<cookie pagenumber="{page + 1}" pagingcookie="{encoded}" istracking="False" />'


def run_fetch(
    fetch_xml: str,
    table: Table,
    database: Database,
    writer: RecordWriter,
    prefs: Preferences,
    service_root: str,
    caller_id: str = "",
) -> dict[str, object]:
    """Execute a FetchXML query; the response body (``value`` plus paging annotations)."""
    fetch = _Compiler(database, caller_id).fetch(fetch_xml, table)
    results = _execute(fetch)
    if fetch.top is not None:
        results = results[: fetch.top]
    start = _start(fetch, results)
    page_items = results[start : start + fetch.count]
    more = start + fetch.count < len(results)
    entity = table.entity
    payload: dict[str, object] = {
        "@odata.context": context_url(service_root, entity, tuple(fetch.columns), False)
    }
    if more and page_items:
        if prefs.annotations(PAGING_COOKIE):
            payload[f"@{PAGING_COOKIE}"] = _cookie(entity, [r for r, _ in page_items], fetch.page)
        if prefs.annotations(MORE_RECORDS):
            payload[f"@{MORE_RECORDS}"] = True
    payload["value"] = [_render(writer, fetch, row, joined, prefs) for row, joined in page_items]
    return payload


def _render(
    writer: RecordWriter, fetch: _Fetch, row: Row, joined: dict[str, Row | None], prefs: Preferences
) -> dict[str, object]:
    record = writer.record(fetch.table.entity, row, fetch.columns, prefs.annotations)
    for link in fetch.links:
        linked = joined.get(link.alias)
        for column in link.columns:
            record[f"{link.alias}.{column.wire}"] = None if linked is None else linked.get(column.name)
    return record
