"""CLI start-up: how long ``callnotes --help`` and a few commands that touch neither the web app nor
the CRM take as whole processes, beside the bare interpreter and ``import typer`` in the same run.

Each figure is the median of N runs (after one warm-up) of a fresh process; the ratio is against the
bare interpreter (``python -c pass``), so a slow machine does not move the comparison.
Run: ``.venv/bin/python bench/cli_startup_bench.py [runs]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CALLNOTES = [sys.executable, "-c", "from callnotes.cli import main; main()"]
CASES: list[tuple[str, list[str]]] = [
    ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
    ("python -c 'import typer'", [sys.executable, "-c", "import typer"]),
    ("callnotes --help", [*CALLNOTES, "--help"]),
    ("callnotes db --help", [*CALLNOTES, "db", "--help"]),
    ("callnotes emulator --help", [*CALLNOTES, "emulator", "--help"]),
    ("import callnotes.cli + web app (for scale)", [sys.executable, "-c", "import callnotes.web.app"]),
]


def _median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=True)  # warm-up: page cache, .pyc files
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    baseline = None
    print(f"{'command':<46} {'median ms':>10} {'x baseline':>11}")
    for label, command in CASES:
        seconds = _median_seconds(command, runs)
        baseline = baseline or seconds
        print(f"{label:<46} {seconds * 1000:>10.0f} {seconds / baseline:>10.1f}x")


if __name__ == "__main__":
    main()
