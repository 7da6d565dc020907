"""$batch multipart parsing and response formatting, without a server.

Follows powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md
(request/response layout, changesets, Content-ID, CRLF framing).
"""

from __future__ import annotations

import pytest

from callnotes.emulator.batch import (
    BatchFormatError,
    ChangeSet,
    ChangeSetResult,
    OperationResult,
    boundary_of,
    count_operations,
    format_batch_response,
    parse_batch,
)
from callnotes.emulator.messages import ApiResponse

CT = 'multipart/mixed; boundary="batch_AAA"'


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


DOC_LIKE = crlf(
    """--batch_AAA
Content-Type: multipart/mixed; boundary=changeset_BBB

--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST /api/data/v9.2/tasks HTTP/1.1
Content-Type: application/json; type=entry

{"subject": "Task 1"}
--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH $1 HTTP/1.1
Content-Type: application/json

{"subject": "renamed"}
--changeset_BBB--

--batch_AAA
Content-Type: application/http
Content-Transfer-Encoding: binary

GET /api/data/v9.2/accounts?$select=name&$top=2 HTTP/1.1


--batch_AAA--
"""
)


def test_parses_changeset_and_get_part_like_the_documented_example() -> None:
    items = parse_batch(CT, DOC_LIKE)
    assert len(items) == 2
    changeset, get = items
    assert isinstance(changeset, ChangeSet)
    first, second = changeset.operations
    assert (first.method, first.url, first.content_id) == ("POST", "/api/data/v9.2/tasks", "1")
    assert first.headers["content-type"] == "application/json; type=entry"
    assert first.body == b'{"subject": "Task 1"}'
    assert (second.method, second.url, second.content_id) == ("PATCH", "$1", "2")
    assert not isinstance(get, ChangeSet)
    assert (get.method, get.url, get.body) == ("GET", "/api/data/v9.2/accounts?$select=name&$top=2", b"")
    assert count_operations(items) == 3


def test_boundary_quoted_or_bare() -> None:
    assert boundary_of('multipart/mixed; boundary="batch_x"') == "batch_x"
    assert boundary_of("multipart/mixed;boundary=batch_AAA123") == "batch_AAA123"


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "multipart/mixed", "multipart/mixed; charset=utf-8"],
)
def test_content_type_without_multipart_boundary_is_refused(content_type: str | None) -> None:
    with pytest.raises(BatchFormatError, match="Content-Type"):
        parse_batch(content_type, DOC_LIKE)


def test_lf_only_line_endings_are_refused_with_a_clear_message() -> None:
    with pytest.raises(BatchFormatError, match="CRLF"):
        parse_batch(CT, DOC_LIKE.replace(b"\r\n", b"\n"))


def test_lf_inside_part_headers_is_refused() -> None:
    body = crlf("--batch_AAA\nContent-Type: application/http\n\nGET accounts HTTP/1.1\n\n--batch_AAA--\n")
    body = body.replace(b"Content-Type: application/http\r\n", b"Content-Type: application/http\n", 1)
    with pytest.raises(BatchFormatError, match=r"CRLF|blank line"):
        parse_batch(CT, body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            crlf("--batch_AAA\nContent-Type: application/http\n\nGET accounts HTTP/1.1\n\n"),
            "closing delimiter",
        ),
        (crlf("hello\n"), "boundary delimiter"),
        (crlf("--batch_AAA--\n"), "no parts"),
        (crlf("--batch_AAA\nContent-Type: text/plain\n\nhi\n--batch_AAA--\n"), "application/http"),
        (
            crlf("--batch_AAA\nContent-Type: application/http\n\nFETCH accounts HTTP/1.1\n\n--batch_AAA--\n"),
            "method",
        ),
        (
            crlf("--batch_AAA\nContent-Type: application/http\n\nGET accounts\n\n--batch_AAA--\n"),
            "request line",
        ),
        (crlf("--batch_AAA\nbroken header line\n\nGET a HTTP/1.1\n\n--batch_AAA--\n"), "Malformed header"),
    ],
)
def test_malformed_bodies_are_refused_with_a_clear_message(body: bytes, message: str) -> None:
    with pytest.raises(BatchFormatError, match=message):
        parse_batch(CT, body)


