"""Fault injection over real HTTP: random transient failures, dropped connections, scripted
faults, latency and the VPN block.

Transient failures are the ones a Dataverse client must retry: 429 with ``Retry-After``
(powerapps-docs/developer/data-platform/api-limits.md) and 5xx / connection failures
(powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md).
The IP-blocked answer (403, ``0x80095ffe``) is what MSX returns off the corporate network
(reference/msx-api-catalog.md, DESIGN.md §dataverse).
"""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from tests.fixtures.emulator import web_api_client


def _task_body(task_id: str, subject: str = "HoK: architecture review") -> dict:
    return {"activityid": task_id, "subject": subject}


def test_fault_rate_is_roughly_honoured(fresh_emulator: EmulatorServer) -> None:
    # Transient 5xx / 429 / connection failures a client must retry:
    # webapi/compose-http-requests-handle-errors.md, api-limits.md.
    # The picks come from random.Random(seed) of the emulator's config and this client sends one
    # request at a time, so the run is the same every time. The bounds still hold for any seed:
    # failures ~ Binomial(300, 0.3), mean 90, sd sqrt(300 * 0.3 * 0.7) = 7.9, and 45..135 is
    # ±5.7 sd (probability of falling outside < 1e-8). Connection faults are 2 of the 7 kinds,
    # ~ Binomial(300, 0.3 * 2/7): mean 25.7, so none at all has probability < 1e-11.
    fresh_emulator.configure(fault_rate=0.3)
    outcomes: Counter[str] = Counter()
    with web_api_client(fresh_emulator) as client:
        for _ in range(300):
            try:
                outcomes[str(client.get("WhoAmI").status_code)] += 1
            except httpx.TransportError:
                outcomes["connection"] += 1
    failures = 300 - outcomes["200"]
    assert 45 <= failures <= 135, outcomes
    assert set(outcomes) - {"200"} <= {"429", "500", "502", "503", "504", "connection"}
    assert outcomes["connection"] > 0, "dropped connections are part of the mix"


def test_fault_rate_zero_means_no_faults(fresh_emulator: EmulatorServer) -> None:
    with web_api_client(fresh_emulator) as client:
        assert all(client.get("WhoAmI").status_code == 200 for _ in range(100))


def test_scripted_drop_is_a_connection_error_not_a_500(fresh_emulator: EmulatorServer) -> None:
    # A dropped connection is a transport error, not an HTTP answer
    # (webapi/compose-http-requests-handle-errors.md).
    fresh_emulator.configure(fail_next=[{"method": "GET", "path_contains": "WhoAmI", "fault": "drop"}])
    with web_api_client(fresh_emulator) as client:
        with pytest.raises(httpx.TransportError):
            client.get("WhoAmI")
        assert client.get("WhoAmI").status_code == 200  # only the next matching request


def test_scripted_truncated_response_is_a_protocol_error(fresh_emulator: EmulatorServer) -> None:
    # A cut-off answer must surface as a protocol error, never as parsed data
    # (webapi/compose-http-requests-handle-errors.md).
    fresh_emulator.configure(fail_next=[{"fault": "truncate"}])
    with web_api_client(fresh_emulator) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("accounts?$select=name")


def test_drop_after_commit_leaves_the_record_created(fresh_emulator: EmulatorServer) -> None:
    # Create with a client-supplied id, then a duplicate-key answer to the retry
    # (webapi/perform-conditional-operations-using-web-api.md; DESIGN.md §dataverse idempotent creates).
    response = httpx.post(
        f"{fresh_emulator.url}/_emulator/config",
        json={"fail_next": [{"method": "POST", "path_contains": "tasks", "fault": "drop_after_commit"}]},
    )
    assert response.status_code == 200 and response.json()["fail_next"][0]["fault"] == "drop_after_commit"
    task_id = str(uuid.UUID(int=0x1234, version=4))
    with web_api_client(fresh_emulator) as client:
        with pytest.raises(httpx.TransportError):
            client.post("tasks", json=_task_body(task_id))
        stored = client.get(f"tasks({task_id})?$select=subject")
        assert stored.status_code == 200 and stored.json()["subject"] == "HoK: architecture review"
        # a retried create with the same client-assigned id is refused as a duplicate
        retry = client.post("tasks", json=_task_body(task_id))
        assert retry.status_code >= 400 and retry.json()["error"]["code"] == "0x80040237"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_scripted_5xx_before_processing_leaves_nothing_behind(
    fresh_emulator: EmulatorServer, status: int
) -> None:
    # Transient server errors answered before processing write nothing
    # (webapi/compose-http-requests-handle-errors.md).
    fresh_emulator.configure(fail_next=[{"method": "POST", "fault": status}])
    task_id = str(uuid.uuid4())
    with web_api_client(fresh_emulator) as client:
        failed = client.post("tasks", json=_task_body(task_id))
        assert failed.status_code == status and failed.json()["error"]["code"]
        assert client.get(f"tasks({task_id})").status_code == 404


def test_scripted_429_carries_retry_after(fresh_emulator: EmulatorServer) -> None:
    # 429 with Retry-After in seconds and code 0x80072322 (api-limits.md).
    fresh_emulator.configure(fail_next=[{"fault": 429, "retry_after": 3, "times": 2}])
    with web_api_client(fresh_emulator) as client:
        first, second, third = (client.get("WhoAmI") for _ in range(3))
    assert first.status_code == second.status_code == 429 and third.status_code == 200
    assert first.headers["Retry-After"] == "3" and first.json()["error"]["code"] == "0x80072322"


def test_vpn_blocked_answers_403_ip_blocked(fresh_emulator: EmulatorServer) -> None:
    # The IP-firewall answer MSX gives off the VPN: 403, 0x80095ffe (DESIGN.md §dataverse NetworkBlocked).
    assert httpx.post(f"{fresh_emulator.url}/_emulator/config", json={"vpn_blocked": True}).status_code == 200
    with web_api_client(fresh_emulator) as client:
        blocked = client.get("accounts")
        assert blocked.status_code == 403
        error = blocked.json()["error"]
        assert error["code"] == "0x80095ffe" and "IP address is blocked" in error["message"]
        # even without a token: the network block comes first
        assert httpx.get(f"{fresh_emulator.api_url}/WhoAmI").status_code == 403
        fresh_emulator.configure(vpn_blocked=False)
        assert client.get("WhoAmI").status_code == 200


def test_latency_is_added_to_web_api_requests_only(fresh_emulator: EmulatorServer) -> None:
    # DESIGN.md §Contracts: latency_ms is added to every Web API request, control endpoints are never delayed.
    fresh_emulator.configure(latency_ms=150)
    with web_api_client(fresh_emulator) as client:
        client.get("WhoAmI")
    logged = fresh_emulator.requests(1)[0]
    assert logged["path"] == "WhoAmI"
    assert logged["duration_ms"] >= 150  # the latency is applied (a lower bound, not a speed check)
    assert httpx.get(f"{fresh_emulator.url}/_emulator/stats").json()["requests"] == 1  # control: not counted
