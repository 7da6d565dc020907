"""Webhook delivery: after each commit, the registered steps that match post a RemoteExecutionContext.

Registrations are rows of the emulator's own tables (plugin_tables.py), made through the Web API as in
Dataverse or through ``POST /_emulator/webhooks`` (webhook_control.py). For each committed Create /
Update / Delete the dispatcher finds the enabled ``sdkmessageprocessingstep`` rows of that message and
table (an Update only when a ``filteringattributes`` column changed, if the step names any), builds the
context (execution_context.py) and queues one delivery per step — the request that made the change is
answered without waiting. A worker thread posts them as the asynchronous service runs system jobs:
``Content-Type: application/json``, the ``x-ms-dynamics-organization`` / ``-entity-name`` /
``-request-name`` and ``x-ms-correlation-request-id`` headers (use-webhooks.md "Header Data"), and the
endpoint's authentication (register-web-hook.md "Authentication options": WebhookKey ``?code=<value>``;
HttpHeader and HttpQueryString from the ``<settings><setting name=… value=…/></settings>`` authvalue the
Plug-in Registration tool writes). A 2xx answer is success. Network errors, timeouts (60 s, the
documented webhook timeout), 408, 429 and 5xx are retried with exponential backoff (0.5 s, 1 s, 2 s …)
up to `MAX_ATTEMPTS` tries; any other answer fails the delivery at once. Dataverse documents a retry of
failed system jobs but not its schedule; these numbers are the emulator's.

Only asynchronous post-operation steps (``mode`` 1, ``stage`` 40) deliver: a synchronous step that
could fail the request is not emulated.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from callnotes.emulator.change_feed import Change, ChangeFeed
from callnotes.emulator.execution_context import Step, StepImage, execution_context
from callnotes.emulator.formatting import RecordWriter
from callnotes.emulator.plugin_tables import (
    AUTH_HTTP_HEADER,
    AUTH_HTTP_QUERY_STRING,
    AUTH_WEBHOOK_KEY,
    CONTRACT_WEBHOOK,
    MODE_ASYNCHRONOUS,
    STAGE_POST_OPERATION,
    filter_id,
    message_id,
)
from callnotes.emulator.tables import Database, Row

_log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0
TIMEOUT_S = 60.0
#: The documented error of an HttpHeader / HttpQueryString authvalue that is not the settings XML.
BAD_AUTH_VALUE = (
    "The webhook call failed because of invalid http headers in authValue. Check if the authValue "
    "format, header names and values are valid for your Service Endpoint entity. (0x80050203)"
)


class BadAuthValue(ValueError):
    """A serviceendpoint's authvalue that cannot be turned into headers or query parameters."""


@dataclass
class DeliveryCounts:
    """What happened to one endpoint's deliveries since the emulator started."""

    delivered: int = 0
    failed: int = 0
    attempts: int = 0
    pending: int = 0
    last_status: int | None = None
    last_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed, "attempts": self.attempts,
                "pending": self.pending, "last_status": self.last_status, "last_error": self.last_error}


@dataclass
class _Delivery:
    endpoint_id: str
    url: str
    headers: dict[str, str]
    body: bytes
    attempts: int = 0


@dataclass
class _Queue:
    heap: list[tuple[float, int, _Delivery]] = field(default_factory=list)
    order: Iterator[int] = field(default_factory=itertools.count)


