"""$batch against the emulator over HTTP: a 1,200-part batch split by the adaptive chunk size and
reassembled in order, change set rollback reported per part, continue-on-error.

powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from callnotes.dataverse import MAX_BATCH_PARTS, BatchRequest, NotExecuted, NotFound, ODataFilter, RolledBack
from tests.integration.dataverse.dv_helpers import client_for, settled_stats


def _reads_of_accounts(client: Any, count: int) -> tuple[list[dict[str, Any]], list[BatchRequest]]:
    accounts = client.list_rows("accounts", select=["name"])
    requests = [
        BatchRequest("GET", f"accounts({accounts[i % len(accounts)]['accountid']})?$select=name")
        for i in range(count)
    ]
    return accounts, requests


def _assert_in_order(
    results: list[Any], requests: list[BatchRequest], accounts: list[dict[str, Any]]
) -> None:
    assert len(results) == len(requests)
    for i, result in enumerate(results):
        expected = accounts[i % len(accounts)]
        assert result.request is requests[i] and result.status == 200
        assert (
            result.json()["accountid"] == expected["accountid"] and result.json()["name"] == expected["name"]
        )


def test_1200_part_batch_is_split_and_reassembled_in_order(emulator: Any) -> None:
    with client_for(emulator) as client:
        accounts, requests = _reads_of_accounts(client, 1200)
        results = client.batch(requests)
        sent = client.pipeline.requests_sent - 1
        assert 5 <= client.chunk_size.size <= 25
    _assert_in_order(results, requests, accounts)
    assert 1200 / 25 <= sent <= 1200 / 5  # chunks of 5..25 parts, never one part per request


def test_fixed_chunk_size_asks_for_as_few_requests_as_the_part_limit_allows(emulator: Any) -> None:
    with client_for(emulator) as client:
        accounts, requests = _reads_of_accounts(client, 1200)
        before = client.pipeline.requests_sent
        results = client.batch(requests, chunk_size=MAX_BATCH_PARTS)
        assert client.pipeline.requests_sent - before == 2  # 1,000 + 200: the documented maximum per $batch
        assert client.chunk_size.size == 15  # the adaptive default is left alone
        small = client.batch(requests[:40], chunk_size=MAX_BATCH_PARTS)
        assert client.pipeline.requests_sent - before == 3  # 40 parts: one request, not 15 + 25
        adaptive = client.batch(requests[:40])
        assert client.pipeline.requests_sent - before >= 5  # the default still splits (15 + 25)
    _assert_in_order(results, requests, accounts)
    _assert_in_order(small, requests[:40], accounts)
    _assert_in_order(adaptive, requests[:40], accounts)


def test_a_fixed_chunk_size_outside_1_to_1000_is_refused(emulator: Any) -> None:
    with client_for(emulator) as client:
        for bad in (0, -1, MAX_BATCH_PARTS + 1):
            with pytest.raises(ValueError, match="between 1 and 1000"):
                client.batch([BatchRequest("GET", "accounts")], chunk_size=bad)
        assert client.pipeline.requests_sent == 0


def test_changeset_failure_rolls_back_and_is_reported_per_part(fresh_emulator: Any) -> None:
    missing = uuid.UUID(int=77)
    requests = [
        BatchRequest("POST", "accounts", {"name": "cn-test cs one"}),
        BatchRequest("POST", "accounts", {"name": "cn-test cs two"}),
        BatchRequest("PATCH", f"accounts({missing})", {"name": "nope"}, headers={"If-Match": "*"}),
    ]
    with client_for(fresh_emulator) as client:
        results = client.batch(requests, atomic=True)
        left = client.list_rows(
            "accounts", select=["name"], filter=ODataFilter.startswith("name", "cn-test cs")
        )
    assert isinstance(results[2].error, NotFound)
    assert all(isinstance(r.error, RolledBack) for r in results[:2])
    assert "rolled back" in str(results[0].error) and str(missing) in str(results[0].error)
    assert left == []  # nothing of the change set was kept


def test_changeset_success_with_content_id_reference(fresh_emulator: Any) -> None:
    requests = [
        BatchRequest("POST", "accounts", {"name": "cn-test ref"}, content_id="1"),
        BatchRequest("PATCH", "$1", {"name": "cn-test ref renamed"}),
    ]
    with client_for(fresh_emulator) as client:
        results = client.batch(requests, atomic=True)
        assert all(r.ok for r in results)
        created = results[0].entity_id
        assert created is not None
        assert client.get_record("accounts", created, select=["name"])["name"] == "cn-test ref renamed"


def test_continue_on_error_runs_every_part_and_reports_each(fresh_emulator: Any) -> None:
    requests = [
        BatchRequest("GET", f"accounts({uuid.UUID(int=5)})?$select=name"),
        BatchRequest("POST", "accounts", {"name": "cn-test after error"}),
    ]
    with client_for(fresh_emulator) as client:
        stopped = client.batch(requests)
        assert isinstance(stopped[0].error, NotFound) and isinstance(stopped[1].error, NotExecuted)
        went_on = client.batch(requests, continue_on_error=True)
        assert isinstance(went_on[0].error, NotFound) and went_on[1].ok and went_on[1].status in (201, 204)
        made = client.list_rows(
            "accounts", select=["name"], filter=ODataFilter.eq("name", "cn-test after error")
        )
    assert len(made) == 1
    assert settled_stats(fresh_emulator, at_least=3)["batch_parts"] >= 3
