"""``$filter``: tokenizer, recursive-descent parser and a compiler to row predicates.

Grammar (what the MSX layer sends, per the reference catalog, plus the documented basics):
comparison operators eq ne gt ge lt le; logical and or not; parentheses; startswith, endswith,
contains; null; GUIDs bare, quoted, or in the OData-v3 ``guid'...'`` form the catalog's
teammembership query uses; the Dataverse query function
``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a','b'])``.
powerapps-docs/developer/data-platform/webapi/query/filter-rows.md (operators, functions,
Dataverse query functions). String comparisons are case-insensitive as in Dataverse (the data is
stored with a case-insensitive collation).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from callnotes.emulator import errors
from callnotes.emulator.database import Row, Table
from callnotes.emulator.schema import GUID_KINDS, NUMBER_KINDS, STRING_KINDS, Column, EntityType, Kind

Predicate = Callable[[Row], bool]
Candidates = Callable[[Table], "set[str] | None"]

_GUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<guidlit>guid'(?P<guidbody>[^']*)')
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>{_GUID_RE})(?![\w-])
  | (?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}
        (?:T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:\d{{2}})?)?)(?![\w-])
  | (?P<number>-?\d+(?:\.\d+)?(?:[mMdDfFlL])?)(?![\w-])
  | (?P<ident>[A-Za-z_][\w.]*)
  | (?P<punct>[(),\[\]=])
    """,
    re.VERBOSE,
)
_COMPARISON = {"eq", "ne", "gt", "ge", "lt", "le"}
_STRING_FUNCTIONS = {"startswith", "endswith", "contains"}
_IN_FUNCTION = "microsoft.dynamics.crm.in"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # "string" | "guid" | "number" | "datetime" | "bool" | "null"
    value: object
    text: str


@dataclass(frozen=True)
class CompiledFilter:
    predicate: Predicate
    candidates: Candidates


def _syntax_error(source: str, pos: int) -> errors.DataverseFault:
    return errors.query_error(f"Syntax error at position {pos} in '{source}'.")


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            raise _syntax_error(source, pos)
        kind = match.lastgroup or ""
        if kind == "guidbody":
            kind = "guidlit"
        if kind != "ws":
            tokens.append(Token(kind, match.group(0), pos))
        pos = match.end()
    return tokens


