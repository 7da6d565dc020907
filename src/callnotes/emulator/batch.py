"""``$batch``: parse the multipart/mixed request body and format the multipart response.

Follows powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md
(OData v4.0 part 1 §11.7): a ``batch_…`` boundary around parts that are either one
``application/http`` request or a ``changeset_…`` multipart of requests; CRLF line endings;
``Content-ID`` on changeset parts; the response uses ``batchresponse_…`` and
``changesetresponse_…`` boundaries. The parser is strict about framing (CRLF, boundaries,
headers) and opaque about each request body. :class:`BatchRunner` executes the parsed parts
against the service: changesets inside ``service.transaction()``, ``$n`` references resolved
from earlier parts' ``OData-EntityId``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from callnotes.emulator.errors import INVALID_ARGUMENT, fault_response
from callnotes.emulator.messages import ApiRequest, ApiResponse

_log = logging.getLogger(__name__)

# "Batch requests can contain up to 1000 individual requests" (execute-batch-operations-using-web-api.md).
MAX_BATCH_OPERATIONS = 1000
_CRLF = b"\r\n"
_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


class BatchFormatError(ValueError):
    """The ``$batch`` body cannot be parsed; the message says where and why (answered with 400)."""


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a batch, as written (URL not yet resolved)."""

    method: str
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Operations that succeed or fail together."""

    operations: list[BatchOperation]


BatchItem = BatchOperation | ChangeSet


@dataclass
class OperationResult:
    response: ApiResponse
    content_id: str | None = None


@dataclass
class ChangeSetResult:
    """Either every operation's result, or (when the changeset failed) only the failing one."""

    results: list[OperationResult] = field(default_factory=list)
    failure: OperationResult | None = None


BatchResult = OperationResult | ChangeSetResult


def boundary_of(content_type: str | None, what: str = "$batch request") -> str:
    """The ``boundary`` parameter of a ``multipart/mixed`` Content-Type."""
    if not content_type:
        raise BatchFormatError(f"The {what} has no Content-Type; send multipart/mixed with a boundary.")
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "multipart/mixed":
        raise BatchFormatError(
            f"The {what} Content-Type must be multipart/mixed, got '{media_type.strip()}'."
        )
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            boundary = value.strip().strip('"')
            if boundary and len(boundary) <= 70:
                return boundary
    raise BatchFormatError(f"The {what} Content-Type has no valid boundary parameter.")


def parse_batch(content_type: str | None, body: bytes) -> list[BatchItem]:
    """Parse a ``$batch`` request body into operations and changesets."""
    boundary = boundary_of(content_type)
    items: list[BatchItem] = []
    for index, (headers, content) in enumerate(_split_multipart(body, boundary, "batch")):
        part_type = headers.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            items.append(_parse_changeset(index, part_type, content))
        else:
            items.append(_parse_operation(index, headers, content, in_changeset=False))
    if not items:
        raise BatchFormatError("The $batch request contains no parts.")
    return items


def count_operations(items: Iterable[BatchItem]) -> int:
    return sum(len(item.operations) if isinstance(item, ChangeSet) else 1 for item in items)


def _parse_changeset(index: int, content_type: str, content: bytes) -> ChangeSet:
    boundary = boundary_of(content_type, f"changeset in batch part {index + 1}")
    operations = [
        _parse_operation(i, headers, part, in_changeset=True)
        for i, (headers, part) in enumerate(_split_multipart(content, boundary, "changeset"))
    ]
    if not operations:
        raise BatchFormatError(f"The changeset in batch part {index + 1} contains no requests.")
    return ChangeSet(operations)


def _parse_operation(
    index: int, headers: dict[str, str], content: bytes, *, in_changeset: bool
) -> BatchOperation:
    where = f"{'changeset' if in_changeset else 'batch'} part {index + 1}"
    part_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if part_type != "application/http":
        raise BatchFormatError(f"The {where} must have Content-Type application/http, got '{part_type}'.")
    method, url, inner_headers, body = _parse_http_request(content, where)
    if in_changeset and method == "GET":
        # "GET request are not allowed within change sets" (execute-batch-operations-using-web-api.md).
        raise BatchFormatError(f"The {where} is a GET request; GET requests are not allowed in a changeset.")
    content_id = headers.get("content-id") or inner_headers.get("content-id")
    return BatchOperation(method, url, inner_headers, body, content_id.strip() if content_id else None)


