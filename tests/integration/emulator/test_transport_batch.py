"""``$batch`` over real HTTP.

Every test follows powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md:
multipart/mixed with CRLF, GET parts, changesets that succeed or fail as a unit, Content-ID and
``$n`` references (in the URL and in the body), ``Prefer: odata.continue-on-error`` ("Handling
errors"), at most 1000 requests, and ``batchresponse_…`` / ``changesetresponse_…`` responses.
"""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest

from callnotes.emulator import EmulatorServer

PREFIX = "/api/data/v9.2/"


def request_part(
    method: str, url: str, body: dict | None = None, content_id: str | None = None, prefer: str | None = None
) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines.append("Content-Type: application/json; type=entry")
    if prefer:
        lines.append(f"Prefer: {prefer}")
    lines += ["", json.dumps(body) if body is not None else ""]
    return "\r\n".join(lines)


def changeset(boundary: str, parts: list[str]) -> str:
    inner = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--"
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}"


def batch_body(boundary: str, items: list[str]) -> bytes:
    return ("".join(f"--{boundary}\r\n{item}\r\n" for item in items) + f"--{boundary}--\r\n").encode()


def post_batch(emu: EmulatorServer, items: list[str], *, prefer: str | None = None) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {emu.mint_token()}",
        "Content-Type": "multipart/mixed; boundary=batch_test",
        "OData-Version": "4.0",
        "Accept": "application/json",
    }
    if prefer:
        headers["Prefer"] = prefer
    return httpx.post(f"{emu.api_url}/$batch", content=batch_body("batch_test", items), headers=headers)


def post_changeset(emu: EmulatorServer, parts: list[str]) -> httpx.Response:
    """A ``$batch`` whose only item is one changeset of ``parts``."""
    return post_batch(emu, [changeset("changeset_t", parts)])


def statuses(response: httpx.Response) -> list[int]:
    return [int(code) for code in re.findall(r"\r\nHTTP/1\.1 (\d{3}) ", response.text)]


def response_bodies(response: httpx.Response) -> list[dict]:
    return [json.loads(m) for m in re.findall(r"\r\n\r\n(\{.*?\})\r\n--batchresponse_", response.text, re.S)]


def get_json(emu: EmulatorServer, path: str) -> httpx.Response:
    return httpx.get(f"{emu.api_url}/{path}", headers={"Authorization": f"Bearer {emu.mint_token()}"})


def new_id() -> str:
    return str(uuid.uuid4())


def test_get_parts_answer_like_single_requests(emulator: EmulatorServer) -> None:
    response = post_batch(
        emulator,
        [
            request_part("GET", f"{PREFIX}accounts?$select=name&$top=2"),
            request_part("GET", f"{emulator.api_url}/WhoAmI"),  # absolute URL
            request_part("GET", "territories?$select=name&$top=1"),  # relative URL
        ],
    )
    assert response.status_code == 200
    boundary = response.headers["Content-Type"].split("boundary=")[1]
    assert boundary.startswith("batchresponse_") and response.text.endswith(f"--{boundary}--\r\n")
    assert statuses(response) == [200, 200, 200]
    accounts, who, territories = response_bodies(response)
    single = get_json(emulator, "accounts?$select=name&$top=2").json()
    assert accounts["value"] == single["value"]
    assert who["UserId"] == emulator.demo_user_id and len(territories["value"]) == 1


def test_changeset_creates_all_with_changesetresponse(fresh_emulator: EmulatorServer) -> None:
    ids = [new_id(), new_id()]
    response = post_changeset(
        fresh_emulator,
        [
            request_part("POST", f"{PREFIX}tasks", {"activityid": ids[0], "subject": "one"}, "1"),
            request_part("POST", f"{PREFIX}tasks", {"activityid": ids[1], "subject": "two"}, "2"),
        ],
    )
    assert response.status_code == 200
    assert "boundary=changesetresponse_" in response.text
    assert statuses(response) == [204, 204]
    assert "Content-ID: 1\r\n" in response.text and "Content-ID: 2\r\n" in response.text
    assert f"OData-EntityId: {fresh_emulator.api_url}/tasks({ids[1]})" in response.text
    assert all(get_json(fresh_emulator, f"tasks({i})").status_code == 200 for i in ids)


def test_failing_part_rolls_back_its_changeset(fresh_emulator: EmulatorServer) -> None:
    first = new_id()
    response = post_changeset(
        fresh_emulator,
        [
            request_part("POST", f"{PREFIX}tasks", {"activityid": first, "subject": "kept?"}, "1"),
            request_part("POST", f"{PREFIX}tasks", {"subject": "bad", "nosuchcolumn": 1}, "2"),
        ],
    )
    assert response.status_code == 400
    assert statuses(response) == [400]  # the changeset answers with the failing request only
    assert "changesetresponse_" not in response.text
    assert get_json(fresh_emulator, f"tasks({first})").status_code == 404  # the first part was rolled back


