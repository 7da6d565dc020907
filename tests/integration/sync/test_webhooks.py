"""Webhooks end to end: the real app over HTTP with its store imported from the emulator, the emulator
posting RemoteExecutionContexts to ``POST /webhooks/dataverse`` through a registered webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callnotes.config import Settings
from callnotes.emulator import EmulatorConfig, EmulatorServer
from callnotes.store.models import Customer, Milestone, Opportunity, Task, WebhookDelivery
from callnotes.sync.connection import open_client
from callnotes.sync.importing import run_import
from callnotes.sync.runtime import open_runtime
from callnotes.web.app import create_app
from callnotes.web.server import running_server
from tests.fixtures.emulator import web_api_client

KEY = "k3y-for-tests"
SECRET = "s1gning-secret"


@dataclass
class HookBed:
    server: EmulatorServer
    app_url: str
    settings: Settings
    session_factory: sessionmaker[Session]

    @property
    def hook(self) -> str:
        return f"{self.app_url}/webhooks/dataverse"

    def register(self, entity: str, messages: list[str], auth: dict | None = None) -> str:
        body = {"url": self.hook, "entity": entity, "messages": messages,
                "auth": auth or {"type": "WebhookKey", "value": KEY}}
        answer = httpx.post(f"{self.server.url}/_emulator/webhooks", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def deliveries(self, webhook_id: str) -> dict:
        listing = httpx.get(f"{self.server.url}/_emulator/webhooks").json()["webhooks"]
        return next(w["deliveries"] for w in listing if w["id"] == webhook_id)

    def query(self, read: Callable) -> object:
        with self.session_factory() as session:
            return read(session)

    def wait_for(self, read: Callable, expected: object, timeout: float = 10.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.query(read) == expected:
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError(f"still {self.query(read)!r}, not {expected!r}, after {timeout} s")


def _bed(tmp_path: Path, **settings: object) -> Iterator[HookBed]:
    with EmulatorServer(EmulatorConfig(accounts=3, seed=13)) as server:
        config = Settings(crm_url=server.url, auth="emulator", data_dir=tmp_path / "data", webhook_key=KEY,
                          database_url=f"sqlite:///{tmp_path / 'hooks.db'}", **settings)
        with open_runtime(config) as runtime, open_client(config) as client:
            run_import(client, runtime.session_factory)
            with running_server(create_app(config, worker=False)) as url:
                yield HookBed(server, url, config, runtime.session_factory)


@pytest.fixture()
def bed(tmp_path: Path) -> Iterator[HookBed]:
    yield from _bed(tmp_path)


@pytest.fixture()
def signed_bed(tmp_path: Path) -> Iterator[HookBed]:
    yield from _bed(tmp_path, webhook_secret=SECRET)


def _mirrored_milestone(bed: HookBed) -> Milestone:
    return bed.query(lambda s: s.scalars(select(Milestone).where(Milestone.msx_id.is_not(None))
                                         .order_by(Milestone.id)).first())


def _name_of(msx_id: str) -> Callable:
    return lambda s: s.scalar(select(Milestone.name).where(Milestone.msx_id == msx_id))


def test_a_milestone_renamed_in_the_emulator_reaches_the_app_within_seconds(bed: HookBed) -> None:
    milestone = _mirrored_milestone(bed)
    webhook = bed.register("msp_engagementmilestone", ["Update", "Delete"])
    with web_api_client(bed.server, json_body=True) as api:
        answer = api.patch(f"msp_engagementmilestones({milestone.msx_id})",
                           json={"msp_name": "Renamed in MSX", "msp_milestonestatus": 861980002})
        assert answer.status_code == 204
    took = bed.wait_for(_name_of(milestone.msx_id), "Renamed in MSX", timeout=10)
    print(f"the rename reached the app {took:.2f} s after the PATCH")  # shown with pytest -s
    status = bed.query(lambda s: s.scalar(select(Milestone.status_label).where(Milestone.id == milestone.id)))
    assert status == "Blocked"
    assert bed.deliveries(webhook)["delivered"] == 1
    with web_api_client(bed.server) as api:
        assert api.delete(f"msp_engagementmilestones({milestone.msx_id})").status_code == 204
    bed.wait_for(lambda s: s.get(Milestone, milestone.id).gone_from_msx_at is not None, True)


def test_a_header_key_and_tasks_created_under_a_mirrored_milestone(bed: HookBed) -> None:
    milestone = _mirrored_milestone(bed)
    header = {"type": "HttpHeader", "name": "X-Callnotes-Key", "value": KEY}
    bed.register("task", ["Create", "Update"], header)
    with web_api_client(bed.server, json_body=True) as api:
        answer = api.post("tasks", json={
            "subject": "Architecture session", "msp_taskcategory": 861980004, "scheduleddurationminutes": 90,
            "regardingobjectid_msp_engagementmilestone@odata.bind":
                f"/msp_engagementmilestones({milestone.msx_id})",
        }, headers={"Prefer": "return=representation"})
        task_id = answer.json()["activityid"]
    task = lambda s: s.scalars(select(Task).where(Task.msx_id == task_id)).first()  # noqa: E731
    bed.wait_for(lambda s: (t := task(s)) is not None and (t.subject, t.is_hok, t.milestone_id), (
        "Architecture session", True, milestone.id))


def test_wrong_key_or_no_key_is_401_and_changes_nothing(bed: HookBed) -> None:
    milestone = _mirrored_milestone(bed)
    webhook = bed.register("msp_engagementmilestone", ["Update"], {"type": "WebhookKey", "value": "wrong"})
    with web_api_client(bed.server, json_body=True) as api:
        api.patch(f"msp_engagementmilestones({milestone.msx_id})", json={"msp_name": "Should not arrive"})
    deadline = time.monotonic() + 10
    while bed.deliveries(webhook)["failed"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    counts = bed.deliveries(webhook)
    assert (counts["failed"], counts["delivered"], counts["last_status"]) == (1, 0, 401)  # 401 is not retried
    assert bed.query(_name_of(milestone.msx_id)) == milestone.name
    body = _context(milestone.msx_id, "Forged")
    for params in ({}, {"code": "nope"}, {"x-callnotes-key": KEY[:-1]}):
        answer = httpx.post(bed.hook, params=params, content=body)
        assert answer.status_code == 401 and "key" in answer.json()["detail"][0]["msg"]
    assert bed.query(_name_of(milestone.msx_id)) == milestone.name
    assert bed.query(lambda s: s.scalars(select(WebhookDelivery)).all()) == []


def test_signed_deliveries_need_the_right_signature(signed_bed: HookBed) -> None:
    bed = signed_bed
    milestone = _mirrored_milestone(bed)
    body = _context(milestone.msx_id, "Signed rename")
    good = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    for signature in (None, "0" * 64, hmac.new(b"other", body, hashlib.sha256).hexdigest()):
        headers = {"X-MS-Signature": signature} if signature else {}
        answer = httpx.post(bed.hook, params={"code": KEY}, content=body, headers=headers)
        assert answer.status_code == 401 and "Signature" in answer.json()["detail"][0]["msg"]
    assert bed.query(_name_of(milestone.msx_id)) == milestone.name
    tampered = body.replace(b"Signed rename", b"Tampered name")
    assert httpx.post(bed.hook, params={"code": KEY}, content=tampered,
                      headers={"X-MS-Signature": good}).status_code == 401
    answer = httpx.post(bed.hook, params={"code": KEY}, content=body,
                        headers={"X-MS-Signature": good.upper()})
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    assert bed.query(_name_of(milestone.msx_id)) == "Signed rename"


def test_a_repeated_delivery_is_applied_once_and_an_older_one_never_undoes_a_newer(bed: HookBed) -> None:
    milestone = _mirrored_milestone(bed)
    newer = _context(milestone.msx_id, "Newer name", created_ms=1_800_000_000_000)
    older = _context(milestone.msx_id, "Older name", created_ms=1_700_000_000_000)
    first = httpx.post(bed.hook, params={"code": KEY}, content=newer).json()
    again = httpx.post(bed.hook, params={"code": KEY}, content=newer).json()
    late = httpx.post(bed.hook, params={"code": KEY}, content=older).json()
    assert (first["outcome"], again["outcome"], late["outcome"]) == ("applied", "duplicate", "stale")
    assert bed.query(_name_of(milestone.msx_id)) == "Newer name"
    rows = bed.query(lambda s: [(d.outcome, d.message) for d in s.scalars(select(WebhookDelivery))])
    assert rows == [("applied", "Update"), ("stale", "Update")]


def test_malformed_bodies_are_400_and_other_tables_are_acknowledged(bed: HookBed) -> None:
    for body in (b"{not json", b"[]", json.dumps({"MessageName": "Update"}).encode(), b"\xff\xfe"):
        answer = httpx.post(bed.hook, params={"code": KEY}, content=body)
        assert answer.status_code == 400 and "RemoteExecutionContext" in answer.json()["detail"][0]["msg"]
    other = _context("6d81597f-0f9f-e711-8122-000d3aa2331c", "x", entity="contact")
    answer = httpx.post(bed.hook, params={"code": KEY}, content=other)
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored"
    unknown = _context("6d81597f-0f9f-e711-8122-000d3aa2331c", "x")  # a milestone callnotes does not hold
    assert httpx.post(bed.hook, params={"code": KEY}, content=unknown).json()["outcome"] == "ignored"


def test_account_team_rows_add_and_remove_sellers(bed: HookBed) -> None:
    customer = bed.query(lambda s: s.scalars(select(Customer).order_by(Customer.id)).first())
    user = next(u for u in bed.server.service.database.table("systemuser").rows.values()
                if u["systemuserid"] != bed.server.demo_user_id)
    bed.register("msp_accountteam", ["Create", "Delete"])
    with web_api_client(bed.server, json_body=True) as api:
        created = api.post("msp_accountteams", headers={"Prefer": "return=representation"}, json={
            "msp_name": "team row", "msp_fullname": user["fullname"], "msp_qualifier1": "Corporate",
            "msp_qualifier2": "Cloud & AI", "msp_standardtitle": "Specialists IC",
            "msp_accountid@odata.bind": f"/accounts({customer.msx_id})",
            "msp_systemuserid@odata.bind": f"/systemusers({user['systemuserid']})"}).json()
    sellers = lambda s: sorted(x.msx_id for x in s.get(Customer, customer.id).sellers)  # noqa: E731
    before = bed.query(sellers)
    bed.wait_for(sellers, sorted({*before, user["systemuserid"]}))
    with web_api_client(bed.server) as api:
        assert api.delete(f"msp_accountteams({created['msp_accountteamid']})").status_code == 204
    bed.wait_for(sellers, sorted(set(before) - {user["systemuserid"]}))


def _context(record_id: str, name: str, *, created_ms: int = 1_790_000_000_000,
             entity: str = "msp_engagementmilestone") -> bytes:
    """A RemoteExecutionContext as Dataverse posts it for an Update of ``msp_name``."""
    operation = uuid.uuid5(uuid.NAMESPACE_URL, f"{record_id}/{name}/{created_ms}")
    return json.dumps({
        "MessageName": "Update", "PrimaryEntityName": entity, "PrimaryEntityId": record_id,
        "OperationCreatedOn": f"/Date({created_ms})/", "Stage": 40, "Mode": 1, "Depth": 1,
        "OperationId": str(operation),
        "InputParameters": [{"key": "Target", "value": {
            "__type": "Entity:http://schemas.microsoft.com/xrm/2011/Contracts", "LogicalName": entity,
            "Id": record_id, "Attributes": [{"key": "msp_name", "value": name}], "FormattedValues": []}}],
        "PostEntityImages": [], "PreEntityImages": [],
    }).encode()


def test_changes_to_what_the_tracker_and_customer_page_show_arrive_too(bed: HookBed) -> None:
    """A milestone's commitment and an opportunity's revenue and sales stage, changed in MSX."""
    milestone = _mirrored_milestone(bed)
    opportunity = bed.query(lambda s: s.scalars(select(Opportunity).where(Opportunity.msx_id.is_not(None))
                                                .order_by(Opportunity.id)).first())
    bed.register("msp_engagementmilestone", ["Update"])
    bed.register("opportunity", ["Update"])
    with web_api_client(bed.server, json_body=True) as api:
        assert api.patch(f"msp_engagementmilestones({milestone.msx_id})",
                         json={"msp_commitmentrecommendation": 861980002}).status_code == 204
        assert api.patch(f"opportunities({opportunity.msx_id})",
                         json={"estimatedvalue": 123456.0, "salesstage": 2}).status_code == 204
    bed.wait_for(lambda s: s.get(Milestone, milestone.id).commitment, "Committed at Risk")
    bed.wait_for(lambda s: (lambda o: (o.estimated_value, o.stage))(s.get(Opportunity, opportunity.id)),
                 (123456.0, "Propose"))
    assert bed.query(lambda s: s.get(Milestone, milestone.id).name) == milestone.name  # the rest is kept