class WebhookDispatcher:
    """Listens to a service's committed changes and delivers them to the registered webhooks."""

    def __init__(self, database: Database, records: RecordWriter, feed: ChangeFeed, *,
                 max_attempts: int = MAX_ATTEMPTS, first_retry_s: float = FIRST_RETRY_S,
                 timeout_s: float = TIMEOUT_S) -> None:
        self._database, self._records = database, records
        self.max_attempts, self.first_retry_s, self.timeout_s = max_attempts, first_retry_s, timeout_s
        self._queue = _Queue()
        self._counts: dict[str, DeliveryCounts] = {}
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        feed.subscribe(self._on_changes)

    # -- what the control endpoints read ---------------------------------------------------------
    def counts(self, endpoint_id: str) -> DeliveryCounts:
        with self._lock:
            return DeliveryCounts(**vars(self._counts.get(endpoint_id, DeliveryCounts())))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- queueing (called under the service lock, right after a commit) ---------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        for change in changes:
            request_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
            organization = urlsplit(change.service_root).netloc
            for endpoint, step in self._steps_for(change):
                context = execution_context(change, step, self._records, request_id=request_id,
                                            correlation_id=correlation_id, organization_name=organization)
                headers = {"Content-Type": "application/json", "x-ms-dynamics-organization": organization,
                           "x-ms-dynamics-entity-name": change.entity.logical_name,
                           "x-ms-dynamics-request-name": change.message,
                           "x-ms-correlation-request-id": correlation_id}
                self._queue_delivery(endpoint, headers, json.dumps(context).encode("utf-8"))

    def _steps_for(self, change: Change) -> Iterator[tuple[Row, Step]]:
        steps = self._database.tables["sdkmessageprocessingstep"].rows.values()
        endpoints = self._database.tables["serviceendpoint"]
        wanted_message = message_id(change.message)
        wanted_filter = filter_id(change.message, change.entity.logical_name)
        for row in steps:
            if row.get("sdkmessageid") != wanted_message or row.get("sdkmessagefilterid") != wanted_filter:
                continue
            endpoint = endpoints.get(str(row.get("eventhandler") or ""))
            if endpoint is None or endpoint.get("contract") != CONTRACT_WEBHOOK or row.get("statecode") == 1:
                continue
            if row.get("mode") != MODE_ASYNCHRONOUS or row.get("stage") != STAGE_POST_OPERATION:
                _log.info("webhook step %s skipped: only asynchronous post-operation steps are emulated",
                          row["sdkmessageprocessingstepid"])
                continue
            if change.message == "Update" and not _filtered_in(row, change):
                continue
            yield endpoint, self._step(row)

    def _step(self, row: Row) -> Step:
        step_id = str(row["sdkmessageprocessingstepid"])
        images = tuple(
            StepImage(str(image.get("entityalias") or image.get("name") or "Image"),
                      pre=image.get("imagetype") in (0, 2), post=image.get("imagetype") in (1, 2),
                      columns=_column_list(image.get("attributes")))
            for image in self._database.tables["sdkmessageprocessingstepimage"].rows.values()
            if image.get("sdkmessageprocessingstepid") == step_id
        )
        mode, stage = int(str(row["mode"])), int(str(row["stage"]))
        return Step(step_id, str(row.get("name") or ""), mode, stage, images)

    def _queue_delivery(self, endpoint: Row, headers: dict[str, str], body: bytes) -> None:
        endpoint_id = str(endpoint["serviceendpointid"])
        with self._lock:
            counts = self._counts.setdefault(endpoint_id, DeliveryCounts())
            try:
                url, extra = delivery_target(endpoint)
            except BadAuthValue as exc:
                counts.failed, counts.last_error = counts.failed + 1, str(exc)
                return
            counts.pending += 1
            self._push(_Delivery(endpoint_id, url, {**headers, **extra}, body), time.monotonic())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="emulator-webhooks", daemon=True)
                self._thread.start()

    def _push(self, delivery: _Delivery, due: float) -> None:
        heapq.heappush(self._queue.heap, (due, next(self._queue.order), delivery))
        self._lock.notify_all()

    # -- the worker ------------------------------------------------------------------------------
    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                delivery = self._next()
                if delivery is None:
                    return
                self._finish(delivery, *_post(client, delivery))

    def _next(self) -> _Delivery | None:
        with self._lock:
            while not self._closed:
                if self._queue.heap and self._queue.heap[0][0] <= time.monotonic():
                    return heapq.heappop(self._queue.heap)[2]
                wait = self._queue.heap[0][0] - time.monotonic() if self._queue.heap else None
                self._lock.wait(timeout=wait)
            return None

    def _finish(self, delivery: _Delivery, status: int | None, error: str | None) -> None:
        delivery.attempts += 1
        with self._lock:
            counts = self._counts[delivery.endpoint_id]
            counts.attempts, counts.last_status = counts.attempts + 1, status
            if status is not None and 200 <= status < 300:
                counts.delivered, counts.pending = counts.delivered + 1, counts.pending - 1
                counts.last_error = None
                return
            counts.last_error = error or f"the endpoint answered {status}"
            if _transient(status) and delivery.attempts < self.max_attempts:
                wait = min(MAX_RETRY_S, self.first_retry_s * 2 ** (delivery.attempts - 1))
                self._push(delivery, time.monotonic() + wait)
                return
            counts.failed, counts.pending = counts.failed + 1, counts.pending - 1
            _log.info("webhook delivery to %s failed after %d attempt(s): %s", delivery.url,
                      delivery.attempts, counts.last_error)


def delivery_target(endpoint: Row) -> tuple[str, dict[str, str]]:
    """The URL to post to and the extra headers, from the endpoint's ``authtype`` and ``authvalue``."""
    url, auth_type = str(endpoint.get("url") or ""), endpoint.get("authtype")
    value = endpoint.get("authvalue")
    if auth_type == AUTH_WEBHOOK_KEY:
        return _with_query(url, [("code", str(value or ""))]), {}
    if auth_type == AUTH_HTTP_QUERY_STRING:
        return _with_query(url, settings_pairs(value)), {}
    if auth_type == AUTH_HTTP_HEADER:
        return url, dict(settings_pairs(value))
    return url, {}


def settings_pairs(value: object) -> list[tuple[str, str]]:
    """``<settings><setting name="k" value="v" /></settings>`` → ``[("k", "v")]``."""
    text = str(value or "")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise BadAuthValue(BAD_AUTH_VALUE)
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTDs (checked above); expat limits expansion
    except ET.ParseError as exc:
        raise BadAuthValue(BAD_AUTH_VALUE) from exc
    pairs = [(s.get("name") or "", s.get("value") or "") for s in root.iter("setting")]
    if root.tag != "settings" or not pairs or not all(name.strip() for name, _ in pairs):
        raise BadAuthValue(BAD_AUTH_VALUE)
    return pairs


def settings_xml(pairs: list[tuple[str, str]]) -> str:
    """The authvalue for HttpHeader / HttpQueryString pairs (the inverse of `settings_pairs`)."""
    root = ET.Element("settings")
    for name, value in pairs:
        ET.SubElement(root, "setting", {"name": name, "value": value})
    return ET.tostring(root, encoding="unicode")


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(pairs)


def _filtered_in(step: Row, change: Change) -> bool:
    columns = _column_list(step.get("filteringattributes"))
    return columns is None or bool(columns & set(change.target))


def _column_list(text: object) -> frozenset[str] | None:
    names = frozenset(part.strip().lower() for part in str(text or "").split(",") if part.strip())
    return names or None


def _transient(status: int | None) -> bool:
    return status is None or status in (408, 429) or status >= 500


def _post(client: httpx.Client, delivery: _Delivery) -> tuple[int | None, str | None]:
    try:
        answer = client.post(delivery.url, content=delivery.body, headers=delivery.headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return answer.status_code, None if answer.is_success else f"the endpoint answered {answer.status_code}"
