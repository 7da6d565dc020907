"""The request pipeline: headers, bearer token (refresh once on 401), retries, typed errors.

Required headers per powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md
(HTTP headers): ``OData-MaxVersion: 4.0``, ``OData-Version: 4.0``, ``Accept: application/json``,
``If-None-Match: null`` on reads (don't serve a cached answer), ``Prefer: odata.include-annotations="*"``
for formatted values and lookup names (reference/000 "Required Headers").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from callnotes.dataverse.auth import TokenProvider
from callnotes.dataverse.errors import (
    AuthError,
    BadResponse,
    DataverseError,
    ServerError,
    Throttled,
    TransportError,
    error_from_response,
)
from callnotes.dataverse.retry import RetryPolicy, RetryState, parse_retry_after

logger = logging.getLogger(__name__)

ANNOTATIONS_ALL = 'odata.include-annotations="*"'
BASE_HEADERS = {
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "Accept": "application/json",
}
#: Connection failures after which a non-idempotent request is still safe to resend: it never left.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Call:
    """One logical request. ``idempotent`` decides whether lost answers may be retried."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None = None
    idempotent: bool = True
    what: str = "request"
    multipart_errors: bool = False  # $batch: an error status with a multipart body is handed back


class Pipeline:
    """Sends :class:`Call` objects through one shared httpx connection pool."""

    def __init__(self, http: httpx.Client, tokens: TokenProvider, retry: RetryPolicy) -> None:
        self.http = http
        self.tokens = tokens
        self.retry = retry
        self.requests_sent = 0
        self.retries = 0

    def _headers(self, call: Call, token: str) -> dict[str, str]:
        headers = {**BASE_HEADERS, "Authorization": f"Bearer {token}"}
        if call.method == "GET":
            headers["If-None-Match"] = "null"
            headers["Prefer"] = ANNOTATIONS_ALL
        headers.update(call.headers)
        if call.content is not None and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return headers

    def _attempt(self, call: Call, *, force_refresh: bool) -> httpx.Response:
        token = self.tokens.get_token(force_refresh=force_refresh).token
        self.requests_sent += 1
        return self.http.request(
            call.method, call.url, headers=self._headers(call, token), content=call.content
        )

    def send(self, call: Call) -> httpx.Response:
        """The successful response, or the typed DataverseError once retries and budget are spent."""
        state = self.retry.start()
        refreshed = False
        force_refresh = False
        while True:
            state.attempts += 1
            try:
                response = self._attempt(call, force_refresh=force_refresh)
            except httpx.TransportError as exc:
                self._after_transport_error(call, state, exc)
                continue
            force_refresh = False
            status = response.status_code
            if status == 401 and not refreshed:
                refreshed = force_refresh = True  # refresh once, retry once
                logger.info("401 on %s %s: refreshing the token once", call.method, call.what)
                continue
            if status < 400 or (call.multipart_errors and _is_multipart(response)):
                return response
            if state.should_retry_status(status) and (call.idempotent or status == 429):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = state.next_delay(retry_after)
                if delay is not None:
                    self._wait(state, delay, f"{status} on {call.what}")
                    continue
            raise self._final_error(call, response, state)

    def _after_transport_error(self, call: Call, state: RetryState, exc: httpx.TransportError) -> None:
        safe = call.idempotent or isinstance(exc, _NOT_SENT)
        delay = state.next_delay() if safe else None
        if delay is None:
            raise TransportError(
                f"MSX could not be reached for this {call.what} ({type(exc).__name__}) after "
                f"{state.attempts} attempt(s). Check the network / VPN and try again.",
                detail=str(exc)[:200],
            ) from exc
        self._wait(state, delay, f"{type(exc).__name__} on {call.what}")

    def _wait(self, state: RetryState, delay: float, reason: str) -> None:
        self.retries += 1
        logger.info("retrying after %s in %.2f s (attempt %d)", reason, delay, state.attempts)
        state.wait(delay)

    def _final_error(self, call: Call, response: httpx.Response, state: RetryState) -> DataverseError:
        error = error_from_response(response.status_code, response.headers, response.content, what=call.what)
        error.attempts = state.attempts
        if isinstance(error, Throttled | ServerError) and state.attempts > 1:
            error.message = f"{error.message} (gave up after {state.attempts} attempts)"
            error.args = (error.message,)
        if isinstance(error, AuthError) and response.status_code == 401:
            error.message = "MSX refused the sign-in token even after refreshing it. Sign in again."
            error.args = (error.message,)
        return error


def _is_multipart(response: httpx.Response) -> bool:
    return "multipart/mixed" in response.headers.get("content-type", "").lower()


def json_body(response: httpx.Response, *, what: str) -> Any:
    """The decoded JSON of a success answer; BadResponse for HTML, empty or broken bodies."""
    content_type = response.headers.get("content-type", "")
    if not response.content.strip():
        raise BadResponse(f"MSX sent an empty answer to this {what} ({response.status_code})")
    try:
        return response.json()
    except ValueError as exc:
        kind = (
            "an HTML page"
            if "html" in content_type.lower() or response.content.lstrip()[:1] == b"<"
            else ("a body that is not JSON")
        )
        raise BadResponse(
            f"MSX sent {kind} instead of JSON for this {what} ({response.status_code}); "
            "a proxy or sign-in page may be in the way.",
            status=response.status_code,
        ) from exc
