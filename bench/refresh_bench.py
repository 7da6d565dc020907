"""Incremental refresh: HTTP requests, bytes and wall time for 0, 10 and 1,000 changed records,
against a full import of the same 200 accounts measured in the same run (the baseline).

At each emulated latency, an emulator of its own with 200 accounts and a fresh SQLite store: a full
import (``run_import``, the baseline), then a refresh with nothing changed, then 10 and 1,000 records
changed in MSX by another client (milestones renamed and task subjects edited, half each), each
followed by a refresh. Requests are counted by the emulator (``/_emulator/stats``); bytes are the
request bodies sent and the response bodies received, counted by a transport under the client; time
includes the store write. (Rows changed within the refresh's 2-minute overlap are read again.)

Run: ``.venv/bin/python bench/refresh_bench.py [--accounts 200] [--latencies 0,100]``
"""

from __future__ import annotations

import argparse
import itertools
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from callnotes.dataverse import DataverseClient, EmulatorToken
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.store import make_engine, make_session_factory, upgrade_database
from callnotes.sync.importing import run_import
from callnotes.sync.refreshing import run_refresh

CHANGES = (0, 10, 1000)


class _CountedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, add: Callable[[int], None]) -> None:
        self._inner, self._add = inner, add

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._add(len(chunk))
            yield chunk

    def close(self) -> None:
        self._inner.close()


class CountingTransport(httpx.BaseTransport):
    """httpx's own transport, adding up the request and response body bytes that pass."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.sent = self.received = 0

    def _add(self, count: int) -> None:
        self.received += count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += len(request.read())
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        counted = _CountedStream(response.stream, self._add)
        return httpx.Response(response.status_code, headers=response.headers, stream=counted,
                              extensions=response.extensions)

    def close(self) -> None:
        self._inner.close()


def _requests(server: EmulatorServer) -> int:
    return int(httpx.get(f"{server.url}/_emulator/stats", timeout=30).json()["requests"])


Figures = tuple[int, int, int, float]


def _measure(server: EmulatorServer, step: Callable[[DataverseClient], object]) -> Figures:
    """(requests, bytes sent, bytes received, seconds) of one import or refresh, on a client of its own."""
    transport = CountingTransport()
    httpx.post(f"{server.url}/_emulator/stats/reset", timeout=30)
    started = time.perf_counter()
    with DataverseClient(server.api_url, EmulatorToken(server.url), transport=transport) as client:
        step(client)
    return _requests(server), transport.sent, transport.received, time.perf_counter() - started


def _change(server: EmulatorServer, count: int, serial: Iterator[int]) -> None:
    """``count`` records changed by another client: milestones renamed, task subjects edited."""
    tables = server.service.dataset.database.tables
    milestones = sorted(tables["msp_engagementmilestone"].rows)
    tasks = sorted(tables["task"].rows)
    token = httpx.post(f"{server.url}/_emulator/token", timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "OData-Version": "4.0", "Content-Type": "application/json"}
    with httpx.Client(base_url=f"{server.api_url}/", headers=headers, timeout=30) as other:
        for i in range(count):
            n = next(serial)
            if i % 2 == 0:
                other.patch(f"msp_engagementmilestones({milestones[n % len(milestones)]})",
                            json={"msp_name": f"Renamed {n}"}).raise_for_status()
            else:
                task = tasks[n % len(tasks)]
                other.patch(f"tasks({task})", json={"subject": f"Edited {n}"}).raise_for_status()


def _row(label: str, figures: Figures, base: Figures) -> str:
    req, sent, received, secs = figures
    size, base_size = sent + received, base[1] + base[2]
    return (f"{label:<22} | {req:>4} {sent / 1024:>8.1f} {received / 1024:>9.1f} {secs:>7.2f} | "
            f"{req / base[0]:>7.2f} {size / base_size:>9.3f} {secs / base[3]:>8.2f}")


def _run_latency(server: EmulatorServer, workdir: Path, latency: int, serial: Iterator[int]) -> None:
    server.configure(latency_ms=latency)
    engine = make_engine(f"sqlite:///{workdir / f'refresh-{latency}-{time.monotonic_ns()}.db'}")
    upgrade_database(engine)
    factory = make_session_factory(engine)
    base = _measure(server, lambda client: run_import(client, factory))
    print(f"-- latency {latency} ms")
    print(_row("full import", base, base))
    for count in CHANGES:
        _change(server, count, serial)
        figures = _measure(server, lambda client: run_refresh(client, factory))
        print(_row(f"refresh, {count} changed", figures, base), flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--latencies", default="0,100")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    header = (f"{'':<22} | {'req':>4} {'KB sent':>8} {'KB recvd':>9} {'seconds':>7} | {'req/imp':>7} "
              f"{'bytes/imp':>9} {'time/imp':>8}")
    print(f"{args.accounts} accounts; ratios against the full import measured in the same run")
    print(header)
    print("-" * len(header))
    serial = itertools.count()
    with tempfile.TemporaryDirectory() as tmp:
        for latency in (int(v) for v in args.latencies.split(",")):
            with EmulatorServer(EmulatorConfig(accounts=args.accounts, seed=7)) as server:
                _run_latency(server, Path(tmp), latency, serial)


if __name__ == "__main__":
    main()
