"""``/_emulator/webhooks``: register, list and remove webhooks in one call (DESIGN.md §Contracts).

``POST /_emulator/webhooks`` ``{"url", "entity", "messages": ["Create", "Update", "Delete"], "auth":
{"type": "WebhookKey" | "HttpHeader" | "HttpQueryString", "name"?, "value"}}`` → ``{"id"}`` does what an
administrator does through the Web API (register-web-hook.md), as the demo user and in one transaction:
one ``serviceendpoints`` row (contract 8, the auth type and value), one asynchronous post-operation
``sdkmessageprocessingsteps`` row per message on the table, and one ``sdkmessageprocessingstepimages``
row per step (alias ``Image``, every column: a PostImage on Create, Both on Update, a PreImage on
Delete). The id is the serviceendpoint's. ``GET`` lists the webhooks (any ``serviceendpoints`` with
contract 8, however registered) with their steps and delivery counts; ``DELETE /_emulator/webhooks/{id}``
removes the images, steps and endpoint.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callnotes.emulator.config import ConfigError
from callnotes.emulator.control import EmulatorState, control_error, json_body_of
from callnotes.emulator.messages import ApiRequest
from callnotes.emulator.plugin_tables import (
    AUTH_HTTP_HEADER,
    AUTH_HTTP_QUERY_STRING,
    AUTH_TYPES,
    AUTH_WEBHOOK_KEY,
    CONTRACT_WEBHOOK,
    MESSAGES,
    MODE_ASYNCHRONOUS,
    STAGE_POST_OPERATION,
    filter_id,
    message_id,
)
from callnotes.emulator.tables import Table
from callnotes.emulator.webhooks import settings_xml

_API_PREFIX = "/api/data/v9.2"
_AUTH = {
    "WebhookKey": AUTH_WEBHOOK_KEY,
    "HttpHeader": AUTH_HTTP_HEADER,
    "HttpQueryString": AUTH_HTTP_QUERY_STRING,
}
_AUTH_NAMES: dict[int, str] = {**AUTH_TYPES, **{value: name for name, value in _AUTH.items()}}
_IMAGE_TYPE = {"Create": 1, "Update": 2, "Delete": 0}


class _Failed(Exception):
    """A Web API request of the registration failed; the transaction is rolled back."""


def _spec(body: Mapping[str, Any], tables: Mapping[str, Any]) -> dict[str, Any]:
    """The registration, checked: every problem is a `ConfigError` naming the field."""
    unknown = sorted(set(body) - {"url", "entity", "messages", "auth"})
    if unknown:
        raise ConfigError(f"unknown webhook field(s) {unknown}; allowed: url, entity, messages, auth")
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError("url must be an http:// or https:// URL")
    entity = body.get("entity")
    if not isinstance(entity, str) or entity not in tables:
        raise ConfigError(f"entity must be the logical name of a table (e.g. 'account'), got {entity!r}")
    messages = body.get("messages")
    if (not isinstance(messages, list) or not messages or len(set(messages)) != len(messages)
            or not set(messages) <= set(MESSAGES)):
        raise ConfigError(f"messages must be a non-empty list of distinct names among {list(MESSAGES)}")
    return {"url": url, "entity": entity, "messages": messages, **_auth(body.get("auth"))}


def _auth(auth: object) -> dict[str, Any]:
    if not isinstance(auth, Mapping) or auth.get("type") not in _AUTH:
        raise ConfigError(f"auth must be an object with type one of {list(_AUTH)}")
    value, name = auth.get("value"), auth.get("name")
    if not isinstance(value, str) or not value:
        raise ConfigError("auth.value must be a non-empty string")
    kind = _AUTH[auth["type"]]
    if kind == AUTH_WEBHOOK_KEY:
        return {"authtype": kind, "authvalue": value}
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"auth.name is required for {auth['type']}")
    return {"authtype": kind, "authvalue": settings_xml([(name.strip(), value)])}


def _register(state: EmulatorState, spec: Mapping[str, Any], base_url: str) -> str:
    endpoint_id = str(uuid.uuid4())
    endpoint = {"serviceendpointid": endpoint_id, "name": f"Webhook {spec['url']}", "url": spec["url"],
                "contract": CONTRACT_WEBHOOK, "authtype": spec["authtype"], "authvalue": spec["authvalue"],
                "messageformat": 2, "userclaim": 1}
    with state.service_lock, state.service.transaction():
        _call(state, base_url, "POST", "serviceendpoints", endpoint)
        for message in spec["messages"]:
            step_id = str(uuid.uuid4())
            _call(state, base_url, "POST", "sdkmessageprocessingsteps", {
                "sdkmessageprocessingstepid": step_id,
                "name": f"{message} of {spec['entity']}: {spec['url']}",
                "mode": MODE_ASYNCHRONOUS, "stage": STAGE_POST_OPERATION, "rank": 1, "asyncautodelete": False,
                "supporteddeployment": 0,
                "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint_id})",
                "sdkmessageid@odata.bind": f"/sdkmessages({message_id(message)})",
                "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id(message, spec['entity'])})",
            })
            _call(state, base_url, "POST", "sdkmessageprocessingstepimages", {
                "name": "Image", "entityalias": "Image", "imagetype": _IMAGE_TYPE[message],
                "messagepropertyname": "Id" if message == "Delete" else "Target",
                "sdkmessageprocessingstepid@odata.bind": f"/sdkmessageprocessingsteps({step_id})",
            })
    return endpoint_id


def _call(state: EmulatorState, base: str, method: str, path: str, body: Mapping[str, Any] | None) -> None:
    content = json.dumps(body).encode() if body is not None else b""
    request = ApiRequest(method, path, "", {"content-type": "application/json"}, content,
                         state.service.demo_user_id, base + _API_PREFIX)
    answer = state.service.handle(request)
    if answer.status >= 400:
        raise _Failed(answer.body.decode("utf-8", errors="replace"))


def _listing(state: EmulatorState) -> list[dict[str, Any]]:
    database = state.service.database
    with state.service_lock:
        steps = list(database.tables["sdkmessageprocessingstep"].rows.values())
        filters, messages = database.tables["sdkmessagefilter"], database.tables["sdkmessage"]
        found = []
        for endpoint in database.tables["serviceendpoint"].rows.values():
            if endpoint.get("contract") != CONTRACT_WEBHOOK:
                continue
            endpoint_id = str(endpoint["serviceendpointid"])
            mine = [s for s in steps if s.get("eventhandler") == endpoint_id]
            entities = {_value_of(filters, s.get("sdkmessagefilterid"), "primaryobjecttypecode")
                        for s in mine}
            names = [_value_of(messages, s.get("sdkmessageid"), "name") for s in mine]
            auth_type = endpoint.get("authtype")
            found.append({
                "id": endpoint_id, "url": endpoint.get("url"), "entity": ", ".join(sorted(entities)),
                "messages": names,
                "auth": {"type": _AUTH_NAMES.get(auth_type, "?") if isinstance(auth_type, int) else "?"},
                "deliveries": state.webhooks.counts(endpoint_id).as_json(),
            })
    return found


def _value_of(table: Table, record_id: object, column: str) -> str:
    return str((table.get(str(record_id)) or {}).get(column))


def _remove(state: EmulatorState, endpoint_id: str, base_url: str) -> bool:
    database = state.service.database
    with state.service_lock:
        if database.tables["serviceendpoint"].get(endpoint_id) is None:
            return False
        steps = [str(s["sdkmessageprocessingstepid"])
                 for s in database.tables["sdkmessageprocessingstep"].rows.values()
                 if s.get("eventhandler") == endpoint_id.lower()]
        images = [str(i["sdkmessageprocessingstepimageid"])
                  for i in database.tables["sdkmessageprocessingstepimage"].rows.values()
                  if i.get("sdkmessageprocessingstepid") in steps]
        with state.service.transaction():
            for image_id in images:
                _call(state, base_url, "DELETE", f"sdkmessageprocessingstepimages({image_id})", None)
            for step_id in steps:
                _call(state, base_url, "DELETE", f"sdkmessageprocessingsteps({step_id})", None)
            _call(state, base_url, "DELETE", f"serviceendpoints({endpoint_id.lower()})", None)
    return True


class _WebhookEndpoints:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def create(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        try:
            spec = _spec(await json_body_of(request, required=True), self.state.service.database.tables)
            endpoint_id = await anyio.to_thread.run_sync(_register, self.state, spec, base)
        except ConfigError as exc:
            return control_error(400, str(exc))
        except _Failed as exc:
            return control_error(500, f"the registration failed and was rolled back: {exc}")
        return JSONResponse({"id": endpoint_id}, status_code=201)

    async def list(self, request: Request) -> Response:
        return JSONResponse({"webhooks": await anyio.to_thread.run_sync(_listing, self.state)})

    async def delete(self, request: Request) -> Response:
        endpoint_id = request.path_params["webhook_id"]
        try:
            uuid.UUID(endpoint_id)
            await json_body_of(request, required=False)
            base = str(request.base_url).rstrip("/")
            removed = await anyio.to_thread.run_sync(_remove, self.state, endpoint_id, base)
        except (ValueError, ConfigError) as exc:
            return control_error(400, str(exc))
        except _Failed as exc:
            return control_error(500, f"removing the webhook failed and was rolled back: {exc}")
        if not removed:
            return control_error(404, f"no webhook with id {endpoint_id}")
        return Response(status_code=204)


def webhook_routes(state: EmulatorState) -> list[BaseRoute]:
    endpoints = _WebhookEndpoints(state)
    return [
        Route("/_emulator/webhooks", endpoints.create, methods=["POST"]),
        Route("/_emulator/webhooks", endpoints.list, methods=["GET"]),
        Route("/_emulator/webhooks/{webhook_id}", endpoints.delete, methods=["DELETE"]),
    ]
