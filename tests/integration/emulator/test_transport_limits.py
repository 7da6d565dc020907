"""Service protection limits over real HTTP.

powerapps-docs/developer/data-platform/api-limits.md: too many requests in the sliding window
→ 429 with hex code 0x80072322 and ``Retry-After`` in seconds; too many concurrent requests →
429 with 0x80072326 at once; limits are per user.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from callnotes.emulator import EmulatorServer


def _client(emu: EmulatorServer) -> httpx.Client:
    return httpx.Client(base_url=emu.api_url + "/", headers={"Authorization": f"Bearer {emu.mint_token()}"})


def test_throttle_true_burst_meets_429_with_retry_after(fresh_emulator: EmulatorServer) -> None:
    response = httpx.post(f"{fresh_emulator.url}/_emulator/config", json={"throttle": True})
    assert response.status_code == 200 and response.json()["throttle"]["requests_per_window"] > 0
    with _client(fresh_emulator) as client:
        statuses = []
        for _ in range(300):
            answer = client.get("WhoAmI")
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                break
    assert statuses[0] == 200 and statuses[-1] == 429, "a burst of a few hundred requests must meet 429"
    assert 1 <= int(answer.headers["Retry-After"]) <= 10
    assert "x-ms-ratelimit-burst-remaining-xrm-requests" not in answer.headers
    error = answer.json()["error"]
    assert error["code"] == "0x80072322" and "Number of requests exceeded the limit" in error["message"]


def test_after_retry_after_the_request_succeeds(fresh_emulator: EmulatorServer) -> None:
    fresh_emulator.configure(throttle={"requests_per_window": 5, "window_seconds": 2, "max_concurrent": None})
    with _client(fresh_emulator) as client:
        answers = [client.get("WhoAmI") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        # api-limits.md "HTTP Response headers": remaining requests in the window
        remaining = [a.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] for a in answers[:5]]
        assert remaining == ["4", "3", "2", "1", "0"]
        throttled = client.get("WhoAmI")
        assert throttled.status_code == 429
        time.sleep(int(throttled.headers["Retry-After"]))
        assert client.get("WhoAmI").status_code == 200


def test_concurrency_limit_refuses_extra_parallel_requests(fresh_emulator: EmulatorServer) -> None:
    fresh_emulator.configure(throttle={"requests_per_window": None, "max_concurrent": 2}, latency_ms=800)
    token = fresh_emulator.mint_token()

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=fresh_emulator.api_url + "/", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            return await asyncio.gather(*(client.get("WhoAmI") for _ in range(6)))

    responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 2 and statuses.count(429) == 4
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["code"] == "0x80072326"
    assert int(refused.headers["Retry-After"]) >= 1


def test_throttle_off_by_default_and_switchable(fresh_emulator: EmulatorServer) -> None:
    with _client(fresh_emulator) as client:
        assert all(client.get("WhoAmI").status_code == 200 for _ in range(150))
        fresh_emulator.configure(throttle={"requests_per_window": 1, "max_concurrent": None})
        assert [client.get("WhoAmI").status_code for _ in range(2)] == [200, 429]
        fresh_emulator.configure(throttle=False)
        assert client.get("WhoAmI").status_code == 200


def test_throttled_requests_are_counted_in_stats(fresh_emulator: EmulatorServer) -> None:
    fresh_emulator.configure(throttle={"requests_per_window": 2, "max_concurrent": None})
    fresh_emulator.reset_stats()
    with _client(fresh_emulator) as client:
        for _ in range(4):
            client.get("WhoAmI")
    stats = fresh_emulator.stats()
    assert stats["requests"] == 4 and stats["by_status"] == {"200": 2, "429": 2}
