"""The read-only metadata API: ``EntityDefinitions``, ``GlobalOptionSetDefinitions`` and ``$metadata``.

Paths and options, each as Microsoft documents it:
- ``EntityDefinitions`` with ``$select`` / ``$filter`` (primitive, enum ``Microsoft.Dynamics.CRM.X'Y'``
  and ``Complex/Value`` properties) / ``$expand=Attributes(…)``; no paging, everything matching in
  one answer; ``MetadataId`` always returned (webapi/query-metadata-web-api.md);
- by key: ``EntityDefinitions(LogicalName='account')`` or ``(<MetadataId>)``, the same for
  ``Attributes(…)``, ``Keys(…)`` and ``GlobalOptionSetDefinitions(Name='…')``
  (webapi/retrieve-metadata-name-metadataid.md);
- ``Attributes`` answers the common AttributeMetadata properties with each item's ``@odata.type``;
  a cast ``Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`` (or State…, Status…,
  Lookup…, String… and the other derived types) narrows to that type and offers its own properties
  and, for choices, ``$expand=OptionSet`` / ``GlobalOptionSet`` or the path ``…/OptionSet``
  (query-metadata-web-api.md "Querying EntityMetadata attributes", "Retrieving attributes");
- ``GlobalOptionSetDefinitions`` does not support ``$filter`` (query-metadata-web-api.md
  "Querying Global OptionSets");
- ``$metadata``: the CSDL document (webapi/web-api-service-documents.md), see :mod:`csdl`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from callnotes.emulator import errors
from callnotes.emulator.csdl import csdl_document
from callnotes.emulator.messages import ApiRequest, ApiResponse, json_response
from callnotes.emulator.metadata_model import (
    ATTRIBUTE_CASTS,
    CRM,
    ENUM_PROPERTIES,
    NAVIGATIONS,
    Definition,
    MetadataModel,
    build_model,
)
from callnotes.emulator.odata_filter import compile_filter
from callnotes.emulator.query import split_top_level
from callnotes.emulator.record_keys import invalid_key, parse_key_text
from callnotes.emulator.table_definitions import Column, EntityType, Kind

METADATA_SETS = ("EntityDefinitions", "GlobalOptionSetDefinitions")
_OPTIONS = ("$select", "$filter", "$expand")
# The key properties of each definition kind besides MetadataId (retrieve-metadata-name-metadataid.md).
_NAME_KEYS = {"EntityMetadata": "LogicalName", "AttributeMetadata": "LogicalName",
              "EntityKeyMetadata": "LogicalName", "OptionSetMetadata": "Name"}  # fmt: skip


def is_metadata_path(path: str) -> bool:
    return path == "$metadata" or path.split("/", 1)[0].split("(", 1)[0] in METADATA_SETS


@dataclass(frozen=True)
class _Options:
    select: tuple[str, ...] | None = None
    filter: str | None = None
    expand: tuple[tuple[str, _Options], ...] = ()


@dataclass(frozen=True)
class _Resource:
    """What a path names: one definition or a collection, its declared type and its context path."""

    items: Definition | tuple[Definition, ...]
    declared: str
    context: str
    path: str = ""  # the canonical path of a single item, for the context of what is under it
    filterable: bool = True


class Definitions:
    """Answers metadata requests from the model built out of the table definitions."""

    def __init__(self, schema: Mapping[str, EntityType]) -> None:
        self.schema = schema
        self.model: MetadataModel = build_model(schema)
        self._all = _every_definition(self.model)
        self._types = _property_names(self._all)
        self._filter_entities: dict[str, EntityType] = {}

    def handle(self, request: ApiRequest, path: str) -> ApiResponse:
        if request.method.upper() != "GET":
            # Creating or changing definitions is not emulated (create-update-entity-definitions…).
            raise errors.DataverseFault(
                405,
                errors.QUERY_SYNTAX,
                f"The HTTP method '{request.method.upper()}' is not allowed for '{path}'.",
            )
        if path == "$metadata":
            body = csdl_document(self.schema)
            return ApiResponse(200, {"Content-Type": "application/xml", "OData-Version": "4.0"}, body)
        resource = self._resolve(path)
        options = _parse_options(request.query)
        return json_response(200, self._answer(request.service_root, resource, options))

    # -- paths -------------------------------------------------------------------------------------
    def _resolve(self, path: str) -> _Resource:
        first, *rest = _segments(path)
        name, key = _split_segment(first)
        if name == "GlobalOptionSetDefinitions":
            sets = self.model.global_option_sets
            resource = _Resource(sets, "OptionSetMetadata", name, filterable=False)
        else:
            resource = _Resource(self.model.entities, "EntityMetadata", name)
        if key is not None:
            resource = _pick(resource, key, name)
        for segment in rest:
            resource = self._step(resource, segment)
        return resource

    def _step(self, resource: _Resource, segment: str) -> _Resource:
        name, key = _split_segment(segment)
        item = resource.items
        if (
            isinstance(item, Definition)
            and name in ("Attributes", "Keys")
            and resource.declared == "EntityMetadata"
        ):
            declared = "AttributeMetadata" if name == "Attributes" else "EntityKeyMetadata"
            children = item.navigations[name]
            assert isinstance(children, tuple)
            context = f"{resource.path}/{name}"
            found = _Resource(children, declared, context)
            return _pick(found, key, context) if key is not None else found
        if (
            name.startswith(f"{CRM}.")
            and key is None
            and resource.declared in ("AttributeMetadata", *ATTRIBUTE_CASTS)
        ):
            return _cast(resource, name)
        if isinstance(item, Definition) and key is None and name in NAVIGATIONS.get(resource.declared, ()):
            target = item.navigations.get(name)
            if isinstance(target, Definition):
                return _Resource(
                    target, target.type_name, f"{resource.path}/{name}", f"{resource.path}/{name}"
                )
        raise errors.resource_not_found(name)

    # -- answers -----------------------------------------------------------------------------------
    def _answer(self, service_root: str, resource: _Resource, options: _Options) -> dict[str, object]:
        selected = self._context_select(resource.declared, options)
        if isinstance(resource.items, Definition):
            if options.filter is not None:
                raise errors.query_error("The query option $filter is not supported on a single definition.")
            context = f"{service_root}/$metadata#{resource.context}{selected}/$entity"
            return {"@odata.context": context, **self._render(resource.items, resource.declared, options)}
        if options.filter is not None and not resource.filterable:
            raise errors.query_error(f"The query option $filter is not supported on {resource.context}.")
        context = f"{service_root}/$metadata#{resource.context}{selected}"
        return {
            "@odata.context": context,
            "value": self._collection(resource.items, resource.declared, options),
        }

    def _collection(
        self, items: Sequence[Definition], declared: str, options: _Options
    ) -> list[dict[str, object]]:
        if options.filter is not None:
            test = compile_filter(options.filter, self._filter_entity(declared)).predicate
            items = [item for item in items if test(_flat(item.properties))]
        return [self._render(item, declared, options) for item in items]

    def _render(self, item: Definition, declared: str, options: _Options) -> dict[str, object]:
        out: dict[str, object] = {}
        if item.type_name != declared:
            out["@odata.type"] = f"#{CRM}.{item.type_name}"
        out["MetadataId"] = item.metadata_id  # always returned, whatever $select says
        for name in options.select or tuple(item.properties):
            out[name] = item.properties.get(name)
        for name, nested in options.expand:
            target = item.navigations[name]
            if isinstance(target, Definition):
                out[name] = self._render(target, target.type_name, nested)
            else:
                out[name] = self._collection(target, _NAV_TYPES[name], nested)
        return out

    def _context_select(self, declared: str, options: _Options) -> str:
        """Validates ``$select`` / ``$expand`` against ``declared`` and gives the context's ``(…)`` part."""
        known = self._types.get(declared, frozenset())
        for name in options.select or ():
            if name not in known:
                raise errors.property_not_found(name, declared)
        parts = list(options.select or ())
        for name, nested in options.expand:
            if name not in NAVIGATIONS.get(declared, ()):
                raise errors.property_not_found(name, declared)
            target_type = _NAV_TYPES.get(name) or "OptionSetMetadata"
            parts.append(f"{name}{self._context_select(target_type, nested)}")
        return f"({','.join(parts)})" if parts else ""

    def _filter_entity(self, declared: str) -> EntityType:
        """A stand-in entity type whose columns are ``declared``'s filterable properties."""
        if declared not in self._filter_entities:
            columns: dict[str, Column] = {}
            known = self._types.get(declared, frozenset())
            for item in self._all:
                if item.type_name == declared or (
                    declared == "AttributeMetadata" and item.type_name in ATTRIBUTE_CASTS
                ):
                    for name, value in _flat(item.properties).items():
                        if name.split("/", 1)[0] in known:
                            columns.setdefault(name, _filter_column(name, value))
            self._filter_entities[declared] = EntityType(
                declared, declared, "MetadataId", "MetadataId", columns
            )
        return self._filter_entities[declared]


