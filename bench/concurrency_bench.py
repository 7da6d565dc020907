"""Concurrency bench (issue 14): latencies of autosaves, API notes and ``/healthz`` under a mixed write
load, beside the same requests from a single client, in the same run.

``callnotes serve`` runs in its own process on 127.0.0.1 (SQLite in a temporary directory, or a
throw-away schema of ``CALLNOTES_DATABASE_URL``). First one editor alone and one API writer alone
(the baselines), then the mix: ``--editors`` autosaving tabs, ``--writers`` API writers and another
process writing notes into the same database. Printed: p50 / p99 in ms per kind of request, the
ratio of the mix's p50 / p99 to the single client's, throughput, and every failure (5xx, reset).

    .venv/bin/python bench/concurrency_bench.py [--editors 10] [--writers 10] [--seconds 8]
    CALLNOTES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test \
        .venv/bin/python bench/concurrency_bench.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from _load import LoadResult, Mix, missing_writes, run_mix
from _services import bench_database
from callnotes.web.server import free_port

_OTHER_PROCESS = """
import sys, time
from datetime import date
from callnotes.store import NoteInput, create_note, make_engine, make_session_factory, session_scope
engine = make_engine(sys.argv[1]); factory = make_session_factory(engine); count = 0
until = time.monotonic() + float(sys.argv[2])
while time.monotonic() < until:
    with session_scope(factory) as session:
        create_note(session, NoteInput(body="another process", call_date=date(2026, 1, 2), topics=["Other"]))
    count += 1
    time.sleep(0.02)
engine.dispose(); print(count)
"""


@contextlib.contextmanager
def _server(folder: Path, url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CALLNOTES_DATA_DIR": str(folder / "data"), "CALLNOTES_DATABASE_URL": url,
           "CALLNOTES_LOG_LEVEL": "WARNING"}
    env.pop("CALLNOTES_CRM_URL", None)
    command = [str(Path(sys.executable).with_name("callnotes")), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("callnotes serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _row(kind: str, single: LoadResult, mixed: LoadResult, seconds: float) -> str:
    s50, s99 = single.quantile(kind, 50), single.quantile(kind, 99)
    m50, m99 = mixed.quantile(kind, 50), mixed.quantile(kind, 99)
    return (f"{kind:<10} {s50:>9.1f} {s99:>9.1f} {m50:>9.1f} {m99:>9.1f} {m50 / s50:>8.1f} {m99 / s99:>8.1f}"
            f" {mixed.count(kind) / seconds:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=10)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--other-process", type=float, default=1.0,
                        help="share of the mix the other process writes for (0: none)")
    args = parser.parse_args()
    with (tempfile.TemporaryDirectory(prefix="callnotes-concurrency-bench-") as tmp,
          bench_database(Path(tmp), "concurrency_bench") as url, _server(Path(tmp), url) as base):
        kind = url.split(":", 1)[0]
        alone_editor = run_mix(base, Mix(editors=1, api_writers=0, seconds=args.seconds))
        alone_writer = run_mix(base, Mix(editors=0, api_writers=1, seconds=args.seconds))
        other_seconds = str(args.seconds * args.other_process)
        other = subprocess.Popen([sys.executable, "-c", _OTHER_PROCESS, url, other_seconds],
                                 stdout=subprocess.PIPE, text=True)
        mixed = run_mix(base, Mix(editors=args.editors, api_writers=args.writers, seconds=args.seconds))
        other_notes = int(other.communicate(timeout=120)[0].strip() or 0)
        lost = missing_writes(base, mixed)
    print(f"database: {kind}; mix: {args.editors} editors + {args.writers} API writers + another process "
          f"({other_notes} notes), {args.seconds:.0f} s each phase")
    print(f"\n{'request':<10} {'1 p50':>9} {'1 p99':>9} {'mix p50':>9} {'mix p99':>9} {'x p50':>8}"
          f" {'x p99':>8} {'mix/s':>8}")
    baselines = {"draft": alone_editor, "form note": alone_editor, "api note": alone_writer,
                 "api read": alone_writer, "healthz": alone_editor}
    for name, single in baselines.items():
        print(_row(name, single, mixed, args.seconds))
    print(f"\nslowest request in the mix: {mixed.slowest_ms:.0f} ms; failures (5xx, resets): "
          f"{len(mixed.failures)}; acknowledged writes missing afterwards: {len(lost)}")
    for failure in mixed.failures[:10]:
        print(f"  {failure}")


if __name__ == "__main__":
    main()
