"""Control endpoints (``/_emulator/*``) and traffic statistics over real HTTP.

The endpoints and keys are a project contract (DESIGN.md §Contracts). A ``$batch`` is one
HTTP request carrying N operations
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md),
so it counts as 1 request and N batch parts.
"""

from __future__ import annotations

import httpx
import pytest

from callnotes.emulator import EmulatorServer


def _batch_of_gets(count: int) -> bytes:
    part = (
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET {} HTTP/1.1\r\n\r\n"
    )
    urls = ["accounts?$select=name&$top=1", "territories?$select=name&$top=1", "WhoAmI"]
    body = "".join(f"--batch_s\r\n{part.format(urls[i % 3])}\r\n" for i in range(count))
    return (body + "--batch_s--\r\n").encode()


def test_stats_count_requests_batches_parts_entity_sets_and_statuses(fresh_emulator: EmulatorServer) -> None:
    base, token = fresh_emulator.url, fresh_emulator.mint_token()
    assert httpx.post(f"{base}/_emulator/stats/reset").status_code == 200
    with httpx.Client(
        base_url=fresh_emulator.api_url + "/", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        for _ in range(3):
            api.get("accounts?$select=name&$top=1")
        api.get("nosuchentities")
        batch = api.post(
            "$batch", content=_batch_of_gets(3), headers={"Content-Type": "multipart/mixed; boundary=batch_s"}
        )
        assert batch.status_code == 200
    httpx.get(f"{fresh_emulator.api_url}/WhoAmI")  # 401, still a Web API request
    stats = httpx.get(f"{base}/_emulator/stats").json()
    assert stats["requests"] == 6
    assert stats["batch_requests"] == 1 and stats["batch_parts"] == 3
    assert stats["by_entity_set"]["accounts"] == 4  # 3 requests + 1 batch part
    assert stats["by_entity_set"]["territories"] == 1
    assert stats["by_status"] == {"200": 4, "404": 1, "401": 1}
    assert stats["by_method"] == {"GET": 5, "POST": 1}


def test_outcome_labels_follow_each_answer_status(fresh_emulator: EmulatorServer) -> None:
    # A single answer's outcome is "ok" below 400 and "error" for a 4xx/5xx the service gave; 401 is
    # "unauthorized"; a batch is labelled by its own status.
    headers = {"Authorization": f"Bearer {fresh_emulator.mint_token()}"}
    api = fresh_emulator.api_url
    httpx.get(f"{api}/accounts?$top=1", headers=headers)  # 200
    httpx.get(f"{api}/nosuchentities", headers=headers)  # 404
    httpx.get(f"{api}/accounts?$skip=1", headers=headers)  # 400
    httpx.patch(f"{api}/accounts", headers=headers, json={})  # 405
    httpx.get(f"{api}/WhoAmI")  # 401
    batch_headers = {**headers, "Content-Type": "multipart/mixed; boundary=batch_s"}
    httpx.post(f"{api}/$batch", content=_batch_of_gets(1), headers=batch_headers)  # 200
    log = httpx.get(f"{fresh_emulator.url}/_emulator/requests").json()["requests"]
    assert [(entry["status"], entry["outcome"]) for entry in log] == [
        (200, "ok"),
        (404, "error"),
        (400, "error"),
        (405, "error"),
        (401, "unauthorized"),
        (200, "ok"),
    ]
    assert fresh_emulator.stats()["by_outcome"] == {"ok": 2, "error": 3, "unauthorized": 1}


def test_reset_clears_counters_and_log(fresh_emulator: EmulatorServer) -> None:
    httpx.get(f"{fresh_emulator.api_url}/WhoAmI")
    assert fresh_emulator.stats()["requests"] == 1
    reset = httpx.post(f"{fresh_emulator.url}/_emulator/stats/reset")
    assert reset.status_code == 200 and reset.json()["requests"] == 0
    assert httpx.get(f"{fresh_emulator.url}/_emulator/requests").json()["requests"] == []


def test_request_log_is_bounded_by_limit_and_never_holds_tokens(fresh_emulator: EmulatorServer) -> None:
    token = fresh_emulator.mint_token()
    for top in range(1, 6):
        httpx.get(
            f"{fresh_emulator.api_url}/accounts?$top={top}", headers={"Authorization": f"Bearer {token}"}
        )
    log = httpx.get(f"{fresh_emulator.url}/_emulator/requests", params={"limit": 2}).json()["requests"]
    assert [entry["query"] for entry in log] == ["$top=4", "$top=5"]
    assert all(entry["status"] == 200 and entry["method"] == "GET" for entry in log)
    assert token not in httpx.get(f"{fresh_emulator.url}/_emulator/requests").text


def test_config_round_trip(fresh_emulator: EmulatorServer) -> None:
    changed = httpx.post(
        f"{fresh_emulator.url}/_emulator/config",
        json={
            "latency_ms": 5,
            "fault_rate": 0.25,
            "throttle": {"requests_per_window": 50},
            "msx_quirks": False,
        },
    )
    assert changed.status_code == 200
    settings = httpx.get(f"{fresh_emulator.url}/_emulator/config").json()
    assert settings["latency_ms"] == 5 and settings["fault_rate"] == 0.25
    assert settings["throttle"]["requests_per_window"] == 50 and settings["msx_quirks"] is False
    assert fresh_emulator.service.msx_quirks is False
    httpx.post(f"{fresh_emulator.url}/_emulator/config", json={"throttle": False, "fault_rate": 0})
    assert httpx.get(f"{fresh_emulator.url}/_emulator/config").json()["throttle"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"fault_rate": 2}, "fault_rate"),
        ({"throttle": "sometimes"}, "throttle"),
        ({"throttle": {"requests_per_window": 0}}, "requests_per_window"),
        ({"vpn_blocked": "yes"}, "vpn_blocked"),
        ({"msx_quirks": 1}, "msx_quirks"),
        ({"fail_next": [{"fault": 418}]}, "fault"),
        ({"fail_next": "drop"}, "fail_next"),
        ({"accounts": 5}, "unknown setting"),
        ([1, 2], "JSON object"),
    ],
)
def test_invalid_config_is_a_clear_400_and_changes_nothing(
    fresh_emulator: EmulatorServer, body: object, message: str
) -> None:
    before = httpx.get(f"{fresh_emulator.url}/_emulator/config").json()
    response = httpx.post(f"{fresh_emulator.url}/_emulator/config", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert httpx.get(f"{fresh_emulator.url}/_emulator/config").json() == before


def test_partly_invalid_config_applies_nothing(fresh_emulator: EmulatorServer) -> None:
    response = httpx.post(f"{fresh_emulator.url}/_emulator/config", json={"latency_ms": 50, "fault_rate": 9})
    assert response.status_code == 400
    assert httpx.get(f"{fresh_emulator.url}/_emulator/config").json()["latency_ms"] == 0


def test_config_needs_json(fresh_emulator: EmulatorServer) -> None:
    url = f"{fresh_emulator.url}/_emulator/config"
    assert httpx.post(url, content=b"latency_ms=5", headers={"Content-Type": "text/plain"}).status_code == 400
    assert (
        httpx.post(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    )
    assert httpx.post(url).status_code == 400


def test_cross_origin_browser_requests_are_refused(fresh_emulator: EmulatorServer) -> None:
    response = httpx.post(
        f"{fresh_emulator.url}/_emulator/config",
        json={"vpn_blocked": True},
        headers={"Origin": "https://evil.test"},
    )
    assert response.status_code == 400 and "cross-origin" in response.json()["error"]["message"]
    assert httpx.get(f"{fresh_emulator.url}/_emulator/config").json()["vpn_blocked"] is False
    same = httpx.post(
        f"{fresh_emulator.url}/_emulator/config",
        json={"latency_ms": 1},
        headers={"Origin": fresh_emulator.url},
    )
    assert same.status_code == 200


def test_control_endpoints_are_never_faulted_throttled_or_blocked(fresh_emulator: EmulatorServer) -> None:
    fresh_emulator.configure(
        fault_rate=1.0, vpn_blocked=True, throttle={"requests_per_window": 1, "max_concurrent": None}
    )
    for _ in range(20):
        assert httpx.get(f"{fresh_emulator.url}/_emulator/stats").status_code == 200
        assert httpx.post(f"{fresh_emulator.url}/_emulator/token").status_code == 200
    assert fresh_emulator.stats()["requests"] == 0


def test_requests_limit_must_be_a_number(emulator: EmulatorServer) -> None:
    assert httpx.get(f"{emulator.url}/_emulator/requests", params={"limit": "all"}).status_code == 400


def test_index_describes_the_service(emulator: EmulatorServer) -> None:
    info = httpx.get(emulator.url + "/").json()
    assert info["service_root"] == emulator.api_url and info["demo_user_id"] == emulator.demo_user_id
