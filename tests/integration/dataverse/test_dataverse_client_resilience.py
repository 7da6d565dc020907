"""Retries, throttling, lost answers, token refresh and the VPN block, against the emulator over HTTP.

Retry-After on 429: powerapps-docs/developer/data-platform/api-limits.md. Client-set primary key on
create: powerapps-docs/developer/data-platform/webapi/create-entity-web-api.md ("Set the primary key
value"); duplicate key is 0x80040237.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

from callnotes.dataverse import (
    AuthError,
    DataverseClient,
    EmulatorToken,
    NetworkBlocked,
    ODataFilter,
    ServerError,
    StaticToken,
    Throttled,
    TransportError,
)
from callnotes.dataverse.auth import AccessToken
from tests.integration.dataverse.dv_helpers import FakeClock, client_for, fast_policy, settled_stats


def test_429_with_retry_after_then_success(fresh_emulator: Any) -> None:
    clock = FakeClock()
    fresh_emulator.configure(
        fail_next=[{"method": "GET", "path_contains": "WhoAmI", "fault": 429, "retry_after": 7}]
    )
    fresh_emulator.reset_stats()
    with client_for(fresh_emulator, clock) as client:
        assert client.whoami()["UserId"] == fresh_emulator.demo_user_id
    assert clock.sleeps == [7.0]  # Retry-After wins over the backoff
    assert settled_stats(fresh_emulator, at_least=2)["by_status"] == {"429": 1, "200": 1}


def test_throttling_that_outlasts_the_budget_is_a_typed_error(fresh_emulator: Any) -> None:
    clock = FakeClock()
    fresh_emulator.configure(fail_next=[{"fault": 429, "retry_after": 40, "times": 5}])
    with client_for(fresh_emulator, clock, retry=fast_policy(clock, budget=60)) as client:
        with pytest.raises(Throttled) as caught:
            client.whoami()
    assert caught.value.retry_after == 40 and clock.sleeps == [40.0]


def test_thirty_percent_faults_over_500_reads_every_answer_correct(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator) as client:
        truth = {r["accountid"]: r["name"] for r in client.list_rows("accounts", select=["name"])}
    ids = sorted(truth)
    rng = random.Random(9)
    picks = [rng.choice(ids) for _ in range(500)]
    fresh_emulator.configure(fault_rate=0.3)
    fresh_emulator.reset_stats()
    clock = FakeClock()
    with client_for(fresh_emulator, clock) as client:
        answers = [client.get_record("accounts", pick, select=["name"]) for pick in picks]
    assert [(a["accountid"], a["name"]) for a in answers] == [(p, truth[p]) for p in picks]
    stats = settled_stats(fresh_emulator, at_least=600)
    assert stats["requests"] > 600  # faults really happened and were retried
    assert len(clock.sleeps) == client.pipeline.retries > 100


def test_create_whose_answer_is_lost_after_commit_leaves_exactly_one_record(fresh_emulator: Any) -> None:
    fresh_emulator.configure(
        fail_next=[{"method": "POST", "path_contains": "accounts", "fault": "drop_after_commit"}]
    )
    fresh_emulator.reset_stats()
    with client_for(fresh_emulator) as client:
        new_id = client.create("accounts", {"name": "cn-test lost answer"})
        rows = client.list_rows(
            "accounts", select=["name"], filter=ODataFilter.eq("name", "cn-test lost answer")
        )
    assert [r["accountid"] for r in rows] == [new_id]
    assert settled_stats(fresh_emulator, at_least=3)["by_method"]["POST"] == 2  # the create was sent twice


def test_create_is_not_retried_into_a_duplicate_for_non_idempotent_actions(fresh_emulator: Any) -> None:
    fresh_emulator.configure(fail_next=[{"method": "POST", "path_contains": "WhoAmI", "fault": 503}])
    with client_for(fresh_emulator) as client, pytest.raises(ServerError):
        client.call_action("WhoAmI")  # an action is never resent after a server error


def test_401_on_expired_token_refreshes_once_then_succeeds(fresh_emulator: Any) -> None:
    class ExpiresOnServerFirst(EmulatorToken):
        """The first token is already expired on the server (clock skew); later ones are good."""

        def __init__(self) -> None:
            super().__init__(fresh_emulator.url)
            self.fetches = 0

        def _fetch(self, *, force_refresh: bool) -> AccessToken:
            self.fetches += 1
            if self.fetches == 1:
                return AccessToken.from_jwt(fresh_emulator.mint_token(expires_in=-60))
            return super()._fetch(force_refresh=force_refresh)

    provider = ExpiresOnServerFirst()
    fresh_emulator.reset_stats()
    with DataverseClient(fresh_emulator.api_url, provider, retry=fast_policy(FakeClock())) as client:
        assert client.whoami()["UserId"] == fresh_emulator.demo_user_id
    assert provider.fetches == 2
    assert settled_stats(fresh_emulator, at_least=2)["by_status"] == {"401": 1, "200": 1}


def test_401_that_survives_the_refresh_is_an_auth_error(fresh_emulator: Any) -> None:
    expired = StaticToken(fresh_emulator.mint_token(expires_in=-60))
    with (
        DataverseClient(fresh_emulator.api_url, expired) as client,
        pytest.raises(AuthError, match="Sign in"),
    ):
        client.whoami()


def test_vpn_block_is_network_blocked_with_an_actionable_message(fresh_emulator: Any) -> None:
    fresh_emulator.configure(vpn_blocked=True)
    with client_for(fresh_emulator) as client, pytest.raises(NetworkBlocked) as caught:
        client.list_rows("accounts", select=["name"])
    assert str(caught.value).startswith("VPN seems down: MSX answered 'IP address is blocked'")


def test_connection_refused_is_a_transport_error_after_retries() -> None:
    clock = FakeClock()
    with DataverseClient(
        "http://127.0.0.1:9", StaticToken("t"), retry=fast_policy(clock, max_attempts=3)
    ) as client:
        with pytest.raises(TransportError, match="VPN"):
            client.get("WhoAmI")
    assert len(clock.sleeps) == 2


def test_real_service_protection_limit_is_waited_out(fresh_emulator: Any) -> None:
    """A burst over a 10-requests-per-second limit: every read succeeds after honouring Retry-After."""
    with client_for(fresh_emulator) as client:
        ids = [r["accountid"] for r in client.list_rows("accounts", select=["name"])][:30]
    limit = {
        "requests_per_window": 10,
        "window_seconds": 1,
        "max_concurrent": None,
        "execution_ms_per_window": None,
    }
    fresh_emulator.configure(throttle=limit)
    fresh_emulator.reset_stats()
    with DataverseClient(fresh_emulator.api_url, EmulatorToken(fresh_emulator.url)) as client:  # real sleeps
        names = [client.get_record("accounts", i, select=["name"])["accountid"] for i in ids]
        waits = client.pipeline.retries
    assert names == ids
    assert (
        waits >= 1 and settled_stats(fresh_emulator, at_least=30 + waits)["by_status"].get("429", 0) == waits
    )


def test_no_token_reaches_the_logs(fresh_emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    provider = EmulatorToken(fresh_emulator.url)
    fresh_emulator.configure(fail_next=[{"fault": 503}, {"fault": "drop"}])
    with caplog.at_level(logging.DEBUG):
        with DataverseClient(fresh_emulator.api_url, provider, retry=fast_policy(FakeClock())) as client:
            client.whoami()
            client.get_record("accounts", client.list_rows("accounts", top=1)[0]["accountid"])
        token = provider.get_token().token
        assert caplog.records
    assert not [r for r in caplog.records if token in r.getMessage() or token.split(".")[1] in r.getMessage()]
