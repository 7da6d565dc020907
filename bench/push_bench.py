"""Pushing 1,000 notes as phone calls: HTTP requests and wall time of ``callnotes push`` (keyed queries and
change sets folded into ``$batch``) beside one request per record, measured in the same run.

For each emulated latency, a fresh emulator and a fresh SQLite store with 1,000 notes:

- ``push`` — `push_mapping` with examples/notes-as-phonecalls.toml (first push: every call created);
- ``push again`` — nothing changed (fingerprints: no request at all);
- ``push 100 edits`` — 100 notes edited, pushed again;
- ``per record`` — the baseline: the same 1,000 bodies, one ``POST phonecalls`` each (no key lookup, so
  not even create-or-update), into a second fresh emulator.

Requests are counted by the emulator (``/_emulator/stats``). Ratios are baseline / push.

Run: ``.venv/bin/python bench/push_bench.py [--notes 1000] [--latencies 0,20]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import time
from pathlib import Path

from callnotes.config import Settings
from callnotes.dataverse import DataverseClient, EmulatorToken
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.store import (
    CustomerInput,
    NoteInput,
    NoteUpdate,
    create_customer,
    create_note,
    session_scope,
    update_note,
)
from callnotes.store.repo.push_sources import source_batch
from callnotes.sync.mappings import MappingSpec, load_mappings
from callnotes.sync.push import push_mapping
from callnotes.sync.push_payload import build_payload
from callnotes.sync.runtime import Runtime, open_runtime

MAPPING = Path(__file__).resolve().parents[1] / "examples" / "notes-as-phonecalls.toml"


def _fill(runtime: Runtime, server: EmulatorServer, notes: int) -> list[int]:
    number = sorted(r["accountnumber"] for r in server.service.database.table("account").rows.values())[0]
    with session_scope(runtime.session_factory) as session:
        customer = create_customer(session, CustomerInput(name="Contoso", tpid=number))
        return [create_note(session, NoteInput(
            body=f"Discussed topic {i}.\n\n- next step {i}", title=f"Call {i}",
            call_date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 300), customer_id=customer.id)).id
            for i in range(notes)]


def _timed_push(runtime: Runtime, server: EmulatorServer, mapping: MappingSpec) -> tuple[int, float, int]:
    server.reset_stats()
    started = time.perf_counter()
    with DataverseClient(server.api_url, EmulatorToken(server.url)) as client:
        report = push_mapping(runtime.session_factory, client, mapping)
    seconds = time.perf_counter() - started
    assert report.ok, report.errors
    return int(server.stats()["requests"]), seconds, report.created + report.updated


def _per_record(runtime: Runtime, server: EmulatorServer, mapping: MappingSpec) -> tuple[int, float, int]:
    with runtime.session_factory() as session:
        rows = source_batch(session, mapping.source, limit=1_000_000)
        bodies = [build_payload(mapping, row, {}).create_body for row in rows]
    server.reset_stats()
    started = time.perf_counter()
    with DataverseClient(server.api_url, EmulatorToken(server.url)) as client:
        for body in bodies:
            client.create("phonecalls", body)
    return int(server.stats()["requests"]), time.perf_counter() - started, len(bodies)


def _scenario(notes: int, latency: int, workdir: Path) -> list[tuple[str, int, float, int]]:
    mapping = load_mappings(MAPPING).mappings[0]
    results = []
    with EmulatorServer(EmulatorConfig(accounts=2, seed=7)) as server:
        settings = Settings(crm_url=server.url, auth="emulator", data_dir=workdir / f"push-{latency}",
                            queue_name=f"bench-{latency}")
        with open_runtime(settings) as runtime:
            ids = _fill(runtime, server, notes)
            server.configure(latency_ms=latency)
            results.append(("push", *_timed_push(runtime, server, mapping)))
            results.append(("push again", *_timed_push(runtime, server, mapping)))
            with session_scope(runtime.session_factory) as session:
                for note_id in ids[:100]:
                    update_note(session, note_id, NoteUpdate(title=f"Edited {note_id}"))
            results.append(("push 100 edits", *_timed_push(runtime, server, mapping)))
            with EmulatorServer(EmulatorConfig(accounts=2, seed=7)) as baseline:
                baseline.configure(latency_ms=latency)
                results.append(("per record", *_per_record(runtime, baseline, mapping)))
    return results


def _line(latency: int, result: tuple[str, int, float, int], baseline: tuple[str, int, float, int]) -> str:
    name, requests, seconds, records = result
    ratio = f"{baseline[1] / requests:>8.0f}x" if requests and name != "per record" else " " * 9
    speed = f"{baseline[2] / seconds:>9.1f}x" if name == "push" else " " * 10
    return f"{latency:>5}ms | {name:<15} {records:>7} {requests:>8} {seconds:>8.2f} | {ratio} {speed}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--latencies", default="0,20")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    header = (f"{'latency':>7} | {'run':<15} {'records':>7} {'requests':>8} {'seconds':>8} | "
              f"{'req ratio':>9} {'time ratio':>10}")
    print(f"{args.notes} notes → phone calls (examples/notes-as-phonecalls.toml); ratios: per record / push")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for latency in (int(v) for v in args.latencies.split(",")):
            results = _scenario(args.notes, latency, Path(tmp))
            for result in results:
                print(_line(latency, result, results[-1]), flush=True)


if __name__ == "__main__":
    main()
