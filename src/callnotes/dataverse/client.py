"""``DataverseClient``: the generic Dataverse Web API client (DESIGN.md §dataverse)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from callnotes.dataverse.auth import TokenProvider
from callnotes.dataverse.batch import (
    MAX_BATCH_PARTS,
    AdaptiveChunkSize,
    BatchItem,
    BatchRequest,
    BatchResult,
    ChangeSet,
    assemble_items,
    assemble_results,
    decode_batch,
    encode_batch,
    encode_items,
    not_run,
)
from callnotes.dataverse.cache import GetCache
from callnotes.dataverse.errors import (
    AuthError,
    BadResponse,
    DataverseError,
    DuplicateKey,
    NetworkBlocked,
    NotFound,
    Throttled,
    TransportError,
    error_from_response,
)
from callnotes.dataverse.fetchxml import iter_fetch_pages
from callnotes.dataverse.paging import iter_pages, prefer_max_page_size
from callnotes.dataverse.pipeline import ANNOTATIONS_ALL, Call, Pipeline, json_body
from callnotes.dataverse.query import (
    BATCH_URL_BUDGET,
    GET_URL_BUDGET,
    Literal,
    ODataFilter,
    as_guid,
    chunk_in_filters,
    encode_query,
)
from callnotes.dataverse.retry import RetryPolicy, clamp_timeout

logger = logging.getLogger(__name__)

API_PATH = "/api/data/v9.2"
_ENTITY_SET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: An entity set, or a collection-valued navigation property reached through records by GUID key
#: (``systemusers(<id>)/teammembership_association``; powerapps-docs/developer/data-platform/webapi/
#: query/join-tables.md, "Retrieve related table records"); no other text can reach the URL path.
_COLLECTION_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\([0-9a-fA-F-]{36}\)/[A-Za-z_][A-Za-z0-9_]*)*$")
_ORDERBY = re.compile(r"^[A-Za-z_][A-Za-z0-9_/]*( (asc|desc))?(,[A-Za-z_][A-Za-z0-9_/]*( (asc|desc))?)*$")
_EXPAND = re.compile(r"^[A-Za-z0-9_(),;=$ /'-]+$")
#: Activity tables share the ``activityid`` primary key
#: (powerapps-docs/developer/data-platform/activity-entities.md).
_ACTIVITY_SETS = frozenset(
    {"tasks", "emails", "phonecalls", "appointments", "letters", "faxes", "activitypointers"}
)
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def primary_key_for(entity_set: str) -> str:
    """The primary key column of an entity set by Dataverse naming (``accounts`` → ``accountid``)."""
    if entity_set in _ACTIVITY_SETS:
        return "activityid"
    if entity_set.endswith("ies"):
        return entity_set[:-3] + "yid"
    return entity_set.removesuffix("s") + "id"


def _entity_set(name: str) -> str:
    if not _ENTITY_SET.match(name or ""):
        raise ValueError(f"not a valid entity set name: {name!r}")
    return name


def _collection_path(path: str) -> str:
    if not _COLLECTION_PATH.match(path or ""):
        raise ValueError(f"not an entity set or a navigation path through GUID keys: {path!r}")
    return path


class DataverseClient:
    """Talks to one Dataverse org. Thread-safe for reads; one shared httpx connection pool."""

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        cache_ttl: float | None = None,
        cache_entity_sets: Collection[str] = (),
        page_size: int = 5000,
        transport: httpx.BaseTransport | None = None,
        chunk_size: AdaptiveChunkSize | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        root = base_url.rstrip("/")
        self._on_close = on_close  # e.g. the token provider's own connections (MSAL's session)
        self.api_url = root if "/api/data/" in root else root + API_PATH
        self.api_path = httpx.URL(self.api_url).path
        self.page_size = page_size
        self._http = httpx.Client(
            timeout=httpx.Timeout(clamp_timeout(timeout)),
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            headers={"User-Agent": "callnotes-dataverse/0.1"},
        )
        self.pipeline = Pipeline(self._http, token_provider, retry or RetryPolicy())
        self.cache = GetCache(cache_ttl) if cache_ttl else None
        self._cached_sets = frozenset(cache_entity_sets)
        self.chunk_size = chunk_size or AdaptiveChunkSize()

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> DataverseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = encode_query(params or {})
        return f"{self.api_url}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def _send(self, call: Call) -> httpx.Response:
        if call.method != "GET" and self.cache is not None:
            self.cache.clear()
        logger.debug("%s %s", call.method, call.what)
        return self.pipeline.send(call)

    def _get_json(self, url: str, *, what: str, prefer: str | None = None) -> Any:
        headers = {"Prefer": prefer} if prefer else {}
        return json_body(self._send(Call("GET", url, headers, what=what)), what=what)

    def _cacheable(self, path: str) -> bool:
        return self.cache is not None and re.split(r"[(?/]", path, maxsplit=1)[0] in self._cached_sets

    # -- reads -----------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to the API root) with percent-encoded ``params``; decoded JSON."""
        url = self._url(path, params)
        if self._cacheable(path) and (hit := self.cache.get(url)) is not None:  # type: ignore[union-attr]
            return hit
        document = self._get_json(url, what=f"GET {path}")
        if self._cacheable(path):
            self.cache.put(url, document)  # type: ignore[union-attr]
        return document

    def whoami(self) -> dict[str, Any]:
        """``WhoAmI``: connectivity check and the caller's ``UserId`` (reference/000 §1)."""
        answer = self.get("WhoAmI")
        if not isinstance(answer, dict) or "UserId" not in answer:
            raise BadResponse("MSX answered WhoAmI without a UserId")
        return answer

    def get_record(
        self,
        entity_set: str,
        record_id: str | uuid.UUID,
        *,
        select: Sequence[str] | None = None,
        expand: str | None = None,
    ) -> dict[str, Any]:
        path = f"{_entity_set(entity_set)}({as_guid(record_id)})"
        record = self.get(path, _query_options(select=select, expand=expand))
        if not isinstance(record, dict):
            raise BadResponse(f"MSX answered {path} with something that is not a record")
        return record

    def iter_rows(
        self,
        path: str,
        *,
        select: Sequence[str] | None = None,
        filter: ODataFilter | None = None,
        orderby: str | None = None,
        expand: str | None = None,
        top: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching row of a collection, page by page via ``@odata.nextLink`` (never ``$skip``).

        ``path`` is an entity set (``accounts``) or a collection-valued navigation property
        (``systemusers(<id>)/teammembership_association``); both page the same way, with the same
        guard against a repeated page or next link (paging.py).
        """
        params = _query_options(select=select, filter=filter, orderby=orderby, expand=expand, top=top)
        first = self._url(_collection_path(path), params)
        prefer = f"{ANNOTATIONS_ALL},{prefer_max_page_size(page_size or self.page_size)}"
        fetch = lambda url: self._get_json(url, what=f"list {path}", prefer=prefer)  # noqa: E731
        for rows in iter_pages(fetch, first):
            yield from rows

    def list_rows(self, path: str, **options: Any) -> list[dict[str, Any]]:
        return list(self.iter_rows(path, **options))

    def get_by_ids(
        self,
        entity_set: str,
        key_field: str,
        ids: Iterable[Literal],
        *,
        select: Sequence[str] | None = None,
        extra: ODataFilter | None = None,
        via_batch: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows whose ``key_field`` is in ``ids``: split by URL budget (32 KB GET, 64 KB in ``$batch``)."""
        values = list(dict.fromkeys(ids))
        if not values:
            return []
        base = self._url(_entity_set(entity_set), _query_options(select=select))
        budget = BATCH_URL_BUDGET if via_batch else GET_URL_BUDGET
        filters = chunk_in_filters(key_field, values, url_without_filter=base, budget=budget, extra=extra)
        if not via_batch:
            return [row for flt in filters for row in self.iter_rows(entity_set, select=select, filter=flt)]
        parts = [
            BatchRequest("GET", f"{entity_set}?{encode_query(_query_options(select=select, filter=f))}")
            for f in filters
        ]
        rows: list[dict[str, Any]] = []
        for result in self.batch(parts, continue_on_error=False):
            if result.error is not None:
                raise result.error
            rows.extend(result.json().get("value", []))
        return rows

    def fetchxml(self, entity_set: str, xml: str, *, page_size: int | None = None) -> list[dict[str, Any]]:
        """All rows of a FetchXML query, following the paging cookie."""
        return list(self.iter_fetchxml(entity_set, xml, page_size=page_size))

    def iter_fetchxml(
        self, entity_set: str, xml: str, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        path = _entity_set(entity_set)
        fetch = lambda fx: self._get_json(self._url(path, {"fetchXml": fx}), what=f"FetchXML on {path}")  # noqa: E731
        for rows in iter_fetch_pages(fetch, xml, page_size=page_size):
            yield from rows

    # -- writes ----------------------------------------------------------------------------------
    def create(
        self,
        entity_set: str,
        data: Mapping[str, Any],
        *,
        primary_key: str | None = None,
        record_id: str | uuid.UUID | None = None,
    ) -> str:
        """Create a record with a client-assigned GUID; safe to retry (returns the id).

        A primary key value may be set on create (powerapps-docs/developer/data-platform/webapi/
        create-entity-web-api.md, "Set the primary key value"), so a resent create that meets
        "duplicate key" (0x80040237) proves the first attempt landed.
        """
        key = primary_key or primary_key_for(_entity_set(entity_set))
        new_id = str(as_guid(record_id or data.get(key) or uuid.uuid4()))
        body = json.dumps({**data, key: new_id}).encode()
        call = Call("POST", self._url(entity_set), {}, body, idempotent=True, what=f"create in {entity_set}")
        try:
            response = self._send(call)
        except DuplicateKey as exc:
            if getattr(exc, "attempts", 1) > 1:
                logger.info("create in %s: an earlier attempt landed; record %s exists", entity_set, new_id)
                return new_id
            raise
        created = _ENTITY_ID.search(response.headers.get("OData-EntityId", ""))
        if created and created.group(1).lower() != new_id:
            raise BadResponse(f"MSX created {created.group(1)} instead of the requested id {new_id}")
        return new_id

    def update(
        self, entity_set: str, record_id: str | uuid.UUID, data: Mapping[str, Any], *, etag: str | None = None
    ) -> None:
        """PATCH an existing record; ``If-Match`` (the etag or ``*``) keeps it from creating one.

        powerapps-docs/developer/data-platform/webapi/perform-conditional-operations-using-web-api.md.
        """
        path = f"{_entity_set(entity_set)}({as_guid(record_id)})"
        headers = {"If-Match": etag or "*"}
        self._send(
            Call("PATCH", self._url(path), headers, json.dumps(dict(data)).encode(), what=f"update {path}")
        )

    def upsert(self, entity_set: str, record_id: str | uuid.UUID, data: Mapping[str, Any]) -> None:
        """PATCH that creates the record when it does not exist (upsert)."""
        path = f"{_entity_set(entity_set)}({as_guid(record_id)})"
        self._send(Call("PATCH", self._url(path), {}, json.dumps(dict(data)).encode(), what=f"upsert {path}"))

    def delete(self, entity_set: str, record_id: str | uuid.UUID, *, etag: str | None = None) -> None:
        """DELETE a record; a retried delete that finds it gone counts as done."""
        path = f"{_entity_set(entity_set)}({as_guid(record_id)})"
        headers = {"If-Match": etag} if etag else {}
        try:
            self._send(Call("DELETE", self._url(path), headers, what=f"delete {path}"))
        except NotFound as exc:
            if getattr(exc, "attempts", 1) <= 1:
                raise

    def call_action(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """POST an action (e.g. ``systemusers(<id>)/Microsoft.Dynamics.CRM.AddUserToRecordTeam``)."""
        content = json.dumps(dict(body or {})).encode()
        response = self._send(
            Call("POST", self._url(path), {}, content, idempotent=False, what=f"action {path}")
        )
        return json_body(response, what=f"action {path}") if response.content.strip() else None

    # -- $batch ----------------------------------------------------------------------------------
    def batch(
        self,
        requests: Sequence[BatchRequest],
        *,
        atomic: bool = False,
        continue_on_error: bool = False,
        chunk_size: int | None = None,
    ) -> list[BatchResult]:
        """Run ``requests`` through ``$batch``; results in request order, one per request.

        ``atomic`` sends them as one change set (all or nothing, at most 1,000). Otherwise they are
        split into chunks of ``chunk_size`` parts per ``$batch`` request. By default (``None``) the
        size adapts to measured latency (5..25, starting at 15: gentle on a throttled org, meant for
        writes); a number fixes it, and ``chunk_size=MAX_BATCH_PARTS`` asks for as few requests as
        the documented 1,000-part limit allows (a round of reads in one round trip;
        powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md).
        """
        requests = list(requests)
        if chunk_size is not None and not 1 <= chunk_size <= MAX_BATCH_PARTS:
            raise ValueError(f"chunk_size must be between 1 and {MAX_BATCH_PARTS}")
        adaptive = chunk_size is None and len(requests) > self.chunk_size.size
        if atomic:
            return self._send_batch(requests, atomic=True, continue_on_error=continue_on_error)
        results: list[BatchResult] = []
        while len(results) < len(requests):
            size = chunk_size or self.chunk_size.size
            chunk = requests[len(results) : len(results) + size]
            results += self._send_chunk(chunk, continue_on_error=continue_on_error, adaptive=adaptive)
            if not continue_on_error and any(not r.ok for r in results):
                results += [not_run(r) for r in requests[len(results) :]]
        return results

    def _send_chunk(
        self, chunk: Sequence[BatchRequest], *, continue_on_error: bool, adaptive: bool
    ) -> list[BatchResult]:
        """One ``$batch`` request; its latency (or throttling) feeds the adaptive size when in use."""
        started = time.monotonic()
        try:
            answers = self._send_batch(chunk, atomic=False, continue_on_error=continue_on_error)
        except Throttled:
            if adaptive:
                self.chunk_size.record(time.monotonic() - started, throttled=True)
            raise
        if adaptive:
            self.chunk_size.record(time.monotonic() - started)
        return answers

    def execute(self, request: BatchRequest, *, resend_safe: bool = False) -> BatchResult:
        """One request outside a ``$batch``, answered like a batch part: an error answer from the
        service is the result's ``error``; what stops every request (no network, no token,
        throttling past the retry budget) raises. ``resend_safe``: the request may be sent again
        after a lost answer (a create with a fixed id, a PATCH with If-Match, a team action)."""
        body = json.dumps(dict(request.body)).encode() if request.body is not None else None
        call = Call(request.method.upper(), self._url(request.path), dict(request.headers), body,
                    idempotent=resend_safe or request.method.upper() != "POST",
                    what=f"{request.method.upper()} {request.path}")
        try:
            response = self._send(call)
        except (TransportError, AuthError, NetworkBlocked, Throttled):
            raise
        except DataverseError as exc:
            if exc.status is None:
                raise
            return BatchResult(request, exc.status, {}, b"", exc)
        return BatchResult(request, response.status_code, {k.lower(): v for k, v in response.headers.items()},
                           response.content)

    def send_batch(self, items: Sequence[BatchItem], *, continue_on_error: bool = True) -> list[BatchResult]:
        """One ``$batch`` request of independent requests and change sets (at most 1,000 requests in
        all); one result per request, change sets flattened in order. With ``continue_on_error`` a
        failed request or change set does not stop the ones after it
        (powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md)."""
        requests = [r for i in items for r in (i.requests if isinstance(i, ChangeSet) else [i])]
        content_type, body = encode_items(items, api_path=self.api_path)
        response = self._post_batch(content_type, body, requests, continue_on_error=continue_on_error)
        return assemble_items(items, decode_batch(response.headers.get("content-type", ""), response.content))

    def _send_batch(
        self, requests: Sequence[BatchRequest], *, atomic: bool, continue_on_error: bool
    ) -> list[BatchResult]:
        content_type, body = encode_batch(requests, api_path=self.api_path, atomic=atomic)
        response = self._post_batch(content_type, body, requests, continue_on_error=continue_on_error)
        return assemble_results(requests, decode_batch(response.headers.get("content-type", ""),
                                                       response.content), atomic=atomic)

    def _post_batch(
        self, content_type: str, body: bytes, requests: Sequence[BatchRequest], *, continue_on_error: bool
    ) -> httpx.Response:
        """POST ``$batch``; an answer that is not multipart is the error of the whole batch."""
        headers = {"Content-Type": content_type}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        idempotent = all(r.method.upper() != "POST" for r in requests)
        # a failed part without continue-on-error gives the whole answer its status, still multipart
        call = Call(
            "POST",
            self._url("$batch"),
            headers,
            body,
            idempotent=idempotent,
            what=f"$batch of {len(requests)}",
            multipart_errors=True,
        )
        response = self._send(call)
        if "multipart" not in response.headers.get("content-type", ""):
            raise error_from_response(response.status_code, response.headers, response.content, what="$batch")
        return response


def _query_options(
    *,
    select: Sequence[str] | None = None,
    filter: ODataFilter | None = None,
    orderby: str | None = None,
    expand: str | None = None,
    top: int | None = None,
) -> dict[str, Any]:
    if filter is not None and not isinstance(filter, ODataFilter):
        raise TypeError("filter must be an ODataFilter (never a hand-built string)")
    if orderby is not None and not _ORDERBY.match(orderby):
        raise ValueError(f"not a valid $orderby: {orderby!r}")
    if expand is not None and not _EXPAND.match(expand):
        raise ValueError(f"not a valid $expand: {expand!r}")
    if select is not None:
        for column in select:
            _entity_set(column)
    return {
        "$select": ",".join(select) if select else None,
        "$filter": str(filter) if filter is not None else None,
        "$orderby": orderby,
        "$expand": expand,
        "$top": int(top) if top is not None else None,
    }
