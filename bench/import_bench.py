"""Account import: HTTP requests and wall time, batched plan vs one request per query.

For 50, 200 and 1,000 accounts at 0 ms and 100 ms emulated latency, the same import plan runs twice
against the emulator over HTTP: once folded into one ``$batch`` per dependency level (what
``callnotes import accounts`` does) and once with one GET per query and page (the baseline). Both
write into a fresh SQLite store. Requests are counted by the emulator (``/_emulator/stats``).

Run: ``.venv/bin/python bench/import_bench.py [--sizes 50,200] [--latencies 0,100]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import httpx

from callnotes.dataverse import DataverseClient, EmulatorToken
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.msx.importer import fetch_snapshot
from callnotes.store import make_engine, make_session_factory, upgrade_database
from callnotes.sync.mirror import apply_snapshot


def _requests(server: EmulatorServer) -> int:
    return int(httpx.get(f"{server.url}/_emulator/stats", timeout=30).json()["requests"])


def _run(server: EmulatorServer, *, batched: bool, workdir: Path) -> tuple[int, float, float, int]:
    """(requests, fetch seconds, total seconds, accounts) for one import into a fresh store."""
    engine = make_engine(f"sqlite:///{workdir / f'bench-{batched}-{time.monotonic_ns()}.db'}")
    upgrade_database(engine)
    httpx.post(f"{server.url}/_emulator/stats/reset", timeout=30)
    started = time.perf_counter()
    with DataverseClient(server.api_url, EmulatorToken(server.url)) as client:
        snapshot, _ = fetch_snapshot(client, batched=batched)
    fetched = time.perf_counter() - started
    with make_session_factory(engine)() as session:
        apply_snapshot(session, snapshot)
        session.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return _requests(server), fetched, seconds, len(snapshot.accounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,1000")
    parser.add_argument("--latencies", default="0,100")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    latencies = [int(v) for v in args.latencies.split(",")]
    header = (f"{'accounts':>8} {'latency':>7} | {'batched: req':>12} {'fetch s':>7} {'total s':>7} | "
              f"{'baseline: req':>13} {'fetch s':>7} {'total s':>7} | {'req ratio':>9} {'fetch ratio':>11}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            with EmulatorServer(EmulatorConfig(accounts=size, seed=7)) as server:
                for latency in latencies:
                    server.configure(latency_ms=latency)
                    b_req, b_fetch, b_total, b_n = _run(server, batched=True, workdir=Path(tmp))
                    s_req, s_fetch, s_total, s_n = _run(server, batched=False, workdir=Path(tmp))
                    assert b_n == s_n == size, (b_n, s_n, size)
                    print(f"{size:>8} {latency:>5}ms | {b_req:>12} {b_fetch:>7.2f} {b_total:>7.2f} | "
                          f"{s_req:>13} {s_fetch:>7.2f} {s_total:>7.2f} | {s_req / b_req:>8.0f}x "
                          f"{s_fetch / b_fetch:>10.1f}x", flush=True)


if __name__ == "__main__":
    main()
