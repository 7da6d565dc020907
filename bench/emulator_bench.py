"""Emulator speed on this machine: requests per second over real HTTP (loopback, keep-alive).

Figures, each with its ratio to the baseline measured in the same run:
- baseline: ``GET WhoAmI`` (auth + pipeline + the cheapest service call);
- a filtered, paged query: ``accounts`` with ``$filter``/``$select`` and ``Prefer:
  odata.maxpagesize=50``, following ``@odata.nextLink`` to the end; and ``msp_accountteams``
  filtered on role with pages of 500;
- a 100-part ``$batch`` of GETs (accounts by id), and a 100-part changeset of creates (tasks);
- the same filtered page called in-process (``service.handle``), to show the transport's share.

Run: ``.venv/bin/python bench/emulator_bench.py [--accounts N] [--seconds S] [--rounds R]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable

import httpx

from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.emulator.messages import ApiRequest

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = EmulatorConfig(accounts=args.accounts, seed=7, msx_quirks=False)
    with (
        EmulatorServer(config) as emu,
        httpx.Client(
            base_url=emu.api_url + "/", headers={"Authorization": f"Bearer {emu.mint_token()}"}, timeout=60
        ) as client,
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
            caller_id=emu.demo_user_id,
            service_root=emu.api_url,
        )

        def in_process_page() -> int:
            emu.service.handle(page_request)
            return 1

        walk_pages, walk_rows = _walk(client, ACCOUNTS_QUERY, 50)
        team_pages, team_rows = _walk(client, TEAMS_QUERY, 500)
        workloads = [
            ("GET WhoAmI (baseline)", who_am_i),
            (f"accounts filtered walk ({walk_pages} pages x50, {walk_rows} rows)", accounts_walk),
            (f"msp_accountteams filtered walk ({team_pages} pages x500, {team_rows} rows)", teams_walk),
            ("$batch of 100 GET parts", batch_of_gets),
            ("$batch with a 100-create changeset", batch_of_creates),
            ("accounts filtered page, in-process (no HTTP)", in_process_page),
        ]
        rounds = _measure(workloads, who_am_i, args.rounds, args.seconds)
    print(
        f"emulator bench: {args.accounts} accounts, median of {args.rounds} rounds x {args.seconds:g} s "
        "per figure, loopback HTTP/1.1 keep-alive"
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
