"""Emulator speed on this machine: requests per second over real HTTP (loopback, keep-alive).

Figures, each with its ratio to the baseline measured in the same run:
- baseline: ``GET WhoAmI`` (auth + pipeline + the cheapest service call);
- a filtered, paged query: ``accounts`` with ``$filter``/``$select`` and ``Prefer:
  odata.maxpagesize=50``, following ``@odata.nextLink`` to the end; and ``msp_accountteams``
  filtered on role with pages of 500;
- a 100-part ``$batch`` of GETs (accounts by id), and a 100-part changeset of creates (tasks);
- the same filtered page with the service called directly (no HTTP), to show the transport's share.

The server runs in its own process (``callnotes emulator``), as users run it; ``--in-process`` runs it
in a thread instead, as the tests do.

Run: ``.venv/bin/python bench/emulator_bench.py [--accounts N] [--seconds S] [--rounds R] [--in-process]``
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.emulator.messages import ApiRequest
from callnotes.emulator.service import build_service

ACCOUNTS_QUERY = "accounts?$select=name,msp_mstopparentid&$filter=statecode eq 0 and contains(name,'e')"
TEAMS_QUERY = (
    "msp_accountteams?$select=msp_fullname,msp_qualifier1,_msp_accountid_value"
    "&$filter=startswith(msp_qualifier2,'Cloud') and msp_qualifier1 eq 'Corporate'"
)


def _rate(work: Callable[[], int], seconds: float) -> tuple[float, float]:
    """Run ``work`` (returns how many HTTP requests it made) for about ``seconds``."""
    work()  # warm-up
    calls = requests = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        requests += work()
        calls += 1
    elapsed = time.perf_counter() - started
    return calls / elapsed, requests / elapsed


def _walk(client: httpx.Client, url: str, page_size: int) -> tuple[int, int]:
    """Follow nextLinks from ``url``; returns (requests, rows)."""
    pages = rows = 0
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    while url:
        page = client.get(url, headers=headers)
        page.raise_for_status()
        body = page.json()
        pages, rows = pages + 1, rows + len(body["value"])
        url = body.get("@odata.nextLink", "")
    return pages, rows


def _batch_body(parts: list[str], boundary: str) -> bytes:
    return ("".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n").encode()


def _get_part(url: str) -> str:
    headers = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    return f"{headers}\r\nGET {url} HTTP/1.1\r\n\r\n"


def _create_changeset(count: int) -> str:
    parts = []
    for i in range(count):
        body = json.dumps({"activityid": str(uuid.uuid4()), "subject": f"bench task {i}"})
        parts.append(
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {i + 1}\r\n\r\nPOST tasks HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{body}"
        )
    inner = "".join(f"--changeset_b\r\n{p}\r\n" for p in parts) + "--changeset_b--"
    return f"Content-Type: multipart/mixed; boundary=changeset_b\r\n\r\n{inner}"


@contextmanager
def _emulator(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(service root, token) of an emulator in its own process (as users run it), or in a thread
    of this process with ``--in-process`` (as the tests do; client and server then share the GIL)."""
    if args.in_process:
        with EmulatorServer(EmulatorConfig(accounts=args.accounts, seed=7, msx_quirks=False)) as emu:
            yield emu.api_url, emu.mint_token()
        return
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", "emulator", "--port", "0"]
    command += ["--accounts", str(args.accounts), "--seed", "7", "--no-msx-quirks"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Try:"):
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                raise RuntimeError("the emulator process stopped: " + " / ".join(lines))
            lines.append(line.strip())
        root = next(line.split(": ", 1)[1] for line in lines if line.startswith("service root"))
        token = lines[next(i for i, line in enumerate(lines) if line.startswith("Bearer token")) + 1]
        _wait_until_up(root)
        yield root, token
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def _wait_until_up(root: str) -> None:
    for _ in range(200):
        try:
            httpx.get(root.rsplit("/api/", 1)[0] + "/_emulator/stats", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--in-process", action="store_true", help="run the server in a thread of this process"
    )
    args = parser.parse_args()
    service = build_service(7, args.accounts, msx_quirks=False)  # for the no-HTTP figure
    with (
        _emulator(args) as (root, token),
        httpx.Client(base_url=root + "/", headers={"Authorization": f"Bearer {token}"}, timeout=60) as client,
    ):
        account_ids = [
            a["accountid"] for a in client.get("accounts?$select=accountid&$top=100").json()["value"]
        ]
        batch_gets = _batch_body([_get_part(f"accounts({i})?$select=name") for i in account_ids], "batch_b")
        batch_headers = {"Content-Type": "multipart/mixed; boundary=batch_b"}

        def who_am_i() -> int:
            client.get("WhoAmI").raise_for_status()
            return 1

        def accounts_walk() -> int:
            return _walk(client, ACCOUNTS_QUERY, 50)[0]

        def teams_walk() -> int:
            return _walk(client, TEAMS_QUERY, 500)[0]

        def batch_of_gets() -> int:
            client.post("$batch", content=batch_gets, headers=batch_headers).raise_for_status()
            return 1

        def batch_of_creates() -> int:
            body = _batch_body([_create_changeset(100)], "batch_b")
            client.post("$batch", content=body, headers=batch_headers).raise_for_status()
            return 1

        page_request = ApiRequest(
            "GET",
            "accounts",
            ACCOUNTS_QUERY.split("?", 1)[1],
            {"prefer": "odata.maxpagesize=50"},
            caller_id=service.demo_user_id,
            service_root=root,
        )

        def in_process_page() -> int:
            service.handle(page_request)
            return 1

        walk_pages, walk_rows = _walk(client, ACCOUNTS_QUERY, 50)
        team_pages, team_rows = _walk(client, TEAMS_QUERY, 500)
        workloads = [
            ("GET WhoAmI (baseline)", who_am_i),
            (f"accounts filtered walk ({walk_pages} pages x50, {walk_rows} rows)", accounts_walk),
            (f"msp_accountteams filtered walk ({team_pages} pages x500, {team_rows} rows)", teams_walk),
            ("$batch of 100 GET parts", batch_of_gets),
            ("$batch with a 100-create changeset", batch_of_creates),
            ("accounts filtered page, service called directly (no HTTP)", in_process_page),
        ]
        rounds = _measure(workloads, who_am_i, args.rounds, args.seconds)
    where = "a thread of the client process" if args.in_process else "its own process"
    print(
        f"emulator bench: {args.accounts} accounts, server in {where}, median of {args.rounds} rounds "
        f"x {args.seconds:g} s per figure, loopback HTTP/1.1 keep-alive"
    )
    print(f"{'workload':66} {'calls/s':>9} {'HTTP req/s':>11} {'vs WhoAmI':>10}")
    for label, measured in rounds.items():
        calls, per_second, ratio = (statistics.median(column) for column in zip(*measured, strict=True))
        extra = f" ({calls * 100:.0f} parts/s)" if label.startswith("$batch") else ""
        print(f"{label:66} {calls:9.1f} {per_second:11.1f} {ratio:9.2f}x{extra}")
    print("(each column is the median over rounds; the ratio is taken within a round, against that round's")
    print(" baseline, so machine load affects both sides alike)")


def _measure(
    workloads: list[tuple[str, Callable[[], int]]], baseline: Callable[[], int], rounds: int, seconds: float
) -> dict[str, list[tuple[float, float, float]]]:
    """Each round measures the baseline, then every workload with its ratio to that baseline, so
    load from other processes on the machine hits both alike."""
    measured: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in workloads}
    for _ in range(rounds):
        _calls, base = _rate(baseline, seconds)
        for label, work in workloads:
            calls, per_second = _rate(work, seconds)
            measured[label].append((calls, per_second, per_second / base))
    return measured


if __name__ == "__main__":
    main()
