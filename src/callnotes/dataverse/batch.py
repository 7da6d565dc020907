"""``$batch`` encoding and decoding (multipart/mixed, CRLF), change sets, per-part results.

Format as powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md
documents it (OData v4 §11.7): each part has ``Content-Type: application/http`` and
``Content-Transfer-Encoding: binary``; a change set is a nested ``multipart/mixed`` whose parts carry a
``Content-ID`` that later parts reference as ``$n``; GET is not allowed inside a change set; at most
1,000 requests per batch; without ``Prefer: odata.continue-on-error`` the service stops at the first
failing request; a failed change set is rolled back as a whole.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callnotes.dataverse.errors import (
    BatchError,
    DataverseError,
    NotExecuted,
    RolledBack,
    error_from_response,
)

MAX_BATCH_PARTS = 1000
CRLF = "\r\n"
_STATUS_LINE = re.compile(r"^HTTP/\d\.\d\s+(\d{3})")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class BatchRequest:
    """One operation inside a ``$batch``. ``path`` is relative to the service root (or ``$n``)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_id: str | None = None

    def __post_init__(self) -> None:
        if self.method.upper() not in {"GET", "POST", "PATCH", "PUT", "DELETE"}:
            raise ValueError(f"unsupported batch method {self.method!r}")
        if any(ch in self.path for ch in "\r\n ") or not self.path:
            raise ValueError("batch request paths must be non-empty, without spaces or line breaks")

    @property
    def is_read(self) -> bool:
        return self.method.upper() == "GET"


@dataclass(frozen=True)
class ChangeSet:
    """Requests that succeed or fail together inside a ``$batch`` (no GET; Content-IDs 1..n)."""

    requests: Sequence[BatchRequest]

    def __post_init__(self) -> None:
        if not self.requests:
            raise ValueError("a change set needs at least one request")
        if any(r.is_read for r in self.requests):
            raise ValueError("GET requests are not allowed inside a change set")


#: One item of a mixed ``$batch``: an independent request or a change set.
BatchItem = BatchRequest | ChangeSet


@dataclass
class BatchResult:
    """The answer to one :class:`BatchRequest`: status, headers, body, or the typed error."""

    request: BatchRequest
    status: int | None
    headers: dict[str, str]
    body: bytes
    error: DataverseError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def entity_id(self) -> str | None:
        """The GUID from ``OData-EntityId`` of a create/upsert answer."""
        location = self.headers.get("odata-entityid") or self.headers.get("location")
        match = re.search(r"\(([0-9a-fA-F-]{36})\)\s*$", location or "")
        return match.group(1).lower() if match else None


@dataclass
class _HttpPart:
    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None


def _request_line_target(request: BatchRequest, api_path: str) -> str:
    if request.path.startswith("$") or "://" in request.path:
        return request.path
    return f"{api_path.rstrip('/')}/{request.path.lstrip('/')}"


