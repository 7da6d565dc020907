"""``$filter``: tokenizer, recursive-descent parser and a compiler to row predicates.

Grammar (what the MSX layer sends, per the reference catalog, plus the documented basics):
comparison operators eq ne gt ge lt le; logical and or not; parentheses; startswith, endswith,
contains; null; GUIDs bare, quoted, or in the OData-v3 ``guid'...'`` form the catalog's
teammembership query uses; the Dataverse query function
``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a','b'])``.
powerapps-docs/developer/data-platform/webapi/query/filter-rows.md (operators, functions,
Dataverse query functions). String comparisons are case-insensitive as in Dataverse (the data is
stored with a case-insensitive collation). For the metadata entity types also enumeration literals
``Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'`` and paths into complex values
``RequiredLevel/Value`` (webapi/query-metadata-web-api.md, "Use enum types" / "Use complex types").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callnotes.emulator import errors
from callnotes.emulator.odata_nodes import (
    GUID_RE,
    CompiledFilter,
    Literal,
    all_of,
    any_of,
    coerce,
    coerce_text,
    compare,
    membership,
    parse_guid,
    resolve_logical,
    string_function,
)
from callnotes.emulator.table_definitions import Column, EntityType

__all__ = ["CompiledFilter", "compile_filter", "tokenize"]
_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<guidlit>guid'(?P<guidbody>[^']*)')
  | (?P<enum>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>{GUID_RE})(?![\w-])
  | (?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}
        (?:T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:\d{{2}})?)?)(?![\w-])
  | (?P<number>-?\d+(?:\.\d+)?(?:[mMdDfFlL])?)(?![\w-])
  | (?P<ident>[A-Za-z_][\w.]*(?:/[A-Za-z_]\w*)*)
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
        return parts[0] if len(parts) == 1 else any_of(parts)

    def _and(self) -> CompiledFilter:
        parts = [self._unary()]
        while self._keyword("and"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else all_of(parts)

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
            return string_function(name, column, literal, self.entity)
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
        name, given = args.get("name"), args.get("values")
        if not isinstance(name, Literal) or name.kind != "string" or not isinstance(given, list):
            raise errors.query_error("The In function requires PropertyName and PropertyValues parameters.")
        column = resolve_logical(str(name.value), self.entity)
        coerced = [coerce_text(column, str(v.value), self.entity) for v in given]
        return membership(column, coerced)

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
        value = coerce(column, literal, op, self.entity)
        return compare(column, op, value)

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
        if token.kind == "enum":  # Namespace.EnumType'Member' (query-metadata-web-api.md, enum types)
            type_name, _, member = token.text.partition("'")
            return Literal("enum", member[:-1].replace("''", "'"), token.text, type_name)
        if token.kind == "guidlit":
            body = token.text[5:-1]
            return Literal("guid", parse_guid(body, token.text), token.text)
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