def _split_multipart(body: bytes, boundary: str, what: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body on its boundary; every framing line must end with CRLF."""
    delimiter = b"--" + boundary.encode("ascii", "replace")
    data = _CRLF + body
    marker = _CRLF + delimiter
    if marker not in data:
        if b"\n" + delimiter in data:
            raise _lf_error(what)
        raise BatchFormatError(f"The {what} body does not contain its boundary delimiter '--{boundary}'.")
    parts: list[tuple[dict[str, str], bytes]] = []
    for segment in data.split(marker)[1:]:
        if segment.startswith(b"--"):
            return parts
        segment = segment.lstrip(b" \t")
        if segment.startswith(b"\n"):
            raise _lf_error(what)
        if not segment.startswith(_CRLF):
            raise BatchFormatError(f"A boundary delimiter line in the {what} is not followed by CRLF.")
        parts.append(_split_part_headers(segment[2:], what))
    raise BatchFormatError(f"The {what} body is missing its closing delimiter '--{boundary}--'.")


def _split_part_headers(segment: bytes, what: str) -> tuple[dict[str, str], bytes]:
    head, sep, content = segment.partition(_CRLF + _CRLF)
    if not sep:
        if segment.startswith(_CRLF):  # no headers at all
            return {}, segment[2:]
        if b"\n\n" in segment:
            raise _lf_error(what)
        raise BatchFormatError(f"A part of the {what} has no blank line after its headers.")
    return _parse_header_lines(head, what), content


def _parse_header_lines(head: bytes, what: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    if not head:
        return headers
    for raw in head.split(_CRLF):
        if b"\n" in raw or b"\r" in raw:
            raise _lf_error(what)
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise BatchFormatError(f"Malformed header line in the {what}: {raw[:80]!r}.")
        headers[name.strip().lower()] = value.strip()
    return headers


def _parse_http_request(content: bytes, where: str) -> tuple[str, str, dict[str, str], bytes]:
    """``METHOD URL HTTP/1.1`` CRLF, headers, blank line, body."""
    head, sep, body = content.partition(_CRLF + _CRLF)
    if not sep:
        head = content[:-2] if content.endswith(_CRLF) else content
        body = b""
    request_line, _, header_block = head.partition(_CRLF)
    if b"\n" in request_line:
        raise _lf_error(where)
    # The service reads a request line as Microsoft's OData library does: the method up to the first
    # space, the version after the last one, and everything between as the URL, so a query with
    # unencoded spaces ("$filter=statecode eq 0") is accepted (execute-batch-operations-using-web-api.md
    # shows such part URLs).
    line = request_line.decode("latin-1")
    verb, _, rest = line.partition(" ")
    url, _, version = rest.rpartition(" ")
    if not verb or not url.strip() or not version.startswith("HTTP/"):
        raise BatchFormatError(
            f"The {where} does not start with a request line 'METHOD URL HTTP/1.1': {request_line[:100]!r}."
        )
    method = verb.upper()
    if method not in _METHODS:
        raise BatchFormatError(f"The {where} uses an unsupported method '{verb}'.")
    return method, url.strip(), _parse_header_lines(header_block, where), body


def _lf_error(what: str) -> BatchFormatError:
    return BatchFormatError(
        f"The {what} uses bare LF line endings; multipart framing and headers "
        "must end lines with CRLF (\\r\\n)."
    )


# --- response ---------------------------------------------------------------------------


def new_boundary(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def format_batch_response(results: list[BatchResult], boundary: str | None = None) -> tuple[str, bytes]:
    """The multipart response body and its Content-Type (``batchresponse_…`` boundary)."""
    boundary = boundary or new_boundary("batchresponse")
    chunks: list[bytes] = []
    for result in results:
        chunks.append(b"--" + boundary.encode() + _CRLF)
        if isinstance(result, ChangeSetResult) and result.failure is None:
            chunks.append(_format_changeset(result))
        else:
            single = result.failure if isinstance(result, ChangeSetResult) else result
            assert single is not None
            chunks.append(_format_http_part(single))
        chunks.append(_CRLF)
    chunks.append(b"--" + boundary.encode() + b"--" + _CRLF)
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def _format_changeset(result: ChangeSetResult) -> bytes:
    boundary = new_boundary("changesetresponse").encode()
    chunks = [b"Content-Type: multipart/mixed; boundary=" + boundary + _CRLF + _CRLF]
    for item in result.results:
        chunks += [b"--" + boundary + _CRLF, _format_http_part(item), _CRLF]
    chunks.append(b"--" + boundary + b"--")
    return b"".join(chunks)


def _format_http_part(result: OperationResult) -> bytes:
    response = result.response
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if result.content_id:
        lines.append(f"Content-ID: {result.content_id}")
    lines += ["", f"HTTP/1.1 {response.status} {_reason(response.status)}"]
    headers = dict(response.headers)
    if not any(name.lower() == "odata-version" for name in headers):
        lines.append("OData-Version: 4.0")
    if response.body and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json; odata.metadata=minimal"
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["", ""]
    return "\r\n".join(lines).encode("utf-8") + response.body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --- execution --------------------------------------------------------------------------

_API_PREFIX = "/api/data/v9.2/"
_REFERENCE = re.compile(r"^\$([A-Za-z0-9_.~-]+)(.*)$", re.DOTALL)
# Dataverse's generic "An unexpected error occurred." code (UnExpected).
_CODE_UNEXPECTED = "0x80040216"

RequestFactory = Callable[[str, str, str, Mapping[str, str], bytes], ApiRequest]


class _Service(Protocol):
    def handle(self, request: ApiRequest) -> ApiResponse: ...
    def transaction(self) -> Any: ...


class _ReferenceError(Exception):
    """A ``$n`` reference to a Content-ID not declared earlier in the batch."""


class _ChangeSetAborted(Exception):
    def __init__(self, result: OperationResult) -> None:
        super().__init__(result.response.status)
        self.result = result


@dataclass
class BatchOutcome:
    results: list[BatchResult]
    status: int
    entity_sets: list[str | None]


class BatchRunner:
    """Runs parsed batch items in order against the service (the caller holds the service lock)."""

    def __init__(self, service: _Service, make_request: RequestFactory) -> None:
        self._service = service
        self._make_request = make_request
        self._references: dict[str, str] = {}
        self._entity_sets: list[str | None] = []

    def run(self, items: list[BatchItem], *, continue_on_error: bool) -> BatchOutcome:
        """Without ``continue_on_error`` processing stops at the first failing item and the
        batch takes that item's status (execute-batch-operations-using-web-api.md, "Handling errors")."""
        results: list[BatchResult] = []
        for item in items:
            result = self._run_changeset(item) if isinstance(item, ChangeSet) else self._run_operation(item)
            results.append(result)
            failed = _failure_status(result)
            if failed is not None and not continue_on_error:
                return BatchOutcome(results, failed, self._entity_sets)
        return BatchOutcome(results, 200, self._entity_sets)

    def _run_changeset(self, changeset: ChangeSet) -> ChangeSetResult:
        # A failing operation rolls back the whole changeset: raise inside the transaction.
        saved = dict(self._references)
        results: list[OperationResult] = []
        try:
            with self._service.transaction():
                for operation in changeset.operations:
                    result = self._run_operation(operation)
                    if result.response.status >= 400:
                        raise _ChangeSetAborted(result)
                    results.append(result)
        except _ChangeSetAborted as aborted:
            self._references = saved
            return ChangeSetResult(failure=aborted.result)
        return ChangeSetResult(results=results)

    def _run_operation(self, operation: BatchOperation) -> OperationResult:
        try:
            path, query = self._resolve_url(operation.url)
            body = self._resolve_body(operation.body)
        except _ReferenceError as exc:
            return OperationResult(fault_response(400, INVALID_ARGUMENT, str(exc)), operation.content_id)
        request = self._make_request(operation.method, path, query, operation.headers, body)
        try:
            response = self._service.handle(request)
        except Exception:
            _log.exception("service failed on batch operation %s %s", operation.method, path)
            response = fault_response(500, _CODE_UNEXPECTED, "An unexpected error occurred.")
        self._entity_sets.append(response.entity_set)
        entity_id = _header(response.headers, "OData-EntityId") or _header(response.headers, "Location")
        if operation.content_id and entity_id:
            self._references[operation.content_id] = entity_id
        return OperationResult(response, operation.content_id)

    def _resolve_url(self, url: str) -> tuple[str, str]:
        match = _REFERENCE.match(url)
        if match:
            url = self._reference(match.group(1)) + match.group(2)
        target, _, query = url.partition("?")
        query = query.replace(" ", "%20")  # spaces the request line carried, encoded as the query expects
        if "://" in target:
            target = urlsplit(target).path
        position = target.find(_API_PREFIX)
        if position >= 0:
            target = target[position + len(_API_PREFIX) :]
        elif target.startswith("/"):
            raise _ReferenceError(f"The request URL '{url}' is not under {_API_PREFIX}.")
        return unquote(target), query

    def _resolve_body(self, body: bytes) -> bytes:
        if b'"$' not in body:
            return body
        try:
            document = json.loads(body)
        except ValueError:
            return body  # the service reports the malformed payload itself
        return json.dumps(self._replace_references(document)).encode("utf-8")

    def _replace_references(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._replace_references(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._replace_references(item) for item in value]
        if isinstance(value, str):
            match = _REFERENCE.match(value)
            if match and (match.group(1) in self._references or match.group(1).isdigit()):
                return self._reference(match.group(1)) + match.group(2)
        return value

    def _reference(self, name: str) -> str:
        if name not in self._references:
            # execute-batch-operations-using-web-api.md: referencing a Content-ID before it is
            # declared returns 400.
            raise _ReferenceError(f"Content-ID Reference: '${name}' does not exist in the batch context.")
        return self._references[name]


def _failure_status(result: BatchResult) -> int | None:
    if isinstance(result, ChangeSetResult):
        return result.failure.response.status if result.failure else None
    return result.response.status if result.response.status >= 400 else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)
