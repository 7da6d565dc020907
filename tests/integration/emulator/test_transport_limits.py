"""Service protection limits over real HTTP.

powerapps-docs/developer/data-platform/api-limits.md: too many requests in the window → 429 with
hex code 0x80072322 and ``Retry-After`` in seconds; too many concurrent requests → 429 with
0x80072326 at once; limits are per user. None of these tests races a timer: bursts are sized so
that any machine meets the limit, and requests are held in flight by a gate, not by latency.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx
import pytest

from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.emulator.server import build_default_service
from tests.fixtures.emulator import GatedService, web_api_client


def test_throttle_true_burst_meets_429_with_retry_after(fresh_emulator: EmulatorServer) -> None:
    # DESIGN.md §Contracts: a burst of a few hundred requests meets 429 + a Retry-After of a few
    # seconds. `throttle: true` allows 100 at once, then one every 3 s: any client sending faster
    # than one request per 2 s meets 429 within 300 requests.
    response = httpx.post(f"{fresh_emulator.url}/_emulator/config", json={"throttle": True})
    assert response.status_code == 200 and response.json()["throttle"]["requests_per_window"] == 100
    with web_api_client(fresh_emulator) as client:
        statuses = []
        for _ in range(300):
            answer = client.get("WhoAmI")
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                break
    assert statuses[:100] == [200] * 100 and statuses[-1] == 429, (
        "a burst of a few hundred requests must meet 429"
    )
    assert 1 <= int(answer.headers["Retry-After"]) <= 3
    assert "x-ms-ratelimit-burst-remaining-xrm-requests" not in answer.headers
    error = answer.json()["error"]
    assert error["code"] == "0x80072322" and "Number of requests exceeded the limit" in error["message"]


def test_after_retry_after_the_request_succeeds(fresh_emulator: EmulatorServer) -> None:
    # 5 at once, then one every 2 s: the sixth request is refused unless the first six took 2 s.
    fresh_emulator.configure(
        throttle={"requests_per_window": 5, "window_seconds": 10, "max_concurrent": None}
    )
    with web_api_client(fresh_emulator) as client:
        answers = [client.get("WhoAmI") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        # api-limits.md "HTTP Response headers": remaining requests in the window
        remaining = [a.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] for a in answers[:5]]
        assert remaining == ["4", "3", "2", "1", "0"]
        throttled = client.get("WhoAmI")
        assert throttled.status_code == 429 and 1 <= int(throttled.headers["Retry-After"]) <= 2
        time.sleep(int(throttled.headers["Retry-After"]))
        assert client.get("WhoAmI").status_code == 200  # Retry-After is always long enough


@pytest.fixture()
def gated_emulator() -> Iterator[tuple[EmulatorServer, GatedService]]:
    config = EmulatorConfig(accounts=10, seed=11)
    service = GatedService(build_default_service(config), "WhoAmI")
    with EmulatorServer(config, service=service) as server:
        yield server, service
        service.gate.set()


def test_concurrency_limit_refuses_extra_parallel_requests(
    gated_emulator: tuple[EmulatorServer, GatedService],
) -> None:
    # api-limits.md: "exceeding the number of concurrent requests will immediately return an error".
    emu, service = gated_emulator
    emu.configure(throttle={"requests_per_window": None, "max_concurrent": 2})
    with web_api_client(emu, timeout=60) as client, ThreadPoolExecutor(6) as pool:
        pending = [pool.submit(client.get, "WhoAmI") for _ in range(6)]
        refused = []
        for future in as_completed(pending):  # two requests wait at the gate, four come back at once
            refused.append(future.result())
            if len(refused) == 4:
                break
        service.gate.set()
        answers = [future.result() for future in pending]
    assert sorted(a.status_code for a in answers) == [200, 200, 429, 429, 429, 429]
    assert all(r.status_code == 429 and r.json()["error"]["code"] == "0x80072326" for r in refused)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert client_is_free_again(emu)


def client_is_free_again(emu: EmulatorServer) -> bool:
    """Once the held requests finish, the caller may send again (the slots are released)."""
    with web_api_client(emu) as client:
        return [client.get("WhoAmI").status_code for _ in range(3)] == [200] * 3


def test_throttle_off_by_default_and_switchable(fresh_emulator: EmulatorServer) -> None:
    with web_api_client(fresh_emulator) as client:
        assert all(client.get("WhoAmI").status_code == 200 for _ in range(150))
        fresh_emulator.configure(throttle={"requests_per_window": 1, "max_concurrent": None})
        assert [client.get("WhoAmI").status_code for _ in range(2)] == [200, 429]
        fresh_emulator.configure(throttle=False)
        assert client.get("WhoAmI").status_code == 200


def test_throttled_requests_are_counted_in_stats(fresh_emulator: EmulatorServer) -> None:
    # 2 at once, then one every 150 s (the default 300-second window): the last two are refused.
    fresh_emulator.configure(throttle={"requests_per_window": 2, "max_concurrent": None})
    fresh_emulator.reset_stats()
    with web_api_client(fresh_emulator) as client:
        for _ in range(4):
            client.get("WhoAmI")
    stats = fresh_emulator.stats()
    assert stats["requests"] == 4 and stats["by_status"] == {"200": 2, "429": 2}
