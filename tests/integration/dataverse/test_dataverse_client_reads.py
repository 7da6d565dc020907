"""DataverseClient reads against the emulator over real HTTP: paging, filters with hostile text,
id-list chunking, FetchXML paging, the GET cache, annotations.

Paging: powerapps-docs/developer/data-platform/webapi/query/page-results.md (Prefer: odata.maxpagesize,
@odata.nextLink used untouched). FetchXML: powerapps-docs/developer/data-platform/fetchxml/page-results.md.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from callnotes.dataverse import NotFound, ODataFilter, etag, formatted_value, lookup_logical_name
from tests.integration.dataverse.dv_helpers import client_for

F = ODataFilter


def _all_accounts(emulator: Any) -> list[dict[str, Any]]:
    with client_for(emulator) as client:
        return client.list_rows("accounts", select=["name", "accountid"], page_size=5000)


def test_iter_rows_pages_by_next_link_and_never_skip(emulator: Any) -> None:
    everything = _all_accounts(emulator)
    with client_for(emulator) as client:
        paged = client.list_rows("accounts", select=["name", "accountid"], page_size=7)
        assert client.pipeline.requests_sent == -(-len(everything) // 7)
    assert [r["accountid"] for r in paged] == [r["accountid"] for r in everything]
    assert len({r["accountid"] for r in paged}) == len(paged)
    assert not any("$skip=" in str(entry) for entry in emulator.requests(limit=50))


def test_iter_rows_pages_a_navigation_path_like_an_entity_set(emulator: Any) -> None:
    """``systemusers(id)/teammembership_association`` (join-tables.md, collection-valued navigation
    properties) pages by nextLink like an entity set; the path takes GUID keys and names only."""
    path = f"systemusers({emulator.demo_user_id})/teammembership_association"
    with client_for(emulator) as client:
        whole = client.list_rows(path, select=["teamid"], page_size=5000)
        before = client.pipeline.requests_sent
        paged = client.list_rows(path, select=["teamid"], page_size=3)
        assert client.pipeline.requests_sent - before == -(-len(whole) // 3) > 1
        for bad in ("systemusers('x')/teammembership_association", "systemusers(1)/x", "accounts/../x",
                    f"systemusers({emulator.demo_user_id})", "accounts?$top=1", ""):
            with pytest.raises(ValueError, match="navigation path"):
                client.list_rows(bad)
    assert [r["teamid"] for r in paged] == [r["teamid"] for r in whole]
    assert len({r["teamid"] for r in paged}) == len(paged)


def test_filter_values_with_quotes_and_url_metacharacters_round_trip(fresh_emulator: Any) -> None:
    tag = "cn-test "  # not in the seeded data set
    names = [
        tag + n for n in ("O'Brien & Sons", "50% off #1 + more", "a'b''c", "semi;colon=eq?&x=1", "t\tb c")
    ]
    with client_for(fresh_emulator) as client:
        ids = {name: client.create("accounts", {"name": name}) for name in names}
        for name, record_id in ids.items():
            found = client.list_rows("accounts", select=["name"], filter=F.eq("name", name))
            assert [(r["accountid"], r["name"]) for r in found] == [(record_id, name)]
        starts = client.list_rows("accounts", select=["name"], filter=F.startswith("name", tag + "O'Brien &"))
        assert [r["name"] for r in starts] == [tag + "O'Brien & Sons"]
        contains = client.list_rows("accounts", select=["name"], filter=F.contains("name", "% off #1 +"))
        assert [r["name"] for r in contains] == [tag + "50% off #1 + more"]
        injection = client.list_rows("accounts", select=["name"], filter=F.eq("name", "x' or name ne 'y"))
        assert injection == []


def test_get_by_ids_chunks_by_url_budget(emulator: Any) -> None:
    everything = _all_accounts(emulator)
    wanted = [uuid.UUID(r["accountid"]) for r in everything[::2]]
    decoys = [uuid.UUID(int=i) for i in range(1, 1500)]  # unknown ids make the list long
    with client_for(emulator) as client:
        rows = client.get_by_ids("accounts", "accountid", wanted + decoys, select=["name"])
        assert sorted(r["accountid"] for r in rows) == sorted(str(w) for w in wanted)
        assert client.pipeline.requests_sent >= 2  # 1,500+ GUIDs do not fit one 32 KB URL
        sent = client.pipeline.requests_sent
        via_batch = client.get_by_ids(
            "accounts", "accountid", wanted + decoys, select=["name"], via_batch=True
        )
        assert client.pipeline.requests_sent == sent + 1  # one $batch carries the 64 KB chunks
    assert sorted(r["accountid"] for r in via_batch) == sorted(str(w) for w in wanted)


def test_get_record_annotations_and_not_found(emulator: Any) -> None:
    first = _all_accounts(emulator)[0]
    with client_for(emulator) as client:
        record = client.get_record("accounts", first["accountid"], select=["name", "statecode"])
        assert record["name"] == first["name"] and etag(record)
        assert formatted_value(record, "statecode") in {"Active", "Inactive"}
        with pytest.raises(NotFound):
            client.get_record("accounts", uuid.UUID(int=12345))


def test_fetchxml_over_several_pages(emulator: Any) -> None:
    everything = _all_accounts(emulator)
    xml = (
        "<fetch><entity name='account'><attribute name='name'/><attribute name='accountid'/>"
        "<order attribute='accountid'/></entity></fetch>"
    )
    with client_for(emulator) as client:
        rows = client.fetchxml("accounts", xml, page_size=9)
        assert client.pipeline.requests_sent == -(-len(everything) // 9)
    assert sorted(r["accountid"] for r in rows) == sorted(r["accountid"] for r in everything)
    assert len(rows) == len(everything)


def test_get_cache_serves_repeats_and_is_cleared_by_writes(fresh_emulator: Any) -> None:
    with client_for(fresh_emulator, cache_ttl=300, cache_entity_sets={"accounts"}) as client:
        account_id = client.create("accounts", {"name": "cached"})
        sent = client.pipeline.requests_sent
        assert client.get_record("accounts", account_id, select=["name"])["name"] == "cached"
        assert client.get_record("accounts", account_id, select=["name"])["name"] == "cached"
        assert client.pipeline.requests_sent == sent + 1
        client.update("accounts", account_id, {"name": "changed"})
        assert client.get_record("accounts", account_id, select=["name"])["name"] == "changed"
        assert client.pipeline.requests_sent == sent + 3


def test_lookup_annotations_on_a_lookup_column(emulator: Any) -> None:
    with client_for(emulator) as client:
        rows = client.list_rows("opportunities", select=["name", "_parentaccountid_value"], top=3)
    assert rows
    for row in rows:
        assert lookup_logical_name(row, "parentaccountid") == "account"
        assert lookup_logical_name(row, "_parentaccountid_value") == "account"
        assert formatted_value(row, "_parentaccountid_value")  # the account's name