class _Parser:
    """Parses tokens into closures over rows, resolving properties against one entity type."""

    def __init__(self, source: str, entity: EntityType) -> None:
        self.source = source
        self.entity = entity
        self.tokens = tokenize(source)
        self.i = 0

    # -- token helpers ---------------------------------------------------------------------
    def _peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _next(self) -> Token:
        token = self._peek()
        if token is None:
            raise _syntax_error(self.source, len(self.source))
        self.i += 1
        return token

    def _expect(self, text: str) -> Token:
        token = self._next()
        if token.text.lower() != text:
            raise _syntax_error(self.source, token.pos)
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "ident" and token.text == word:
            self.i += 1
            return True
        return False

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> CompiledFilter:
        if not self.tokens:
            raise errors.query_error("The $filter expression must not be empty.")
        result = self._or()
        token = self._peek()
        if token is not None:
            raise _syntax_error(self.source, token.pos)
        return result

    def _or(self) -> CompiledFilter:
        parts = [self._and()]
        while self._keyword("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _any_of(parts)

    def _and(self) -> CompiledFilter:
        parts = [self._unary()]
        while self._keyword("and"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else _all_of(parts)

    def _unary(self) -> CompiledFilter:
        if self._keyword("not"):
            inner = self._unary()
            return CompiledFilter(lambda row: not inner.predicate(row), lambda table: None)
        token = self._peek()
        if token is not None and token.text == "(":
            self.i += 1
            inner = self._or()
            self._expect(")")
            return inner
        if token is not None and token.kind == "ident" and self._is_call():
            return self._call()
        return self._comparison()

    def _is_call(self) -> bool:
        following = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        return following is not None and following.text == "("

    def _call(self) -> CompiledFilter:
        name_token = self._next()
        name = name_token.text.lower()
        self._expect("(")
        if name in _STRING_FUNCTIONS:
            column = self._property(self._next())
            self._expect(",")
            literal = self._literal(self._next())
            self._expect(")")
            return _string_function(name, column, literal, self.entity)
        if name == _IN_FUNCTION:
            return self._in_function()
        raise errors.query_error(
            f"An unknown function with name '{name_token.text}' was found. "
            "This may also be a function import or a key lookup on a navigation property, "
            "which is not allowed."
        )

    def _in_function(self) -> CompiledFilter:
        args: dict[str, object] = {}
        while True:
            key = self._next()
            self._expect("=")
            if key.text == "PropertyName":
                args["name"] = self._literal(self._next())
            elif key.text == "PropertyValues":
                self._expect("[")
                values = [self._literal(self._next())]
                while self._peek() is not None and self._peek().text == ",":  # type: ignore[union-attr]
                    self.i += 1
                    values.append(self._literal(self._next()))
                self._expect("]")
                args["values"] = values
            else:
                raise _syntax_error(self.source, key.pos)
            if self._next().text == ")":
                break
        name, values = args.get("name"), args.get("values")
        if not isinstance(name, Literal) or name.kind != "string" or not isinstance(values, list):
            raise errors.query_error("The In function requires PropertyName and PropertyValues parameters.")
        column = _resolve_logical(str(name.value), self.entity)
        coerced = [_coerce_text(column, str(v.value), self.entity) for v in values]
        return _membership(column, coerced)

    def _comparison(self) -> CompiledFilter:
        left = self._next()
        op_token = self._next()
        op = op_token.text
        if op_token.kind != "ident" or op not in _COMPARISON:
            raise _syntax_error(self.source, op_token.pos)
        right = self._next()
        if left.kind != "ident" and right.kind == "ident":  # "0 eq statecode"
            left, right = right, left
            op = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(op, op)
        if left.kind != "ident":
            raise _syntax_error(self.source, left.pos)
        column = self._property(left)
        literal = self._literal(right)
        value = _coerce(column, literal, op, self.entity)
        return _compare(column, op, value)

    def _property(self, token: Token) -> Column:
        if token.kind != "ident":
            raise _syntax_error(self.source, token.pos)
        column = self.entity.by_wire(token.text)
        if column is None:
            # The catalog's membership query filters on the navigation property itself
            # ("teamtemplateid eq guid'...'"); the emulator treats it as the lookup's value.
            nav = self.entity.navigations.get(token.text)
            if nav is not None and nav.name == nav.column:
                column = self.entity.columns[nav.column]
        if column is None:
            raise errors.property_not_found(token.text, self.entity.logical_name)
        return column

    def _literal(self, token: Token) -> Literal:
        if token.kind == "string":
            return Literal("string", token.text[1:-1].replace("''", "'"), token.text)
        if token.kind == "guidlit":
            body = token.text[5:-1]
            return Literal("guid", _parse_guid(body, token.text), token.text)
        if token.kind == "guid":
            return Literal("guid", token.text.lower(), token.text)
        if token.kind == "number":
            text = token.text.rstrip("mMdDfFlL")
            return Literal("number", float(text) if "." in text else int(text), token.text)
        if token.kind == "datetime":
            return Literal("datetime", token.text, token.text)
        if token.kind == "ident" and token.text in ("true", "false"):
            return Literal("bool", token.text == "true", token.text)
        if token.kind == "ident" and token.text == "null":
            return Literal("null", None, token.text)
        raise _syntax_error(self.source, token.pos)


def compile_filter(source: str, entity: EntityType) -> CompiledFilter:
    """Parse ``$filter`` text for ``entity``; raises ``DataverseFault`` (400) on any error."""
    return _Parser(source, entity).parse()


# -- literal coercion ------------------------------------------------------------------------


def _parse_guid(text: str, shown: str) -> str:
    try:
        return str(uuid.UUID(text)) if re.fullmatch(_GUID_RE, text) else _raise_guid(shown)
    except ValueError:
        return _raise_guid(shown)


def _raise_guid(shown: str) -> str:
    raise errors.query_error(f"Unrecognized 'Edm.Guid' literal '{shown}'.")


def _incompatible(column: Column, literal: Literal, op: str) -> errors.DataverseFault:
    found = {
        "string": "Edm.String",
        "guid": "Edm.Guid",
        "number": "Edm.Int32",
        "datetime": "Edm.DateTimeOffset",
        "bool": "Edm.Boolean",
    }.get(literal.kind, "Edm.String")
    kind = {
        "eq": "Equal",
        "ne": "NotEqual",
        "gt": "GreaterThan",
        "ge": "GreaterThanOrEqual",
        "lt": "LessThan",
        "le": "LessThanOrEqual",
    }.get(op, op)
    return errors.query_error(
        "A binary operator with incompatible types was detected. "
        f"Found operand types '{column.kind.edm}' and '{found}' for operator kind '{kind}'."
    )


def _coerce(column: Column, literal: Literal, op: str, entity: EntityType) -> object:
    if literal.kind == "null":
        if op not in ("eq", "ne"):
            raise _incompatible(column, literal, op)
        return None
    kind = column.kind
    if kind in GUID_KINDS:
        if literal.kind == "guid":
            return literal.value
        if literal.kind == "string":
            return _parse_guid(str(literal.value), literal.text)
    elif kind in STRING_KINDS:
        if literal.kind == "string":
            return literal.value
    elif kind in NUMBER_KINDS:
        if literal.kind == "number":
            return literal.value
    elif kind is Kind.BOOL:
        if literal.kind == "bool":
            return literal.value
    elif kind in (Kind.DATE, Kind.DATETIME) and literal.kind == "datetime":
        return _normalise_date(str(literal.value), kind)
    raise _incompatible(column, literal, op)


def _coerce_text(column: Column, text: str, entity: EntityType) -> object:
    """Coerce one ``In`` value (always sent as a string) to the column's type."""
    kind = column.kind
    try:
        if kind in GUID_KINDS:
            return _parse_guid(text, text)
        if kind in (Kind.INT, Kind.BIGINT, Kind.CHOICE):
            return int(text)
        if kind in (Kind.DECIMAL, Kind.MONEY):
            return float(text)
        if kind is Kind.BOOL:
            return text.lower() == "true"
        if kind in (Kind.DATE, Kind.DATETIME):
            return _normalise_date(text, kind)
    except ValueError as exc:
        raise errors.query_error(f"The value '{text}' is not valid for property '{column.name}'.") from exc
    return text


def _normalise_date(text: str, kind: Kind) -> str:
    if kind is Kind.DATE:
        return text[:10]
    if len(text) == 10:
        return f"{text}T00:00:00Z"
    from datetime import UTC, datetime

    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _resolve_logical(name: str, entity: EntityType) -> Column:
    column = entity.columns.get(name) or entity.by_wire(name)
    if column is None:
        raise errors.property_not_found(name, entity.logical_name)
    return column


# -- compiled nodes --------------------------------------------------------------------------


def _fold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _compare(column: Column, op: str, value: object) -> CompiledFilter:
    name = column.name
    folded = _fold(value)
    if value is None:
        pred: Predicate = (
            (lambda row: row.get(name) is None) if op == "eq" else (lambda row: row.get(name) is not None)
        )
        return CompiledFilter(pred, lambda table: None)
    tests: dict[str, Callable[[object], bool]] = {
        "eq": lambda v: v == folded,
        "ne": lambda v: v != folded,
        "gt": lambda v: v > folded,  # type: ignore[operator]
        "ge": lambda v: v >= folded,  # type: ignore[operator]
        "lt": lambda v: v < folded,  # type: ignore[operator]
        "le": lambda v: v <= folded,  # type: ignore[operator]
    }
    test = tests[op]

    def predicate(row: Row) -> bool:
        current = row.get(name)
        return current is not None and test(_fold(current))

    def candidates(table: Table) -> set[str] | None:
        return table.lookup(name, value) if op == "eq" and table.is_indexed(name) else None

    return CompiledFilter(predicate, candidates)


def _membership(column: Column, values: list[object]) -> CompiledFilter:
    name = column.name
    folded = {_fold(v) for v in values}

    def predicate(row: Row) -> bool:
        current = row.get(name)
        return current is not None and _fold(current) in folded

    def candidates(table: Table) -> set[str] | None:
        if not table.is_indexed(name):
            return None
        found: set[str] = set()
        for value in values:
            found |= table.lookup(name, value)
        return found

    return CompiledFilter(predicate, candidates)


def _string_function(name: str, column: Column, literal: Literal, entity: EntityType) -> CompiledFilter:
    if column.kind not in STRING_KINDS or literal.kind != "string":
        raise errors.query_error(
            f"No function signature for the function with name '{name}' matches the specified arguments."
        )
    needle = str(literal.value).casefold()
    col = column.name
    check: Callable[[str], bool] = {
        "startswith": lambda v: v.startswith(needle),
        "endswith": lambda v: v.endswith(needle),
        "contains": lambda v: needle in v,
    }[name]

    def predicate(row: Row) -> bool:
        current = row.get(col)
        return isinstance(current, str) and check(current.casefold())

    return CompiledFilter(predicate, lambda table: None)


def _all_of(parts: list[CompiledFilter]) -> CompiledFilter:
    predicates = [p.predicate for p in parts]

    def candidates(table: Table) -> set[str] | None:
        best: set[str] | None = None
        for part in parts:
            found = part.candidates(table)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best

    return CompiledFilter(lambda row: all(p(row) for p in predicates), candidates)


def _any_of(parts: list[CompiledFilter]) -> CompiledFilter:
    predicates = [p.predicate for p in parts]

    def candidates(table: Table) -> set[str] | None:
        union: set[str] = set()
        for part in parts:
            found = part.candidates(table)
            if found is None:
                return None
            union |= found
        return union

    return CompiledFilter(lambda row: any(p(row) for p in predicates), candidates)