def test_without_continue_on_error_processing_stops_at_the_first_failure(
    fresh_emulator: EmulatorServer,
) -> None:
    later = new_id()
    response = post_batch(
        fresh_emulator,
        [
            request_part("GET", "WhoAmI"),
            request_part("GET", "nosuchentities"),
            request_part("POST", "tasks", {"activityid": later, "subject": "never"}),
        ],
    )
    assert response.status_code == 404
    assert statuses(response) == [200, 404]
    assert "Preference-Applied" not in response.headers
    assert get_json(fresh_emulator, f"tasks({later})").status_code == 404


def test_continue_on_error_runs_every_part(fresh_emulator: EmulatorServer) -> None:
    later = new_id()
    response = post_batch(
        fresh_emulator,
        [
            request_part("POST", "tasks", {"subject": "bad", "nosuchcolumn": 1}),
            request_part("POST", "tasks", {"activityid": later, "subject": "made"}),
            request_part("GET", f"tasks({later})?$select=subject"),
        ],
        prefer="odata.continue-on-error",
    )
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "odata.continue-on-error"
    assert statuses(response) == [400, 204, 200]
    assert response_bodies(response)[-1]["subject"] == "made"


def test_content_id_reference_in_url(fresh_emulator: EmulatorServer) -> None:
    task = new_id()
    response = post_changeset(
        fresh_emulator,
        [
            request_part("POST", f"{PREFIX}tasks", {"activityid": task, "subject": "draft"}, "1"),
            request_part("PATCH", "$1", {"subject": "final"}, "2"),
        ],
    )
    assert response.status_code == 200 and statuses(response) == [204, 204]
    assert get_json(fresh_emulator, f"tasks({task})?$select=subject").json()["subject"] == "final"


def test_content_id_reference_in_body_bind(fresh_emulator: EmulatorServer) -> None:
    account, task = new_id(), new_id()
    response = post_changeset(
        fresh_emulator,
        [
            request_part("POST", f"{PREFIX}accounts", {"accountid": account, "name": "Batch Co"}, "1"),
            request_part(
                "POST",
                f"{PREFIX}tasks",
                {
                    "activityid": task,
                    "subject": "linked",
                    "regardingobjectid_account_task@odata.bind": "$1",
                },
                "2",
            ),
        ],
    )
    assert response.status_code == 200, response.text
    stored = get_json(fresh_emulator, f"tasks({task})?$select=_regardingobjectid_value").json()
    assert stored["_regardingobjectid_value"] == account


def test_reference_to_undeclared_content_id_is_400(fresh_emulator: EmulatorServer) -> None:
    response = post_batch(
        fresh_emulator,
        [changeset("changeset_e", [request_part("PATCH", "$7", {"subject": "x"}, "1")])],
    )
    assert response.status_code == 400
    assert "Content-ID Reference: '$7' does not exist in the batch context." in response.text


def test_more_than_1000_parts_is_refused_without_running_any(fresh_emulator: EmulatorServer) -> None:
    first = new_id()
    parts = [request_part("POST", "tasks", {"activityid": first, "subject": "0"})]
    parts += [request_part("GET", "WhoAmI") for _ in range(1000)]
    fresh_emulator.reset_stats()
    response = post_batch(fresh_emulator, parts)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "1001" in error["message"] and "1000" in error["message"]
    assert get_json(fresh_emulator, f"tasks({first})").status_code == 404


def test_exactly_1000_parts_is_accepted(emulator: EmulatorServer) -> None:
    response = post_batch(emulator, [request_part("GET", "WhoAmI") for _ in range(1000)])
    assert response.status_code == 200 and statuses(response) == [200] * 1000


def test_lf_only_line_endings_are_refused(fresh_emulator: EmulatorServer) -> None:
    body = batch_body("batch_test", [request_part("GET", "WhoAmI")]).replace(b"\r\n", b"\n")
    response = httpx.post(
        f"{fresh_emulator.api_url}/$batch",
        content=body,
        headers={
            "Authorization": f"Bearer {fresh_emulator.mint_token()}",
            "Content-Type": "multipart/mixed; boundary=batch_test",
        },
    )
    assert response.status_code == 400
    assert "CRLF" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b"{}", "multipart/mixed"),
        ("multipart/mixed", b"--x\r\n", "boundary"),
        (
            "multipart/mixed; boundary=batch_test",
            b"--batch_test\r\nContent-Type: application/http\r\n\r\n",
            "closing",
        ),
        ("multipart/mixed; boundary=batch_test", b"no delimiter here", "boundary delimiter"),
        (
            "multipart/mixed; boundary=batch_test",
            b"--batch_test\r\nContent-Type: application/http\r\n\r\nGET WhoAmI\r\n\r\n--batch_test--\r\n",
            "request line",
        ),
    ],
)
def test_malformed_multipart_is_a_clear_400(
    emulator: EmulatorServer, content_type: str, body: bytes, expected: str
) -> None:
    response = httpx.post(
        f"{emulator.api_url}/$batch",
        content=body,
        headers={"Authorization": f"Bearer {emulator.mint_token()}", "Content-Type": content_type},
    )
    assert response.status_code == 400
    assert expected in response.json()["error"]["message"]


