"""A mixed write load against a running callnotes server (loopback only), shared by the load test
(``tests/integration/web/test_web_load.py``) and ``bench/concurrency_bench.py``.

Clients, each with its own connection and CSRF cookie, run for a fixed time:

* *editors* autosave a draft (``POST /editor/draft``, as the editor's htmx does every few seconds,
  here back to back) and now and then submit it as a note (``POST /notes`` → 303);
* *API writers* create notes (``POST /api/notes`` → 201), every fifth logging an MSX task through the
  outbox when a milestone is given (the app's job queue then drains it to the CRM while the load
  runs), and read them back (``GET /api/notes/{id}``);
* a *prober* asks ``/healthz`` all along (does anything stall the server?).

Every answer is recorded with its latency; a 5xx, a reset or a timeout is counted as a failure. The
caller then checks that every acknowledged write is stored (:func:`missing_writes`).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

_TIMEOUT = httpx.Timeout(30.0)
_ERRORS = (httpx.TransportError,)


@dataclass
class LoadResult:
    """What the clients saw: latencies (ms) per kind of request, statuses, failures, writes acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failures: list[str] = field(default_factory=list)
    note_ids: list[int] = field(default_factory=list)  # 201 from POST /api/notes, 303 from POST /notes
    outbox_ids: list[int] = field(default_factory=list)  # outbox rows of the tasks those notes logged
    drafts: dict[str, str] = field(default_factory=dict)  # draft key -> last body the server acknowledged

    def record(self, kind: str, started: float, response: httpx.Response) -> None:
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        self.statuses[kind][response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{kind}: {response.status_code} {response.text[:200]}")

    def count(self, kind: str) -> int:
        return len(self.latencies[kind])

    def quantile(self, kind: str, q: int) -> float:
        samples = self.latencies[kind]
        if len(samples) < 2:
            return samples[0] if samples else float("nan")
        return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]

    @property
    def slowest_ms(self) -> float:
        return max((max(v) for v in self.latencies.values() if v), default=0.0)


async def _csrf(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/csrf")
    response.raise_for_status()
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


async def _guarded(result: LoadResult, kind: str, coroutine: object) -> httpx.Response | None:
    """Await a request; a transport error (reset, timeout, refused) is a failure, not a crash."""
    started = time.perf_counter()
    try:
        response: httpx.Response = await coroutine  # type: ignore[misc]
    except _ERRORS as exc:
        result.latencies[kind].append((time.perf_counter() - started) * 1000)
        result.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
        return None
    result.record(kind, started, response)
    return response


@dataclass(frozen=True)
class Mix:
    """Who runs: ``editors`` autosaving tabs, ``api_writers``; notes for ``customer_id``, tasks on
    ``milestone_id`` (a milestone of that customer) with ``task_category``. Each client runs for
    ``seconds``, or, with ``operations``, until it has made that many writes (``seconds`` is then
    only a cap: a test does the same work on a slow machine as on a fast one)."""

    editors: int
    api_writers: int
    seconds: float
    operations: int | None = None
    customer_id: int | None = None
    milestone_id: int | None = None
    task_category: int | None = None


@dataclass
class _Clock:
    mix: Mix
    until: float
    active: int = 0

    def going(self, done: int) -> bool:
        if time.perf_counter() >= self.until:
            return False
        return self.mix.operations is None or done < self.mix.operations


async def _editor(base: str, result: LoadResult, clock: _Clock, number: int) -> None:
    mix = clock.mix
    async with httpx.AsyncClient(base_url=base, timeout=_TIMEOUT) as client:
        token = await _csrf(client)
        key, saves = f"new:{uuid.uuid4()}", 0
        while clock.going(saves):
            saves += 1
            body = f"editor {number} save {saves} " + "lorem ipsum " * 40
            fields = {"draft_key": key, "body": body, "title": f"Editor {number}", "call_date": "2026-11-20",
                      "topics": "Load, Autosave", "customer_id": str(mix.customer_id or ""),
                      "csrf_token": token}
            response = await _guarded(result, "draft", client.post(
                "/editor/draft", data=fields, headers={"HX-Request": "true"}))
            if response is not None and response.status_code == 200:
                result.drafts[key] = body
            if saves % 5 == 0:
                response = await _guarded(result, "form note", client.post("/notes", data=fields))
                if response is not None and response.status_code == 303:
                    result.note_ids.append(int(response.headers["location"].rsplit("/", 1)[1]))
                    result.drafts.pop(key, None)  # saving the note deletes its draft
                    key = f"new:{uuid.uuid4()}"


def _api_note(number: int, written: int, mix: Mix) -> dict[str, object]:
    body: dict[str, object] = {"body": f"api writer {number} note {written}", "call_date": "2026-11-20",
                               "topics": ["Load", f"writer {number}"], "customer_id": mix.customer_id}
    if mix.milestone_id is not None and written % 5 == 0:
        body["tasks"] = [{"milestone_id": mix.milestone_id, "category": mix.task_category,
                          "duration_minutes": 30, "subject": f"Load task {number}.{written}"}]
    return body


async def _api_writer(base: str, result: LoadResult, clock: _Clock, number: int) -> None:
    mix = clock.mix
    async with httpx.AsyncClient(base_url=base, timeout=_TIMEOUT) as client:
        await _csrf(client)
        written = 0
        while clock.going(written):
            written += 1
            response = await _guarded(result, "api note", client.post(
                "/api/notes", json=_api_note(number, written, mix)))
            if response is not None and response.status_code == 201:
                created = response.json()
                result.note_ids.append(created["id"])
                result.outbox_ids += created.get("outbox_ids", [])
                await _guarded(result, "api read", client.get(f"/api/notes/{created['id']}"))


async def _prober(base: str, result: LoadResult, clock: _Clock) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=_TIMEOUT) as client:
        while clock.active and time.perf_counter() < clock.until:
            await _guarded(result, "healthz", client.get("/healthz"))
            await asyncio.sleep(0.05)


async def _counted(clock: _Clock, client: Coroutine[Any, Any, None]) -> None:
    try:
        await client
    finally:
        clock.active -= 1


async def _run(base: str, mix: Mix) -> LoadResult:
    result = LoadResult()
    clock = _Clock(mix, time.perf_counter() + mix.seconds)
    clients = [_editor(base, result, clock, n) for n in range(mix.editors)]
    clients += [_api_writer(base, result, clock, n) for n in range(mix.api_writers)]
    clock.active = len(clients)
    await asyncio.gather(*(_counted(clock, c) for c in clients), _prober(base, result, clock))
    return result


def run_mix(base: str, mix: Mix) -> LoadResult:
    """Run ``mix`` against ``base`` (a loopback URL); blocks until every client is done."""
    return asyncio.run(_run(base, mix))


async def _missing(base: str, result: LoadResult) -> list[str]:
    missing = []
    async with httpx.AsyncClient(base_url=base, timeout=_TIMEOUT) as client:
        for note_id in result.note_ids:
            if (await client.get(f"/api/notes/{note_id}")).status_code != 200:
                missing.append(f"note {note_id}")
        for key, body in result.drafts.items():
            page = await client.get("/notes/new", params={"draft": key})
            if body not in page.text:
                missing.append(f"draft {key}")
    return missing


def missing_writes(base: str, result: LoadResult) -> list[str]:
    """Acknowledged writes the server no longer has: notes answered 201/303, the last saved draft bodies."""
    return asyncio.run(_missing(base, result))