def test_request_line_url_runs_from_the_first_to_the_last_space() -> None:
    # Microsoft's OData batch reader takes the method up to the first space and the version after the
    # last: a part URL with unencoded spaces in its query (as SDKs send filters) is one URL.
    body = crlf(
        "--batch_AAA\nContent-Type: application/http\n\n"
        "GET /api/data/v9.2/accounts?$select=name&$filter=statecode eq 0 and name ne 'A B' HTTP/1.1\n\n"
        "--batch_AAA--\n"
    )
    (operation,) = parse_batch(CT, body)
    assert operation.method == "GET"  # type: ignore[union-attr]
    assert operation.url == "/api/data/v9.2/accounts?$select=name&$filter=statecode eq 0 and name ne 'A B'"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "line", ["GET  HTTP/1.1", "GET accounts HTTP/1.1x HTTQ", " accounts HTTP/1.1", "GET accounts?$top=1 HTTP"]
)
def test_request_lines_without_method_url_or_version_are_refused(line: str) -> None:
    body = crlf(f"--batch_AAA\nContent-Type: application/http\n\n{line}\n\n--batch_AAA--\n")
    with pytest.raises(BatchFormatError, match=r"request line|method"):
        parse_batch(CT, body)


def test_get_inside_a_changeset_is_refused() -> None:
    # "GET request are not allowed within change sets" (execute-batch-operations-using-web-api.md).
    body = crlf(
        """--batch_AAA
Content-Type: multipart/mixed; boundary=changeset_C

--changeset_C
Content-Type: application/http

GET accounts HTTP/1.1

--changeset_C--
--batch_AAA--
"""
    )
    with pytest.raises(BatchFormatError, match="not allowed in a changeset"):
        parse_batch(CT, body)


def _created(entity: str) -> ApiResponse:
    url = f"http://127.0.0.1:1/api/data/v9.2/{entity}"
    return ApiResponse(204, {"OData-EntityId": url, "Location": url})


def test_response_uses_batchresponse_and_changesetresponse_boundaries_with_crlf() -> None:
    results = [
        ChangeSetResult(
            results=[
                OperationResult(_created("tasks(1)"), "1"),
                OperationResult(_created("tasks(2)"), "2"),
            ]
        ),
        OperationResult(ApiResponse(200, {"Content-Type": "application/json"}, b'{"value": []}')),
    ]
    content_type, body = format_batch_response(results, "batchresponse_X")
    assert content_type == "multipart/mixed; boundary=batchresponse_X"
    text = body.decode()
    assert text.startswith("--batchresponse_X\r\nContent-Type: multipart/mixed; boundary=changesetresponse_")
    assert text.endswith("--batchresponse_X--\r\n")
    assert "\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n" in text
    assert "OData-EntityId: http://127.0.0.1:1/api/data/v9.2/tasks(2)\r\n" in text
    assert "HTTP/1.1 200 OK\r\n" in text and text.count('{"value": []}') == 1
    # no bare LF anywhere in the framing
    assert "\n" not in text.replace("\r\n", "")


def test_response_round_trips_through_the_parser_shape() -> None:
    """A formatted response splits back into its parts with the same framing rules."""
    results = [OperationResult(ApiResponse(404, {}, b'{"error":{"code":"0x80040217","message":"x"}}'))]
    content_type, body = format_batch_response(results)
    boundary = boundary_of(content_type)
    assert boundary.startswith("batchresponse_")
    assert body.count(f"--{boundary}".encode()) == 2
    assert b"HTTP/1.1 404 Not Found\r\n" in body
    assert b"Content-Type: application/json; odata.metadata=minimal\r\n" in body


def test_failed_changeset_is_answered_with_the_single_failing_response() -> None:
    failure = OperationResult(ApiResponse(400, {}, b'{"error":{"code":"0x1","message":"bad"}}'), "2")
    _, body = format_batch_response([ChangeSetResult(failure=failure)], "batchresponse_Y")
    assert b"changesetresponse_" not in body
    assert b"Content-ID: 2\r\n\r\nHTTP/1.1 400 Bad Request\r\n" in body
