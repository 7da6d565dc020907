"""The emulator's webhooks: registration as Dataverse keeps it (serviceendpoints, steps, images) and
through ``/_emulator/webhooks``, the RemoteExecutionContext it posts after each commit, authentication,
retries with backoff, nothing for rolled-back work, and the control endpoints' errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from callnotes.dataverse import parse_remote_context
from callnotes.emulator.plugin_tables import filter_id, message_id
from tests.fixtures.emulator import web_api_client
from tests.integration.dataverse.dv_helpers import serve


@dataclass
class Receiver:
    """A webhook endpoint that records what it gets and answers the statuses it is told to."""

    url: str = ""
    got: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    async def endpoint(self, request: Request) -> JSONResponse:
        self.got.append(
            {
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "body": json.loads(await request.body()),
                "at": time.monotonic(),
            }
        )
        self.arrived.set()
        return JSONResponse({}, status_code=self.answers.pop(0) if self.answers else 200)

    def wait(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.got) >= count, f"{len(self.got)} deliveries, expected {count}"
        return self.got


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with serve(Starlette(routes=[Route("/hook", hook.endpoint, methods=["POST"])])) as url:
        hook.url = f"{url}/hook"
        yield hook


def _register(
    emu: Any,
    url: str,
    entity: str = "msp_engagementmilestone",
    messages: tuple[str, ...] = ("Update",),
    auth: dict | None = None,
) -> httpx.Response:
    body = {
        "url": url,
        "entity": entity,
        "messages": list(messages),
        "auth": auth or {"type": "WebhookKey", "value": "k"},
    }
    return httpx.post(f"{emu.url}/_emulator/webhooks", json=body)


def _milestone(emu: Any) -> str:
    return next(iter(emu.service.database.table("msp_engagementmilestone").rows))


def test_an_update_posts_the_documented_context_with_key_and_headers(
    fresh_emulator: Any, receiver: Receiver
) -> None:
    assert _register(fresh_emulator, receiver.url).status_code == 201
    milestone = _milestone(fresh_emulator)
    with web_api_client(fresh_emulator, json_body=True) as api:
        assert (
            api.patch(
                f"msp_engagementmilestones({milestone})",
                json={"msp_name": "Renamed", "msp_monthlyuse": 1200.0},
            ).status_code
            == 204
        )
    [delivery] = receiver.wait(1)
    assert delivery["query"] == {"code": "k"}
    headers = delivery["headers"]
    assert (
        headers["content-type"] == "application/json"
        and headers["x-ms-dynamics-entity-name"] == "msp_engagementmilestone"
    )
    assert headers["x-ms-dynamics-request-name"] == "Update" and headers["x-ms-correlation-request-id"]
    assert headers["x-ms-dynamics-organization"] == fresh_emulator.url.split("//")[1]
    body = delivery["body"]
    assert (body["MessageName"], body["PrimaryEntityName"], body["PrimaryEntityId"]) == (
        "Update",
        "msp_engagementmilestone",
        milestone,
    )
    assert (body["Stage"], body["Mode"], body["Depth"], body["UserId"]) == (
        40,
        1,
        1,
        fresh_emulator.demo_user_id,
    )
    assert body["OwningExtension"]["LogicalName"] == "sdkmessageprocessingstep"
    context = parse_remote_context(body)  # callnotes' own parser reads it
    target = {a["key"]: a["value"] for a in body["InputParameters"][0]["value"]["Attributes"]}
    assert set(target) == {"msp_name", "msp_monthlyuse", "msp_engagementmilestoneid", "modifiedon"}
    assert target["msp_monthlyuse"] == {
        "__type": "Money:http://schemas.microsoft.com/xrm/2011/Contracts",
        "Value": 1200.0,
    }
    assert context.after()["msp_name"] == "Renamed"
    images = {image["key"] for image in body["PostEntityImages"]} | {
        image["key"] for image in body["PreEntityImages"]
    }
    assert images == {"Image", "AsynchronousStepPrimaryName"}
    before = {a["key"]: a["value"] for a in body["PreEntityImages"][0]["value"]["Attributes"]}
    assert before["msp_name"] != "Renamed" and "msp_milestonestatus" in before


def test_registration_through_the_web_api_as_in_dataverse(fresh_emulator: Any, receiver: Receiver) -> None:
    """serviceendpoints + sdkmessageprocessingsteps, HttpHeader auth in the settings XML, filtering
    attributes: only a change of a listed column fires."""
    with web_api_client(fresh_emulator, json_body=True, prefer="return=representation") as api:
        endpoint = api.post(
            "serviceendpoints",
            json={
                "name": "hook",
                "url": receiver.url,
                "contract": 8,
                "authtype": 5,
                "messageformat": 2,
                "authvalue": '<settings><setting name="X-Key" value="v1" /></settings>',
            },
        ).json()
        assert endpoint["authvalue"] is None  # serviceendpoint.md: AuthValue is not valid for read
        endpoint_id = endpoint["serviceendpointid"]
        update_filter = filter_id("Update", "msp_engagementmilestone")
        step = api.post(
            "sdkmessageprocessingsteps",
            json={
                "name": "on rename",
                "mode": 1,
                "stage": 40,
                "rank": 1,
                "filteringattributes": "msp_name",
                "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint_id})",
                "sdkmessageid@odata.bind": f"/sdkmessages({message_id('Update')})",
                "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({update_filter})",
            },
        )
        assert step.status_code == 201, step.text
        milestone = _milestone(fresh_emulator)
        api.patch(f"msp_engagementmilestones({milestone})", json={"msp_monthlyuse": 5.0})  # not filtered in
        api.patch(f"msp_engagementmilestones({milestone})", json={"msp_name": "Via the Web API"})
    [delivery] = receiver.wait(1)
    time.sleep(0.5)
    assert len(receiver.got) == 1 and delivery["headers"]["x-key"] == "v1" and delivery["query"] == {}
    assert delivery["body"]["PreEntityImages"] == []  # no image registered on this step
    listing = httpx.get(f"{fresh_emulator.url}/_emulator/webhooks").json()["webhooks"]
    assert [(w["id"], w["auth"]["type"], w["deliveries"]["delivered"]) for w in listing] == [
        (endpoint["serviceendpointid"], "HttpHeader", 1)
    ]


def test_failed_deliveries_are_retried_with_backoff_and_4xx_fail_at_once(
    fresh_emulator: Any, receiver: Receiver
) -> None:
    webhook = _register(
        fresh_emulator, receiver.url, auth={"type": "HttpQueryString", "name": "sig", "value": "x"}
    )
    receiver.answers = [503, 500, 200]
    started = time.monotonic()
    with web_api_client(fresh_emulator, json_body=True) as api:
        answer = api.patch(
            f"msp_engagementmilestones({_milestone(fresh_emulator)})", json={"msp_name": "Retry me"}
        )
    # The three tries take at least 1.5 s (0.5 s, then 1 s of backoff): the request never waits for them.
    assert answer.status_code == 204 and time.monotonic() - started < 1.2
    got = receiver.wait(3)
    assert [g["query"] for g in got] == [{"sig": "x"}] * 3
    gaps = [got[i + 1]["at"] - got[i]["at"] for i in range(2)]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.9  # 0.5 s, then 1 s
    assert len({g["body"]["OperationId"] for g in got}) == 1  # one system job, tried three times
    counts = _counts(fresh_emulator, webhook.json()["id"])
    assert (counts["delivered"], counts["failed"], counts["attempts"], counts["pending"]) == (1, 0, 3, 0)
    receiver.answers = [403]
    with web_api_client(fresh_emulator, json_body=True) as api:
        api.patch(f"msp_engagementmilestones({_milestone(fresh_emulator)})", json={"msp_name": "Refused"})
    receiver.wait(4)
    time.sleep(0.8)
    counts = _counts(fresh_emulator, webhook.json()["id"])
    assert len(receiver.got) == 4 and (counts["failed"], counts["last_status"]) == (1, 403)


def _counts(emu: Any, webhook_id: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        listing = httpx.get(f"{emu.url}/_emulator/webhooks").json()["webhooks"]
        counts = next(w["deliveries"] for w in listing if w["id"] == webhook_id)
        if counts["pending"] == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def test_rolled_back_work_raises_no_event_and_a_change_set_raises_one_per_operation(
    fresh_emulator: Any, receiver: Receiver
) -> None:
    _register(fresh_emulator, receiver.url, entity="account", messages=("Create",))
    with web_api_client(fresh_emulator, json_body=True) as api:
        duplicate = next(iter(fresh_emulator.service.database.table("account").rows.values()))[
            "accountnumber"
        ]
        refused = api.post("accounts", json={"name": "Twin", "accountnumber": duplicate})
        assert refused.status_code == 412  # alternate key taken: nothing committed, nothing posted
        api.post("accounts", json={"name": "Fresh one", "accountnumber": "Z-1"})
    [delivery] = receiver.wait(1)
    time.sleep(0.5)
    assert len(receiver.got) == 1 and delivery["body"]["MessageName"] == "Create"
    assert delivery["body"]["OutputParameters"][0]["key"] == "id"


def test_deletes_carry_a_reference_and_the_pre_image(fresh_emulator: Any, receiver: Receiver) -> None:
    _register(fresh_emulator, receiver.url, entity="task", messages=("Delete",))
    task = next(iter(fresh_emulator.service.database.table("task").rows.values()))
    with web_api_client(fresh_emulator) as api:
        assert api.delete(f"tasks({task['activityid']})").status_code == 204
    body = receiver.wait(1)[0]["body"]
    target = body["InputParameters"][0]["value"]
    assert target["__type"].startswith("EntityReference:") and target["Id"] == task["activityid"]
    subject = {a["key"]: a["value"] for a in body["PreEntityImages"][0]["value"]["Attributes"]}["subject"]
    assert subject == task["subject"] and body["PostEntityImages"] == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {
                "url": "ftp://x",
                "entity": "account",
                "messages": ["Create"],
                "auth": {"type": "WebhookKey", "value": "k"},
            },
            "url must be",
        ),
        (
            {
                "url": "http://x",
                "entity": "nope",
                "messages": ["Create"],
                "auth": {"type": "WebhookKey", "value": "k"},
            },
            "entity must be",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": ["Merge"],
                "auth": {"type": "WebhookKey", "value": "k"},
            },
            "messages must be",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": [],
                "auth": {"type": "WebhookKey", "value": "k"},
            },
            "messages must be",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": ["Create"],
                "auth": {"type": "SAS", "value": "k"},
            },
            "auth must be",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": ["Create"],
                "auth": {"type": "HttpHeader", "value": "k"},
            },
            "auth.name is required",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": ["Create"],
                "auth": {"type": "WebhookKey", "value": ""},
            },
            "auth.value",
        ),
        (
            {
                "url": "http://x",
                "entity": "account",
                "messages": ["Create"],
                "auth": {"type": "WebhookKey", "value": "k"},
                "extra": 1,
            },
            "unknown webhook field",
        ),
    ],
)
def test_bad_registrations_are_400_and_register_nothing(fresh_emulator: Any, body: dict, says: str) -> None:
    answer = httpx.post(f"{fresh_emulator.url}/_emulator/webhooks", json=body)
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]
    assert httpx.get(f"{fresh_emulator.url}/_emulator/webhooks").json() == {"webhooks": []}
    assert len(fresh_emulator.service.database.table("serviceendpoint").rows) == 0


def test_delete_removes_the_endpoint_its_steps_and_images(fresh_emulator: Any, receiver: Receiver) -> None:
    webhook_id = _register(fresh_emulator, receiver.url, messages=("Create", "Update", "Delete")).json()["id"]
    database = fresh_emulator.service.database
    assert len(database.table("sdkmessageprocessingstep").rows) == 3
    assert len(database.table("sdkmessageprocessingstepimage").rows) == 3
    assert httpx.delete(f"{fresh_emulator.url}/_emulator/webhooks/{webhook_id}").status_code == 204
    assert httpx.delete(f"{fresh_emulator.url}/_emulator/webhooks/{webhook_id}").status_code == 404
    assert httpx.delete(f"{fresh_emulator.url}/_emulator/webhooks/not-an-id").status_code == 400
    for table in ("serviceendpoint", "sdkmessageprocessingstep", "sdkmessageprocessingstepimage"):
        assert len(database.table(table).rows) == 0
    with web_api_client(fresh_emulator, json_body=True) as api:
        api.patch(
            f"msp_engagementmilestones({_milestone(fresh_emulator)})", json={"msp_name": "Nobody hears"}
        )
    time.sleep(0.5)
    assert receiver.got == []
