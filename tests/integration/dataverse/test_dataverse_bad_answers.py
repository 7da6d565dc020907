"""A CRM (or a proxy in front of it) answering badly: non-JSON, an HTML page, missing fields, a
next link that loops, a $batch answer that is not multipart. Each becomes a clear typed error.

The emulator always answers in the documented shape, so these answers come from a small real HTTP
server on loopback that misbehaves on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from callnotes.dataverse import (
    BadResponse,
    BatchRequest,
    DataverseClient,
    PagingError,
    ServerError,
    StaticToken,
    TransportError,
)
from tests.integration.dataverse.dv_helpers import FakeClock, fast_policy, serve

API = "/api/data/v9.2"


async def _route(request: Request) -> Response:
    name = request.path_params["name"].rsplit("/", 1)[-1]  # a navigation path answers like its tail
    if name == "slow":
        await asyncio.sleep(3)
    base = str(request.base_url).rstrip("/") + API
    answers: dict[str, Response] = {
        "html": HTMLResponse("<html><body>Sign in to continue</body></html>"),
        "notjson": Response("value=1", media_type="application/json"),
        "empty": Response(b"", media_type="application/json"),
        "novalue": JSONResponse({"items": []}),
        "badrows": JSONResponse({"value": [1, 2]}),
        "loop": JSONResponse({"value": [{"id": 1}], "@odata.nextLink": f"{base}/loop"}),
        "repeat": JSONResponse(
            {"value": [{"id": 1}], "@odata.nextLink": f"{base}/repeat?n={len(str(request.url))}"}
        ),
        "gateway": HTMLResponse("<html><h1>502 Bad Gateway</h1></html>", status_code=502),
        "$batch": JSONResponse({"ok": True}),
        "WhoAmI": JSONResponse({"BusinessUnitId": "x"}),
        "slow": JSONResponse({"value": []}),
    }
    return answers[name]


@pytest.fixture(scope="module")
def bad_crm() -> Iterator[DataverseClient]:
    app = Starlette(routes=[Route(API + "/{name:path}", _route, methods=["GET", "POST"])])
    with serve(app) as url:
        client = DataverseClient(url + API, StaticToken("t"), retry=fast_policy(FakeClock(), max_attempts=2))
        yield client
        client.close()


def test_html_page_instead_of_json(bad_crm: DataverseClient) -> None:
    with pytest.raises(BadResponse, match="HTML page instead of JSON"):
        bad_crm.get("html")


def test_body_that_is_not_json_or_empty(bad_crm: DataverseClient) -> None:
    with pytest.raises(BadResponse, match="not JSON"):
        bad_crm.get("notjson")
    with pytest.raises(BadResponse, match="empty answer"):
        bad_crm.get("empty")


def test_list_answer_missing_value_or_with_non_records(bad_crm: DataverseClient) -> None:
    with pytest.raises(BadResponse, match="'value' list"):
        bad_crm.list_rows("novalue")
    with pytest.raises(BadResponse, match="'value' list"):
        bad_crm.list_rows("badrows")


def test_next_link_that_loops_is_an_error_not_an_endless_loop(bad_crm: DataverseClient) -> None:
    with pytest.raises(PagingError):
        bad_crm.list_rows("loop")
    with pytest.raises(PagingError, match="same page twice"):
        bad_crm.list_rows("repeat")
    user = "systemusers(00000000-0000-0000-0000-000000000001)"
    with pytest.raises(PagingError):
        bad_crm.list_rows(f"{user}/loop")
    with pytest.raises(PagingError, match="same page twice"):
        bad_crm.list_rows(f"{user}/repeat")


def test_html_error_page_is_a_server_error_with_its_text(bad_crm: DataverseClient) -> None:
    with pytest.raises(ServerError, match="502 Bad Gateway"):
        bad_crm.get("gateway")


def test_batch_answer_that_is_not_multipart(bad_crm: DataverseClient) -> None:
    with pytest.raises(BadResponse, match="unexpected answer"):
        bad_crm.batch([BatchRequest("GET", "accounts")])


def test_whoami_missing_user_id(bad_crm: DataverseClient) -> None:
    with pytest.raises(BadResponse, match="UserId"):
        bad_crm.whoami()


def test_an_answer_that_never_comes_times_out_and_is_retried(bad_crm: DataverseClient) -> None:
    url = bad_crm.api_url
    clock = FakeClock()
    with DataverseClient(
        url, StaticToken("t"), timeout=0.5, retry=fast_policy(clock, max_attempts=2)
    ) as client:
        with pytest.raises(TransportError, match="ReadTimeout"):
            client.get("slow")
    assert len(clock.sleeps) == 1  # one retry, then the typed error
