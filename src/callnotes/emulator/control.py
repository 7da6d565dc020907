"""The emulator's run-time state and its ``/_emulator/*`` control endpoints.

Control endpoints are never delayed, faulted, throttled or authenticated (DESIGN.md
§Contracts). State-changing ones only accept JSON bodies and refuse cross-origin browser
requests, so a web page cannot reconfigure a developer's emulator.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callnotes.emulator.auth import DemoIdentity, InvalidTokenRequest, TokenIssuer, parse_expires_in
from callnotes.emulator.config import ConfigError, EmulatorConfig, Service
from callnotes.emulator.errors import INVALID_ARGUMENT
from callnotes.emulator.faults import FaultInjector
from callnotes.emulator.limits import ServiceProtection
from callnotes.emulator.messages import ApiRequest
from callnotes.emulator.stats import TrafficStats
from callnotes.emulator.webhooks import WebhookDispatcher

_log = logging.getLogger(__name__)


class EmulatorState:
    """Everything one emulator instance holds at run time, shared by the app and its server."""

    def __init__(self, config: EmulatorConfig, service: Service) -> None:
        self.config = config
        self.service = service
        self.service_lock = threading.Lock()
        self.stats = TrafficStats()
        self.injector = FaultInjector(
            fault_rate=config.fault_rate,
            latency_ms=config.latency_ms,
            jitter_ms=config.jitter_ms,
            seed=config.seed,
        )
        self.injector.set_script(config.fail_next)
        self.protection = ServiceProtection(config.throttle_limits)
        self.issuer = TokenIssuer(_demo_identity(service))
        self._config_lock = threading.Lock()
        self.webhooks = WebhookDispatcher(service.database, service.writer, service.feed)

    def close(self) -> None:
        """Stop what runs beside the server (webhook deliveries still queued are dropped)."""
        self.webhooks.close()

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply run-time changes atomically (all validated first); returns the new settings."""
        with self._config_lock:
            updated = self.config.with_changes(changes)
            self.injector.fault_rate = updated.fault_rate
            self.injector.latency_ms = updated.latency_ms
            self.injector.jitter_ms = updated.jitter_ms
            if "fail_next" in changes:
                self.injector.set_script(updated.fail_next)
            if "throttle" in changes:
                self.protection.configure(updated.throttle_limits)
            if "msx_quirks" in changes:
                with self.service_lock:
                    self.service.msx_quirks = updated.msx_quirks
            self.config = updated
            return self.settings()

    def settings(self) -> dict[str, Any]:
        view = self.config.runtime_view()
        view["fail_next"] = self.injector.pending_script()
        return view

    def mint_token(self, audience: str, expires_in: int = 3600) -> str:
        return self.issuer.mint(audience, expires_in)


def _demo_identity(service: Service) -> DemoIdentity:
    """Name and UPN of the demo user, read from the service like any client would."""
    user_id = service.demo_user_id
    request = ApiRequest(
        method="GET",
        path=f"systemusers({user_id})",
        query="$select=fullname,internalemailaddress,domainname",
        headers={"accept": "application/json"},
        caller_id=user_id,
    )
    try:
        record = json.loads(service.handle(request).body or b"{}")
    except (ValueError, AttributeError):
        record = {}
    upn = record.get("domainname") or record.get("internalemailaddress") or "demo.user@contoso.com"
    return DemoIdentity(user_id=user_id, name=record.get("fullname") or "Demo User", upn=upn)


def control_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": INVALID_ARGUMENT, "message": message}}, status_code=status)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def json_body_of(request: Request, *, required: bool) -> Mapping[str, Any]:
    """The request's JSON object; an absent body is ``{}`` unless ``required``."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != _base_url(request):
        raise ConfigError(f"cross-origin requests to control endpoints are refused (Origin: {origin})")
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ConfigError("send a JSON object body")
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ConfigError("the body must be JSON with Content-Type: application/json")
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError("the body must be a JSON object")
    return document


class _ControlEndpoints:
    """Handlers for ``/_emulator/*`` bound to one instance's state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def get_stats(self, request: Request) -> Response:
        return JSONResponse(self.state.stats.snapshot())

    async def reset_stats(self, request: Request) -> Response:
        try:
            await json_body_of(request, required=False)
        except ConfigError as exc:
            return control_error(400, str(exc))
        self.state.stats.reset()
        return JSONResponse(self.state.stats.snapshot())

    async def get_config(self, request: Request) -> Response:
        return JSONResponse(self.state.settings())

    async def post_config(self, request: Request) -> Response:
        try:
            return JSONResponse(self.state.configure(await json_body_of(request, required=True)))
        except ConfigError as exc:
            return control_error(400, str(exc))

    async def post_token(self, request: Request) -> Response:
        try:
            body = await json_body_of(request, required=False)
            unknown = sorted(set(body) - {"expires_in"})
            if unknown:
                raise ConfigError(f"unknown token setting(s) {unknown}; allowed: ['expires_in']")
            expires_in = parse_expires_in(body.get("expires_in"))
        except (ConfigError, InvalidTokenRequest) as exc:
            return control_error(400, str(exc))
        base = _base_url(request)
        minted = {
            "access_token": self.state.mint_token(base, expires_in),
            "token_type": "Bearer",
            "expires_in": expires_in,
            "expires_on": int(time.time()) + expires_in,
            "resource": base,
        }
        return JSONResponse(minted, headers={"Cache-Control": "no-store"})

    async def get_requests(self, request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit():
            return control_error(400, f"limit must be a non-negative integer, got {raw!r}")
        return JSONResponse({"requests": self.state.stats.recent(int(raw))})

    async def index(self, request: Request) -> Response:
        base = _base_url(request)
        return JSONResponse(
            {
                "service": "callnotes Dataverse Web API emulator",
                "service_root": f"{base}/api/data/v9.2",
                "demo_user_id": self.state.service.demo_user_id,
                "token_endpoint": f"{base}/_emulator/token",
                "docs": "docs/emulator.md",
            }
        )


def control_routes(state: EmulatorState) -> list[BaseRoute]:
    """Routes for ``/_emulator/*`` (and ``/``), bound to one instance's state."""
    endpoints = _ControlEndpoints(state)
    return [
        Route("/", endpoints.index, methods=["GET"]),
        Route("/_emulator/stats", endpoints.get_stats, methods=["GET"]),
        Route("/_emulator/stats/reset", endpoints.reset_stats, methods=["POST"]),
        Route("/_emulator/config", endpoints.get_config, methods=["GET"]),
        Route("/_emulator/config", endpoints.post_config, methods=["POST"]),
        Route("/_emulator/token", endpoints.post_token, methods=["POST"]),
        Route("/_emulator/requests", endpoints.get_requests, methods=["GET"]),
    ]
