"""Benchmark of the Dataverse client against the emulator over real HTTP.

Measures, at 0 ms and 100 ms emulated latency (``POST /_emulator/config latency_ms``):
- rows/second through ``DataverseClient.iter_rows`` (server paging), against a single-call baseline
  that reads the same rows one ``get_record`` at a time;
- requests and wall time for N record reads through ``$batch`` (adaptive chunks, the default, and
  ``chunk_size=MAX_BATCH_PARTS``, as few requests as the 1,000-part limit allows) versus N single GETs.
Every figure is printed next to its baseline from the same run, as a ratio.

Run: ``.venv/bin/python bench/client_bench.py [--accounts 100] [--reads 100]``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from callnotes.dataverse import MAX_BATCH_PARTS, BatchRequest, DataverseClient, EmulatorToken
from callnotes.emulator import EmulatorConfig, EmulatorServer


def _client(emu: EmulatorServer) -> DataverseClient:
    return DataverseClient(emu.api_url, EmulatorToken(emu.url))


def _requests(emu: EmulatorServer, before: int) -> int:
    return int(emu.stats()["requests"]) - before


def bench_rows(emu: EmulatorServer, entity_set: str, key: str, single_limit: int) -> dict[str, Any]:
    with _client(emu) as client:
        client.whoami()  # token + connection warm
        before = emu.stats()["requests"]
        started = time.perf_counter()
        rows = list(client.iter_rows(entity_set, select=[key], page_size=500))
        paged_s = time.perf_counter() - started
        paged_requests = _requests(emu, before)
        ids = [row[key] for row in rows[:single_limit]]
        before = emu.stats()["requests"]
        started = time.perf_counter()
        for record_id in ids:
            client.get_record(entity_set, record_id, select=[key])
        single_s = time.perf_counter() - started
        single_requests = _requests(emu, before)
    return {
        "rows": len(rows),
        "paged_rps": len(rows) / paged_s,
        "paged_requests": paged_requests,
        "single_rows": len(ids),
        "single_rps": len(ids) / single_s,
        "single_requests": single_requests,
    }


def bench_batch(emu: EmulatorServer, reads: int) -> dict[str, Any]:
    with _client(emu) as client:
        ids = [row["accountid"] for row in client.iter_rows("accounts", select=["name"])][:reads]
        before = emu.stats()["requests"]
        started = time.perf_counter()
        singles = [client.get_record("accounts", i, select=["name"]) for i in ids]
        single_s, single_requests = time.perf_counter() - started, _requests(emu, before)
        parts = [BatchRequest("GET", f"accounts({i})?$select=name") for i in ids]
        before = emu.stats()["requests"]
        started = time.perf_counter()
        results = client.batch(parts)
        batch_s, batch_requests = time.perf_counter() - started, _requests(emu, before)
        assert [r.json()["name"] for r in results] == [s["name"] for s in singles]
        final_chunk = client.chunk_size.size
        before = emu.stats()["requests"]
        started = time.perf_counter()
        fewest = client.batch(parts, chunk_size=MAX_BATCH_PARTS)
        fewest_s, fewest_requests = time.perf_counter() - started, _requests(emu, before)
        assert [r.json()["name"] for r in fewest] == [s["name"] for s in singles]
    return {
        "reads": len(ids),
        "single_requests": single_requests,
        "single_s": single_s,
        "batch_requests": batch_requests,
        "batch_s": batch_s,
        "chunk_size_at_end": final_chunk,
        "fewest_requests": fewest_requests,
        "fewest_s": fewest_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=700)
    parser.add_argument("--reads", type=int, default=100)
    args = parser.parse_args()
    config = EmulatorConfig(accounts=args.accounts, seed=7, msx_quirks=False)
    with EmulatorServer(config) as emu:
        for latency in (0, 100):
            emu.configure(latency_ms=latency)
            rows = bench_rows(emu, "accounts", "accountid", single_limit=args.reads)
            batch = bench_batch(emu, args.reads)
            print(f"== emulated latency {latency} ms ==")
            print(
                f"iter_rows: {rows['rows']} rows in {rows['paged_requests']} requests, "
                f"{rows['paged_rps']:.0f} rows/s; single get_record baseline: "
                f"{rows['single_rps']:.1f} rows/s "
                f"({rows['single_requests']} requests for {rows['single_rows']} rows) -> "
                f"{rows['paged_rps'] / rows['single_rps']:.1f}x rows/s"
            )
            print(
                f"$batch: {batch['reads']} reads in {batch['batch_requests']} requests "
                f"({batch['batch_s'] * 1000:.0f} ms) vs {batch['single_requests']} single requests "
                f"({batch['single_s'] * 1000:.0f} ms) -> requests saved "
                f"{1 - batch['batch_requests'] / batch['single_requests']:.0%} "
                f"({batch['single_requests'] / batch['batch_requests']:.1f}x fewer), "
                f"{batch['single_s'] / batch['batch_s']:.1f}x faster; chunk size ended at "
                f"{batch['chunk_size_at_end']}"
            )
            print(
                f"$batch chunk_size=MAX_BATCH_PARTS: {batch['reads']} reads in {batch['fewest_requests']} "
                f"request(s) ({batch['fewest_s'] * 1000:.0f} ms) -> "
                f"{batch['single_requests'] / batch['fewest_requests']:.0f}x fewer than single, "
                f"{batch['batch_requests'] / batch['fewest_requests']:.0f}x fewer than adaptive; "
                f"{batch['single_s'] / batch['fewest_s']:.1f}x faster than single"
            )


if __name__ == "__main__":
    main()