def test_batch_needs_a_token_like_any_request(emulator: EmulatorServer) -> None:
    response = httpx.post(
        f"{emulator.api_url}/$batch",
        content=batch_body("batch_test", [request_part("GET", "WhoAmI")]),
        headers={"Content-Type": "multipart/mixed; boundary=batch_test"},
    )
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


# The batch's own Prefer header (src/callnotes/emulator/batch_preferences.py): Dataverse documents
# odata.continue-on-error on the batch (execute-batch-operations-using-web-api.md, "Handling
# errors"); OData Version 4.01 Part 1 §8.2.8: include-annotations is inherited by parts that
# state none (8.2.8.4), maxpagesize applies to parts only (8.2.8.5), return is refused on the
# batch itself (8.2.8.7).
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP = "@Microsoft.Dynamics.CRM.lookuplogicalname"
MILESTONE_QUERY = "msp_engagementmilestones?$select=msp_milestonestatus,_msp_opportunityid_value&$top=1"


def test_parts_inherit_the_batch_include_annotations_unless_they_state_their_own(
    emulator: EmulatorServer,
) -> None:
    response = post_batch(
        emulator,
        [
            request_part("GET", MILESTONE_QUERY),
            request_part("GET", MILESTONE_QUERY, prefer=f'odata.include-annotations="{LOOKUP[1:]}"'),
        ],
        prefer='odata.include-annotations="*"',
    )
    assert response.status_code == 200 and statuses(response) == [200, 200]
    inherited, own = (body["value"][0] for body in response_bodies(response))
    assert f"msp_milestonestatus{FORMATTED}" in inherited and f"_msp_opportunityid_value{LOOKUP}" in inherited
    assert f"msp_milestonestatus{FORMATTED}" not in own and f"_msp_opportunityid_value{LOOKUP}" in own
    assert 'Preference-Applied: odata.include-annotations="*"' in response.text  # reported per part
    assert "Preference-Applied" not in response.headers  # nothing applied to the batch as a whole


def test_without_a_batch_prefer_parts_get_no_annotations(emulator: EmulatorServer) -> None:
    response = post_batch(emulator, [request_part("GET", MILESTONE_QUERY)])
    record = response_bodies(response)[0]["value"][0]
    assert not [key for key in record if "@OData.Community" in key or "@Microsoft.Dynamics" in key]


def test_batch_maxpagesize_is_not_applied_to_parts(emulator: EmulatorServer) -> None:
    query = "territories?$select=name"
    response = post_batch(
        emulator,
        [request_part("GET", query), request_part("GET", query, prefer="odata.maxpagesize=1")],
        prefer="odata.maxpagesize=1",
    )
    whole, paged = response_bodies(response)
    assert len(whole["value"]) > 1 and "@odata.nextLink" not in whole
    assert len(paged["value"]) == 1 and "@odata.nextLink" in paged


def test_return_representation_on_the_batch_itself_is_refused(fresh_emulator: EmulatorServer) -> None:
    task = new_id()
    parts = [request_part("POST", "tasks", {"activityid": task, "subject": "never written"})]
    refused = post_batch(fresh_emulator, parts, prefer="return=representation")
    assert refused.status_code == 400
    assert "return=representation" in refused.json()["error"]["message"]
    assert get_json(fresh_emulator, f"tasks({task})").status_code == 404
    # in a part it is honoured: 201 with the record
    allowed = post_batch(
        fresh_emulator,
        [
            request_part(
                "POST", "tasks", {"activityid": task, "subject": "made"}, prefer="return=representation"
            )
        ],
    )
    assert statuses(allowed) == [201] and response_bodies(allowed)[0]["subject"] == "made"


def test_continue_on_error_in_a_part_does_not_apply_to_the_batch(fresh_emulator: EmulatorServer) -> None:
    later = new_id()
    response = post_batch(
        fresh_emulator,
        [
            request_part("GET", "nosuchentities", prefer="odata.continue-on-error"),
            request_part("POST", "tasks", {"activityid": later, "subject": "never"}),
        ],
    )
    assert response.status_code == 404 and statuses(response) == [404]
    assert get_json(fresh_emulator, f"tasks({later})").status_code == 404


def test_get_part_with_unencoded_spaces_in_its_query_runs_like_the_service(emulator: EmulatorServer) -> None:
    # The request line is split at its first and last space (the OData batch reader's rule), so the
    # filter with spaces is one URL; the answer matches the same query sent on its own.
    url = f"{emulator.api_url}/accounts?$select=name&$filter=statecode eq 0 and startswith(name,'A')"
    answer = post_batch(emulator, [request_part("GET", url)])
    assert answer.status_code == 200 and statuses(answer) == [200]
    (page,) = response_bodies(answer)
    direct = httpx.get(url, headers={"Authorization": f"Bearer {emulator.mint_token()}"}).json()
    assert [r["name"] for r in page["value"]] == [r["name"] for r in direct["value"]]
    assert page["value"] and all(r["name"].startswith("A") for r in page["value"])