_NAV_TYPES = {"Attributes": "AttributeMetadata", "Keys": "EntityKeyMetadata"}


# -- helpers -------------------------------------------------------------------------------------


def _every_definition(model: MetadataModel) -> tuple[Definition, ...]:
    found: dict[str, Definition] = {}

    def visit(item: Definition) -> None:
        found.setdefault(f"{item.type_name}/{item.metadata_id}", item)
        for target in item.navigations.values():
            for child in (target,) if isinstance(target, Definition) else target:
                visit(child)

    for item in (*model.entities, *model.global_option_sets):
        visit(item)
    return tuple(found.values())


def _property_names(items: Sequence[Definition]) -> dict[str, frozenset[str]]:
    """The property names of each metadata type; AttributeMetadata has those all attributes share."""
    names: dict[str, set[str]] = {}
    common: set[str] | None = None
    for item in items:
        names.setdefault(item.type_name, set()).update(item.properties)
        if item.type_name in ATTRIBUTE_CASTS:
            common = set(item.properties) if common is None else common & set(item.properties)
    names["AttributeMetadata"] = common or set()
    names.setdefault("OptionSetMetadata", set()).update(names.get("BooleanOptionSetMetadata", set()))
    return {name: frozenset(found) for name, found in names.items()}


def _segments(path: str) -> list[str]:
    """``a(x='1/2')/b`` → ``["a(x='1/2')", "b"]``: slashes inside quotes or parentheses do not split."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in path:
        quoted = not quoted if ch == "'" else quoted
        depth += (ch == "(") - (ch == ")") if not quoted else 0
        if ch == "/" and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if any(not part for part in parts):
        raise errors.resource_not_found(path)
    return parts


def _split_segment(segment: str) -> tuple[str, str | None]:
    name, paren, rest = segment.partition("(")
    if not paren:
        return name, None
    if not rest.endswith(")"):
        raise errors.query_error(f"Bad Request - Error in query syntax. '{segment}' is not a valid segment.")
    return name, rest[:-1]


def _pick(resource: _Resource, key_text: str, context: str) -> _Resource:
    """The single definition ``(key)`` names in a collection: by MetadataId or by name."""
    parsed = parse_key_text(key_text)
    declared = resource.declared
    name_key = _NAME_KEYS.get(declared, "LogicalName")
    if isinstance(parsed, str):
        wanted, value = "MetadataId", parsed
    elif len(parsed) == 1 and next(iter(parsed)) in (name_key, "MetadataId"):
        wanted, raw = next(iter(parsed.items()))
        value = str(raw).lower()
    else:
        raise invalid_key(declared)
    assert isinstance(resource.items, tuple)
    for item in resource.items:
        if item.name(wanted).lower() == value:
            return _Resource(item, declared, context, f"{context}({item.metadata_id})")
    # The ObjectDoesNotExist code, as a retrieve of a missing record answers; the wording is the emulator's.
    what = declared.removesuffix("Metadata").lower()
    raise errors.DataverseFault(
        404, errors.RECORD_NOT_FOUND, f"Could not find {what} with {wanted} = '{value}'."
    )


def _cast(resource: _Resource, segment: str) -> _Resource:
    cast = segment[len(CRM) + 1 :]
    if cast not in ATTRIBUTE_CASTS:  # EnumAttributeMetadata and the like cannot be cast to
        raise errors.resource_not_found(segment)
    context = f"{resource.context}/{segment}"
    if isinstance(resource.items, Definition):
        if resource.items.type_name != cast:
            raise errors.resource_not_found(segment)
        return _Resource(resource.items, cast, context, f"{resource.path}/{segment}")
    return _Resource(tuple(i for i in resource.items if i.type_name == cast), cast, context)


def _parse_options(query: str) -> _Options:
    return _options_from(parse_qsl(query, keep_blank_values=True))


def _options_from(pairs: Sequence[tuple[str, str]]) -> _Options:
    seen: dict[str, str] = {}
    for name, value in pairs:
        if not name.startswith("$"):
            continue
        if name not in _OPTIONS:
            raise errors.query_error(f"The query parameter {name} is not supported")
        if name in seen:
            raise errors.query_error(
                f"Query option '{name}' was specified more than once, but it must be specified at most once."
            )
        seen[name] = value
    select = tuple(n.strip() for n in seen["$select"].split(",")) if "$select" in seen else None
    if select is not None and not all(select):
        raise errors.query_error(f"Syntax error in $select '{seen['$select']}'.")
    expand = _expand(seen["$expand"]) if "$expand" in seen else ()
    return _Options(select, seen.get("$filter"), expand)


def _expand(text: str) -> tuple[tuple[str, _Options], ...]:
    result = []
    for raw in split_top_level(text, ","):
        name, paren, rest = raw.strip().partition("(")
        if not name.strip() or (paren and not rest.endswith(")")):
            raise errors.query_error(f"Syntax error in $expand '{text}'.")
        nested = [part.partition("=")[::2] for part in split_top_level(rest[:-1], ";") if part.strip()]
        result.append(
            (name.strip(), _options_from([(n.strip(), v) for n, v in nested]) if paren else _Options())
        )
    return tuple(result)


def _flat(properties: Mapping[str, object]) -> dict[str, object]:
    """Primitive properties as they are, complex ones with a ``Value`` as ``Name/Value``; labels left out."""
    flat: dict[str, object] = {}
    for name, value in properties.items():
        if isinstance(value, dict) and "Value" in value:
            flat[f"{name}/Value"] = value["Value"]
        elif not isinstance(value, dict | list):
            flat[name] = value
    return flat


def _filter_column(name: str, value: object) -> Column:
    if name == "MetadataId":
        return Column(name, Kind.GUID)
    if name in ENUM_PROPERTIES:
        return Column(name, Kind.ENUM, enum_type=ENUM_PROPERTIES[name])
    if isinstance(value, bool):
        return Column(name, Kind.BOOL)
    if isinstance(value, int):
        return Column(name, Kind.INT)
    return Column(name, Kind.DECIMAL if isinstance(value, float) else Kind.STRING)
