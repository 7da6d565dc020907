"""$batch multipart encoding/decoding and result assembly, without a server.

Format: powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md.
"""

from __future__ import annotations

import json

import pytest

from callnotes.dataverse import BatchRequest, NotExecuted, NotFound, RolledBack
from callnotes.dataverse.batch import (
    AdaptiveChunkSize,
    assemble_results,
    decode_batch,
    encode_batch,
)
from callnotes.dataverse.errors import BatchError

CRLF = "\r\n"


def _http(status: str, headers: list[str], body: str = "", content_id: str | None = None) -> str:
    mime = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        mime.append(f"Content-ID: {content_id}")
    return CRLF.join([*mime, "", f"HTTP/1.1 {status}", *headers, "", body])


def test_encode_plain_parts_uses_crlf_and_boundaries() -> None:
    reqs = [
        BatchRequest("GET", "accounts?$select=name"),
        BatchRequest("POST", "tasks", {"subject": "a"}),
    ]
    content_type, body = encode_batch(reqs, api_path="/api/data/v9.2", boundary="batch_x")
    text = body.decode()
    assert content_type == "multipart/mixed; boundary=batch_x"
    assert "\n" not in text.replace(CRLF, "")  # every line break is CRLF
    assert text.count("--batch_x\r\n") == 2 and text.endswith("--batch_x--\r\n")
    assert "GET /api/data/v9.2/accounts?$select=name HTTP/1.1" in text
    assert "POST /api/data/v9.2/tasks HTTP/1.1\r\nAccept: application/json\r\n" in text
    assert 'Content-Type: application/json; type=entry\r\n\r\n{"subject":"a"}' in text


def test_encode_changeset_numbers_content_ids_and_refuses_get() -> None:
    reqs = [BatchRequest("POST", "accounts", {"name": "x"}), BatchRequest("PATCH", "$1", {"name": "y"})]
    _, body = encode_batch(reqs, api_path="/api/data/v9.2", atomic=True, boundary="batch_y")
    text = body.decode()
    assert "Content-Type: multipart/mixed; boundary=changeset_" in text
    assert "Content-ID: 1\r\n" in text and "Content-ID: 2\r\n" in text
    assert "PATCH $1 HTTP/1.1" in text
    with pytest.raises(ValueError):
        encode_batch([BatchRequest("GET", "accounts")], api_path="/x", atomic=True)


def test_limits_and_bad_requests_refused() -> None:
    with pytest.raises(ValueError):
        encode_batch([BatchRequest("GET", "a")] * 1001, api_path="/x")
    with pytest.raises(ValueError):
        encode_batch([], api_path="/x")
    with pytest.raises(ValueError):
        BatchRequest("GET", "accounts HTTP/1.1\r\nX: y")
    with pytest.raises(ValueError):
        BatchRequest("TRACE", "accounts")


def test_decode_plain_and_changeset_answers() -> None:
    cs = "changesetresponse_1"
    body = CRLF.join(
        [
            "--batchresponse_a",
            _http("200 OK", ["Content-Type: application/json"], json.dumps({"value": [{"name": "A"}]})),
            "--batchresponse_a",
            f"Content-Type: multipart/mixed; boundary={cs}",
            "",
            f"--{cs}",
            _http(
                "204 No Content",
                ["OData-EntityId: http://h/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)"],
                content_id="1",
            ),
            f"--{cs}",
            _http("204 No Content", [], content_id="2"),
            f"--{cs}--",
            "--batchresponse_a--",
            "",
        ]
    ).encode()
    items = decode_batch("multipart/mixed; boundary=batchresponse_a", body)
    assert len(items) == 2
    first, changeset = items
    assert not isinstance(first, list) and first.status == 200
    assert json.loads(first.body) == {"value": [{"name": "A"}]}
    assert isinstance(changeset, list) and [p.content_id for p in changeset] == ["1", "2"]
    reqs = [BatchRequest("POST", "accounts", {"name": "x"}), BatchRequest("PATCH", "$1", {"a": 1})]
    results = assemble_results(reqs, [changeset], atomic=True)
    assert results[0].entity_id == "00000000-0000-0000-0000-000000000001"
    assert all(r.ok for r in results)


def test_failed_changeset_is_reported_per_part() -> None:
    error = json.dumps({"error": {"code": "0x80040217", "message": "account Does Not Exist"}})
    body = CRLF.join(
        [
            "--b",
            _http("404 Not Found", ["Content-Type: application/json"], error, content_id="2"),
            "--b--",
            "",
        ]
    ).encode()
    items = decode_batch('multipart/mixed; boundary="b"', body)
    reqs = [
        BatchRequest("POST", "tasks", {"s": 1}),
        BatchRequest("PATCH", "accounts(x)", {"a": 1}),
        BatchRequest("POST", "tasks", {"s": 2}),
    ]
    results = assemble_results(reqs, items, atomic=True)
    assert isinstance(results[1].error, NotFound)
    assert isinstance(results[0].error, RolledBack) and isinstance(results[2].error, RolledBack)
    assert "part 2" in results[0].error.message and "Does Not Exist" in results[0].error.message


def test_parts_never_run_are_marked_not_executed() -> None:
    error = json.dumps({"error": {"code": "0x80044331", "message": "validation failed"}})
    body = CRLF.join(["--b", _http("400 Bad Request", [], error), "--b--"]).encode()
    reqs = [BatchRequest("POST", "tasks", {"s": 1}), BatchRequest("POST", "tasks", {"s": 2})]
    results = assemble_results(reqs, decode_batch("multipart/mixed; boundary=b", body), atomic=False)
    assert results[0].error is not None and results[0].status == 400
    assert isinstance(results[1].error, NotExecuted)


def test_decoding_garbage_raises_batch_error() -> None:
    with pytest.raises(BatchError):
        decode_batch("application/json", b"{}")
    with pytest.raises(BatchError):
        decode_batch("multipart/mixed; boundary=zzz", b"<html>proxy error</html>")
    with pytest.raises(BatchError):
        decode_batch(
            "multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\nnonsense\r\n--b--"
        )


def test_adaptive_chunk_size_moves_with_latency_within_bounds() -> None:
    size = AdaptiveChunkSize()
    assert size.size == 15
    for _ in range(10):
        size.record(0.05)
    assert size.size == 25
    for _ in range(10):
        size.record(10.0)
    assert size.size == 5
    size.record(1.5)  # between half the target and the target: unchanged
    assert size.size == 5
    size.record(0.1, throttled=True)
    assert size.size == 5
    with pytest.raises(ValueError):
        AdaptiveChunkSize(start=30)
