"""OData query building: the escaping ``$filter`` builder, query-string encoding, URL-budget chunking.

Literal formats follow the OData v4 ABNF as Dataverse documents them in
powerapps-docs/developer/data-platform/webapi/query/filter-rows.md: strings in single quotes with a
quote doubled (``'O''Brien'``), GUIDs bare, ``null``, ``true``/``false``, numbers bare, dates as
ISO 8601 (``2024-01-31`` / ``2024-01-31T09:00:00Z``). ``startswith`` / ``contains`` / ``endswith``
are the standard query functions.

URL limits: a GET URL may be up to 32 KB; inside ``$batch`` the request line may reach 64 KB
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md,
"When to use batch requests"). Long id lists are split by those budgets, not by a fixed count.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

GET_URL_BUDGET = 32 * 1024
BATCH_URL_BUDGET = 64 * 1024

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
#: Characters left as-is in a query value: OData punctuation that is safe in a query component.
_QUERY_SAFE = "$,()'=:/@*-._~"

Literal = str | int | float | Decimal | bool | uuid.UUID | date | datetime | None


def _field(name: str) -> str:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise ValueError(f"not a valid OData property path: {name!r}")
    return name


def literal(value: Literal) -> str:
    """One value as an OData literal, escaped. Rejects types it cannot format safely."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("NaN and infinity cannot be used in a filter")
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes in filters must be timezone-aware (UTC)")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use a {type(value).__name__} in an OData filter")


