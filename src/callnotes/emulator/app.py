"""The emulator's ASGI application: ``/api/data/v9.2/…`` in front of the Dataverse service,
plus the ``/_emulator/*`` control endpoints and the identity endpoints MSAL signs in through.

Every Web API request goes through one pipeline: VPN block (403) → bearer token (401) →
service protection limits (429) → latency and injected faults → the service, called in a
worker thread under a lock (the core is single-threaded; waits happen outside the lock so
concurrency limits are observable) → optional drop after commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from callnotes.emulator.auth import CODE_UNAUTHORIZED, AuthFailure, challenge
from callnotes.emulator.batch import (
    MAX_BATCH_OPERATIONS,
    BatchFormatError,
    BatchItem,
    BatchOutcome,
    BatchRunner,
    count_operations,
    format_batch_response,
    parse_batch,
)
from callnotes.emulator.batch_preferences import BatchPreferences, batch_preferences, part_headers
from callnotes.emulator.config import EmulatorConfig, Service
from callnotes.emulator.control import EmulatorState, control_routes
from callnotes.emulator.errors import INVALID_ARGUMENT, fault_response
from callnotes.emulator.faults import (
    CODE_IP_BLOCKED,
    CODE_UNEXPECTED,
    MESSAGE_IP_BLOCKED,
    Fault,
    drop_connection,
    truncate_response,
)
from callnotes.emulator.identity import identity_routes
from callnotes.emulator.messages import ApiRequest, ApiResponse
from callnotes.emulator.stats import RequestLogEntry, now_iso
from callnotes.emulator.webhook_control import webhook_routes

_log = logging.getLogger(__name__)
API_PREFIX = "/api/data/v9.2"


@dataclass(frozen=True)
class _HttpRequest:
    method: str
    path: str  # after /api/data/v9.2/, URL-decoded
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def service_root(self) -> str:
        return self.base_url + API_PREFIX


@dataclass
class _Outcome:
    response: ApiResponse | None
    label: str  # ok | error | unauthorized | throttled | fault | dropped | vpn_blocked
    batch_parts: int = 0
    fault: Fault | None = None

    @property
    def wire_status(self) -> int | None:
        """The status the client receives; ``None`` when the connection is dropped or truncated."""
        if (self.fault is not None and self.fault.kind != "status") or self.response is None:
            return None
        return self.response.status


class EmulatorApp:
    """ASGI entry point. ``state`` is shared with :class:`~callnotes.emulator.server.EmulatorServer`."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        routes = [*control_routes(state), *webhook_routes(state),
                  *identity_routes(state.issuer, state.issuer.tenant_id)]
        self._control = Starlette(routes=routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self._web_api(scope, receive, send)
        else:
            await self._control(scope, receive, send)

    async def _web_api(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = _http_request(scope, await _read_body(receive))
        try:
            outcome = await self._pipeline(request)
        except Exception:
            _log.exception("emulator failed on %s %s", request.method, request.target)
            outcome = _Outcome(fault_response(500, CODE_UNEXPECTED, "An unexpected error occurred."), "error")
        response = outcome.response
        self.state.stats.record_request(
            RequestLogEntry(
                at=now_iso(),
                method=request.method,
                path=request.path,
                query=request.query,
                status=outcome.wire_status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                entity_set=response.entity_set if response else None,
                batch_parts=outcome.batch_parts,
                outcome=outcome.label,
            )
        )  # recorded before answering, so a client that has its answer also sees it counted
        await _respond(send, outcome)

    async def _pipeline(self, request: _HttpRequest) -> _Outcome:
        state = self.state
        if state.config.vpn_blocked:
            return _Outcome(fault_response(403, CODE_IP_BLOCKED, MESSAGE_IP_BLOCKED), "vpn_blocked")
        try:
            claims = state.issuer.verify(request.headers.get("authorization"), request.base_url)
        except AuthFailure as exc:
            header = {"WWW-Authenticate": challenge(state.issuer.tenant_id, request.base_url)}
            return _Outcome(fault_response(401, CODE_UNAUTHORIZED, str(exc), header), "unauthorized")
        caller = str(claims["oid"])
        rejection = state.protection.admit(caller)
        if rejection is not None:
            headers = {"Retry-After": str(rejection.retry_after)}
            return _Outcome(fault_response(429, rejection.code, rejection.message, headers), "throttled")
        admitted = time.perf_counter()
        try:
            outcome = await self._faulted_or_executed(request, caller)
        finally:
            state.protection.release(caller, (time.perf_counter() - admitted) * 1000)
        if outcome.response is not None and outcome.fault is None:
            outcome.response.headers.update(state.protection.remaining_headers(caller))
        return outcome

    async def _faulted_or_executed(self, request: _HttpRequest, caller: str) -> _Outcome:
        injector = self.state.injector
        delay = injector.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        fault = injector.pick(request.method, request.target)
        if fault is not None and not fault.after_commit:
            return _fault_outcome(fault)
        outcome = await (
            self._batch(request, caller) if request.path == "$batch" else self._single(request, caller)
        )
        if fault is not None:  # drop_after_commit: the work is done, the answer never arrives
            outcome.fault, outcome.label = fault, "dropped"
        return outcome

    async def _single(self, request: _HttpRequest, caller: str) -> _Outcome:
        api_request = ApiRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
            caller_id=caller,
            service_root=request.service_root,
        )
        response = await anyio.to_thread.run_sync(self._handle_locked, api_request)
        return _Outcome(response, _label(response.status))

    def _handle_locked(self, request: ApiRequest) -> ApiResponse:
        with self.state.service_lock:
            return self.state.service.handle(request)

    async def _batch(self, request: _HttpRequest, caller: str) -> _Outcome:
        # powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md
        if request.method != "POST":
            return _Outcome(fault_response(405, INVALID_ARGUMENT, "$batch requests must use POST."), "error")
        try:
            prefs = batch_preferences(request.headers.get("prefer"))
            items = parse_batch(request.headers.get("content-type"), request.body)
        except BatchFormatError as exc:
            return _Outcome(fault_response(400, INVALID_ARGUMENT, str(exc)), "error")
        count = count_operations(items)
        if count > MAX_BATCH_OPERATIONS:
            message = (
                f"The batch contains {count} requests; a batch request can contain at most "
                f"{MAX_BATCH_OPERATIONS} requests."
            )
            return _Outcome(fault_response(400, INVALID_ARGUMENT, message), "error", batch_parts=count)
        result = await anyio.to_thread.run_sync(self._run_batch_locked, request, caller, items, prefs)
        self.state.stats.record_batch_parts(count, result.entity_sets)
        content_type, body = format_batch_response(result.results)
        headers = {"Content-Type": content_type, "OData-Version": "4.0"}
        if prefs.continue_on_error:
            headers["Preference-Applied"] = "odata.continue-on-error"
        return _Outcome(ApiResponse(result.status, headers, body), _label(result.status), batch_parts=count)

    def _run_batch_locked(
        self, request: _HttpRequest, caller: str, items: list[BatchItem], prefs: BatchPreferences
    ) -> BatchOutcome:
        def make_request(method: str, path: str, query: str, headers: Any, body: bytes) -> ApiRequest:
            merged = part_headers(headers, prefs.inherited)
            return ApiRequest(method, path, query, merged, body, caller, request.service_root)

        with self.state.service_lock:
            runner = BatchRunner(self.state.service, make_request)
            return runner.run(items, continue_on_error=prefs.continue_on_error)


def create_app(config: EmulatorConfig, service: Service) -> EmulatorApp:
    """The ASGI app for one emulator instance serving ``service`` with ``config``."""
    return EmulatorApp(EmulatorState(config, service))


def _label(status: int) -> str:
    """The request log's outcome for an answer the service itself gave (not a fault or a limit)."""
    return "ok" if status < 400 else "error"


def _fault_outcome(fault: Fault) -> _Outcome:
    if fault.kind != "status" or fault.status is None:
        return _Outcome(None, "dropped", fault=fault)
    code, message = fault.error_body()
    headers = {"Retry-After": str(fault.retry_after or 1)} if fault.status == 429 else {}
    return _Outcome(fault_response(fault.status, code, message, headers), "fault", fault=fault)


def _http_request(scope: Scope, body: bytes) -> _HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("127.0.0.1", 80))
    return _HttpRequest(
        method=scope["method"].upper(),
        path=scope["path"][len(API_PREFIX) + 1 :],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        base_url=f"{scope.get('scheme', 'http')}://{host}",
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, outcome: _Outcome) -> None:
    if outcome.fault is not None and outcome.fault.kind == "drop":
        await drop_connection(send)
        return
    if outcome.fault is not None and outcome.fault.kind == "truncate":
        await truncate_response(send)
        return
    response = outcome.response or fault_response(500, CODE_UNEXPECTED, "An unexpected error occurred.")
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()
    ]
    if not any(name == b"odata-version" for name, _ in headers):
        headers.append((b"odata-version", b"4.0"))
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