def _encode_part(request: BatchRequest, api_path: str, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{request.method.upper()} {_request_line_target(request, api_path)} HTTP/1.1"]
    headers = {"Accept": "application/json", **dict(request.headers)}
    if request.is_read:
        headers.setdefault("Prefer", 'odata.include-annotations="*"')
    body = ""
    if request.body is not None:
        headers["Content-Type"] = "application/json; type=entry"
        body = json.dumps(request.body, separators=(",", ":"))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["", body]
    return CRLF.join(lines)


def _encode_changeset(changeset: ChangeSet, api_path: str) -> str:
    boundary = f"changeset_{uuid.uuid4()}"
    inner = [
        f"--{boundary}{CRLF}" + _encode_part(r, api_path, r.content_id or str(i))
        for i, r in enumerate(changeset.requests, start=1)
    ]
    return (f"Content-Type: multipart/mixed; boundary={boundary}{CRLF}{CRLF}"
            + CRLF.join(inner) + f"{CRLF}--{boundary}--")


def _encode_item(item: BatchItem, api_path: str) -> str:
    if isinstance(item, ChangeSet):
        return _encode_changeset(item, api_path)
    return _encode_part(item, api_path, None)


def request_count(items: Sequence[BatchItem]) -> int:
    """How many requests ``items`` hold (change sets count each of theirs: the 1,000 limit does)."""
    return sum(len(i.requests) if isinstance(i, ChangeSet) else 1 for i in items)


def encode_items(
    items: Sequence[BatchItem], *, api_path: str, boundary: str | None = None
) -> tuple[str, bytes]:
    """``(content_type, body)`` of one ``$batch`` POST holding independent requests and change sets."""
    if not items:
        raise ValueError("a batch needs at least one request")
    if request_count(items) > MAX_BATCH_PARTS:
        raise ValueError(f"a batch holds at most {MAX_BATCH_PARTS} requests")
    batch = boundary or f"batch_{uuid.uuid4()}"
    chunks = [f"--{batch}{CRLF}" + _encode_item(item, api_path) for item in items]
    body = CRLF.join(chunks) + f"{CRLF}--{batch}--{CRLF}"
    return f"multipart/mixed; boundary={batch}", body.encode("utf-8")


def encode_batch(
    requests: Sequence[BatchRequest], *, api_path: str, atomic: bool = False, boundary: str | None = None
) -> tuple[str, bytes]:
    """``(content_type, body)`` for one ``$batch`` POST. ``atomic`` puts every part in one change set."""
    if not requests:
        raise ValueError("a batch needs at least one request")
    items: list[BatchItem] = [ChangeSet(list(requests))] if atomic else list(requests)
    return encode_items(items, api_path=api_path, boundary=boundary)


def _boundary_of(content_type: str) -> str | None:
    match = _BOUNDARY.search(content_type or "")
    return match.group(1).strip() if match else None


def _split_head(block: bytes) -> tuple[list[str], bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = block.partition(separator)
        if found:
            return head.decode("utf-8", errors="replace").splitlines(), rest
    return block.decode("utf-8", errors="replace").splitlines(), b""


def _headers(lines: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            result[name.strip().lower()] = value.strip()
    return result


def _split_multipart(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        raise BatchError("the $batch answer has no part with the announced boundary")
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        parts.append(piece.removeprefix(b"\r\n").removeprefix(b"\n").removesuffix(b"\n").removesuffix(b"\r"))
    return parts


def _decode_http(block: bytes, content_id: str | None) -> _HttpPart:
    """One embedded HTTP response: status line, headers, blank line, body."""
    lines, body = _split_head(block)
    match = _STATUS_LINE.match(lines[0]) if lines else None
    if match is None:
        raise BatchError("a $batch answer part has no HTTP status line")
    return _HttpPart(int(match.group(1)), _headers(lines[1:]), body.strip(), content_id)


def decode_batch(content_type: str, body: bytes) -> list[_HttpPart | list[_HttpPart]]:
    """The answer parts in order; a change set's answers come back as a nested list."""
    boundary = _boundary_of(content_type)
    if boundary is None:
        raise BatchError(f"the $batch answer is not multipart (Content-Type {content_type!r})")
    items: list[_HttpPart | list[_HttpPart]] = []
    for part in _split_multipart(body, boundary):
        mime_lines, payload = _split_head(part)
        mime = _headers(mime_lines)
        nested = (
            _boundary_of(mime.get("content-type", ""))
            if "multipart" in mime.get("content-type", "")
            else None
        )
        if nested:
            items.append([_part_of(p) for p in _split_multipart(payload, nested)])
        else:
            items.append(_decode_http(payload, mime.get("content-id")))
    return items


def _part_of(block: bytes) -> _HttpPart:
    mime_lines, payload = _split_head(block)
    return _decode_http(payload, _headers(mime_lines).get("content-id"))


def _result(request: BatchRequest, part: _HttpPart) -> BatchResult:
    error = None
    if part.status >= 400:
        error = error_from_response(
            part.status, part.headers, part.body, what=f"{request.method} {request.path}"
        )
    return BatchResult(request, part.status, part.headers, part.body, error)


def assemble_results(
    requests: Sequence[BatchRequest], items: Sequence[_HttpPart | list[_HttpPart]], *, atomic: bool
) -> list[BatchResult]:
    """Pair each request with its answer, in request order; parts never run get NotExecuted."""
    if atomic:
        return _assemble_changeset(requests, items[0] if items else [])
    return assemble_items(requests, items)


def assemble_items(
    items: Sequence[BatchItem], answers: Sequence[_HttpPart | list[_HttpPart]]
) -> list[BatchResult]:
    """One result per request of ``items`` (change sets flattened in order). A change set that
    failed answers with its one failing request (OData 4.0 §11.7.4): that request gets the error,
    the others `RolledBack`. Items after the answers end (the service stopped) get `NotExecuted`."""
    results: list[BatchResult] = []
    for index, item in enumerate(items):
        answer = answers[index] if index < len(answers) else None
        if isinstance(item, ChangeSet):
            results += ([not_run(r) for r in item.requests] if answer is None
                        else _assemble_changeset(item.requests, answer))
        elif answer is None:
            results.append(not_run(item))
        elif isinstance(answer, list):
            raise BatchError("the $batch answer has a change set where a single answer was expected")
        else:
            results.append(_result(item, answer))
    return results


def not_run(request: BatchRequest) -> BatchResult:
    """The result of a request the service never ran (an earlier one stopped the batch)."""
    return BatchResult(request, None, {}, b"", NotExecuted(
        f"{request.method} {request.path} was not run: an earlier request in the batch failed"))


def _assemble_changeset(
    requests: Sequence[BatchRequest], item: _HttpPart | list[_HttpPart]
) -> list[BatchResult]:
    parts = item if isinstance(item, list) else [item]
    if len(parts) == len(requests) and all(p.status < 400 for p in parts):
        return [_result(r, p) for r, p in zip(requests, parts, strict=True)]
    failed = next((p for p in parts if p.status >= 400), None)
    if failed is None:
        raise BatchError(f"the change set answer has {len(parts)} parts for {len(requests)} requests")
    ids = [r.content_id or str(i) for i, r in enumerate(requests, start=1)]
    culprit = ids.index(failed.content_id) if failed.content_id in ids else None
    culprit_name = f"part {failed.content_id}" if culprit is not None else "another part"
    results = []
    for index, request in enumerate(requests):
        if index == culprit:
            results.append(_result(request, failed))
            continue
        error = error_from_response(failed.status, failed.headers, failed.body, what="change set")
        rolled = RolledBack(
            f"{request.method} {request.path} was rolled back because {culprit_name} of the change set "
            f"failed: {error.message}",
            status=failed.status,
            code=error.code,
            detail=error.detail,
        )
        results.append(BatchResult(request, None, {}, b"", rolled))
    return results


class AdaptiveChunkSize:
    """How many parts to send per ``$batch``: starts at 15, moves within 5..25 by measured latency.

    A batch answered faster than half ``target_s`` grows the size by 5; one slower than ``target_s``
    (or throttled) shrinks it by a third. The MSX helper's figures (reference/000 §Batch Requests).
    """

    def __init__(self, start: int = 15, low: int = 5, high: int = 25, target_s: float = 2.0) -> None:
        if not low <= start <= high:
            raise ValueError("start must lie between low and high")
        self.size, self.low, self.high, self.target_s = start, low, high, target_s

    def record(self, elapsed_s: float, *, throttled: bool = False) -> None:
        if throttled or elapsed_s > self.target_s:
            self.size = max(self.low, self.size - max(1, self.size // 3))
        elif elapsed_s < self.target_s / 2:
            self.size = min(self.high, self.size + 5)