def as_guid(value: str | uuid.UUID) -> uuid.UUID:
    """Parse a GUID (braces and case tolerated); ValueError if it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value).strip().strip("{}"))


def _builder(name: str, *, function: bool = False) -> classmethod[ODataFilter, [str, Any], ODataFilter]:
    """The public builder ``ODataFilter.<name>(field, value)``: ``field <name> value`` for a
    comparison operator, ``name(field, 'text')`` for a string function (``function=True``)."""

    def build(cls: type[ODataFilter], field: str, value: Any) -> ODataFilter:
        return cls._function(name, field, value) if function else cls._compare(name, field, value)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"``{name}(field, 'text')``" if function else f"``field {name} value``"
    return classmethod(build)


class ODataFilter:
    """An immutable ``$filter`` expression built only from escaped pieces.

    >>> str(ODataFilter.eq("name", "O'Brien") & ~ODataFilter.eq("statecode", 1))
    "(name eq 'O''Brien') and (not (statecode eq 1))"
    """

    __slots__ = ("_expr",)

    def __init__(self, _expr: str) -> None:  # private: use the factory methods
        self._expr = _expr

    def __str__(self) -> str:
        return self._expr

    def __repr__(self) -> str:
        return f"ODataFilter({self._expr!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ODataFilter) and other._expr == self._expr

    def __hash__(self) -> int:
        return hash(self._expr)

    # comparisons: ``ODataFilter.eq(field, value)`` … ``le``; ``value`` goes through ``literal``
    @classmethod
    def _compare(cls, op: str, field: str, value: Literal) -> ODataFilter:
        return cls(f"{_field(field)} {op} {literal(value)}")

    eq = _builder("eq")
    ne = _builder("ne")
    gt = _builder("gt")
    ge = _builder("ge")
    lt = _builder("lt")
    le = _builder("le")

    @classmethod
    def is_null(cls, field: str) -> ODataFilter:
        return cls._compare("eq", field, None)

    @classmethod
    def not_null(cls, field: str) -> ODataFilter:
        return cls._compare("ne", field, None)

    # string functions: ``ODataFilter.startswith(field, text)``, ``contains``, ``endswith``
    @classmethod
    def _function(cls, name: str, field: str, value: str) -> ODataFilter:
        if not isinstance(value, str):
            raise TypeError(f"{name} needs a string value")
        return cls(f"{name}({_field(field)},{literal(value)})")

    startswith = _builder("startswith", function=True)
    contains = _builder("contains", function=True)
    endswith = _builder("endswith", function=True)

    @classmethod
    def in_(cls, field: str, values: Iterable[Literal]) -> ODataFilter:
        """``field`` equals any of ``values`` (an ``or`` of ``eq``; works on every Dataverse version)."""
        terms = [cls.eq(field, value) for value in values]
        if not terms:
            raise ValueError("in_() needs at least one value")
        return cls.any_of(*terms)

    # boolean composition
    @classmethod
    def all_of(cls, *filters: ODataFilter) -> ODataFilter:
        return cls._join("and", filters)

    @classmethod
    def any_of(cls, *filters: ODataFilter) -> ODataFilter:
        return cls._join("or", filters)

    @classmethod
    def _join(cls, op: str, filters: Sequence[ODataFilter]) -> ODataFilter:
        if not filters or not all(isinstance(f, ODataFilter) for f in filters):
            raise TypeError(f"'{op}' needs one or more ODataFilter operands")
        if len(filters) == 1:
            return filters[0]
        return cls(f" {op} ".join(f"({f._expr})" for f in filters))

    def __and__(self, other: ODataFilter) -> ODataFilter:
        return ODataFilter.all_of(self, other)

    def __or__(self, other: ODataFilter) -> ODataFilter:
        return ODataFilter.any_of(self, other)

    def __invert__(self) -> ODataFilter:
        return ODataFilter(f"not ({self._expr})")


def encode_query(params: Mapping[str, Any]) -> str:
    """A query string with every value percent-encoded (``&#+%`` and spaces included); None skipped."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        parts.append(f"{quote(key, safe='$')}={quote(str(value), safe=_QUERY_SAFE)}")
    return "&".join(parts)


def chunk_in_filters(
    field: str,
    values: Sequence[Literal],
    *,
    url_without_filter: str,
    budget: int = GET_URL_BUDGET,
    extra: ODataFilter | None = None,
) -> list[ODataFilter]:
    """Split ``field in values`` into filters whose full URL stays within ``budget`` characters.

    ``url_without_filter`` is the request URL with every other query option already encoded;
    ``extra`` is and-ed into every chunk.
    """
    overhead = len(url_without_filter) + len("&$filter=") + 8
    if extra is not None:
        overhead += len(quote(f"({extra}) and ()", safe=_QUERY_SAFE))
    room = budget - overhead
    chunks: list[list[Literal]] = [[]]
    used = 0
    for value in values:
        term = len(quote(f"({ODataFilter.eq(field, value)}) or ", safe=_QUERY_SAFE))
        if term > room:
            raise ValueError(f"one value alone exceeds the URL budget of {budget} characters")
        if used + term > room and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(value)
        used += term
    result = []
    for chunk in chunks:
        if chunk:
            flt = ODataFilter.in_(field, chunk)
            result.append(flt if extra is None else extra & flt)
    return result


#: Characters an alternate-key value cannot hold when the key is used in a URL: GET and PATCH by such
#: a key do not work (powerapps-docs/developer/data-platform/define-alternate-keys-portal.md, "If the
#: data within a column that is used in an alternate key will contain one of the following
#: characters …").
KEY_UNSAFE_CHARACTERS = frozenset("/<>*%&:\\?")
#: Left as-is in a key segment of a URL path; everything else is percent-encoded (UTF-8).
_PATH_SAFE = "()'=,-._~"


class UnsafeKeyValue(ValueError):
    """An alternate-key value Dataverse cannot take in a URL (find the record by a query instead)."""


def key_segment(values: Mapping[str, Literal]) -> str:
    """``(accountnumber='O''Brien')``: alternate-key columns and values as escaped OData literals,
    unencoded (as an ``@odata.bind`` value holds them; `key_path` encodes them for a URL path).

    use-alternate-key-reference-record.md: ``accounts(accountnumber='ABC123')``, several columns
    separated by commas. Raises `UnsafeKeyValue` for a value Dataverse cannot address.
    """
    if not values:
        raise ValueError("an alternate key needs at least one column")
    parts = []
    for column, value in values.items():
        if value is None or (isinstance(value, str) and not value):
            raise ValueError(f"the key column {column!r} has no value")
        if isinstance(value, str) and KEY_UNSAFE_CHARACTERS.intersection(value):
            bad = "".join(sorted(KEY_UNSAFE_CHARACTERS.intersection(value)))
            raise UnsafeKeyValue(f"the key value {value!r} holds {bad!r}: Dataverse cannot take it in a URL")
        parts.append(f"{_entity_name(column)}={literal(value)}")
    return "(" + ",".join(parts) + ")"


def key_reference(entity_set: str, values: Mapping[str, Literal]) -> str:
    """``/accounts(accountnumber='A1')``: a record by alternate key, for ``…@odata.bind``."""
    return f"/{_entity_name(entity_set)}{key_segment(values)}"


def key_path(entity_set: str, values: Mapping[str, Literal]) -> str:
    """``accounts(accountnumber='A%201')``: a record by alternate key as a URL path (percent-encoded)."""
    return _entity_name(entity_set) + quote(key_segment(values), safe=_PATH_SAFE)


def record_path(entity_set: str, record_id: str | uuid.UUID) -> str:
    """``accounts(<guid>)``: a record by primary key as a URL path."""
    return f"{_entity_name(entity_set)}({as_guid(record_id)})"


def _entity_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a valid entity set or column name: {name!r}")
    return name
