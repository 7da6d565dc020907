"""``EmulatorServer``, the in-process test server everybody uses (emulator contract: real uvicorn
on a free 127.0.0.1 port, ready when returned, clean shutdown). Tokens are per instance, as an
Entra ID token is only good for the resource it was issued for
(powerapps-docs/developer/data-platform/authenticate-oauth.md).
"""

from __future__ import annotations

import httpx
import pytest

from callnotes.emulator import ConfigError, EmulatorConfig, EmulatorServer


def test_server_answers_when_started_and_frees_its_port_when_stopped() -> None:
    server = EmulatorServer(EmulatorConfig(accounts=3, seed=1))
    with server as emu:
        assert emu.url.startswith("http://127.0.0.1:") and emu.api_url == emu.url + "/api/data/v9.2"
        token = emu.mint_token()
        assert (
            httpx.get(f"{emu.api_url}/WhoAmI", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        assert emu.stats()["requests"] == 1
        emu.reset_stats()
        assert emu.stats()["requests"] == 0 and emu.requests() == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_emulator/stats", timeout=2)


def test_two_servers_do_not_accept_each_others_tokens() -> None:
    with (
        EmulatorServer(EmulatorConfig(accounts=3, seed=1)) as one,
        EmulatorServer(EmulatorConfig(accounts=3, seed=1)) as two,
    ):
        assert one.url != two.url and one.demo_user_id == two.demo_user_id  # same seed, same data
        foreign = one.app.state.mint_token(two.url)
        answer = httpx.get(f"{two.api_url}/WhoAmI", headers={"Authorization": f"Bearer {foreign}"})
        assert answer.status_code == 401


def test_configure_validates_like_the_http_endpoint(fresh_emulator: EmulatorServer) -> None:
    with pytest.raises(ConfigError, match="fault_rate"):
        fresh_emulator.configure(fault_rate=3)
    with pytest.raises(ConfigError, match="unknown setting"):
        fresh_emulator.configure(seed=4)
    settings = fresh_emulator.configure(latency_ms=0, vpn_blocked=False)
    assert settings["latency_ms"] == 0 and settings["fail_next"] == []


def test_config_is_validated_at_construction() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        EmulatorConfig(host="0.0.0.0")
    with pytest.raises(ConfigError, match="accounts"):
        EmulatorConfig(accounts=0)
    assert EmulatorConfig(throttle=True).throttle_limits is not None


def test_starting_twice_is_refused(emulator: EmulatorServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        emulator.start()
