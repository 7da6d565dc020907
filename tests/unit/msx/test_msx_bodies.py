"""Request bodies and queries built without a server: task create, milestone PATCH, FetchXML, summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone

import pytest

from callnotes.msx.errors import InvalidInput
from callnotes.msx.milestones import MilestoneChanges, access_team_fetchxml
from callnotes.msx.schema import MILESTONE_TEAM_TEMPLATE_ID, HokCategory
from callnotes.msx.tasks import NewTask
from callnotes.msx.teams import TeamKind, _action_body

M = "11111111-1111-4111-8111-111111111111"
U = "22222222-2222-4222-8222-222222222222"


def test_task_body_is_the_catalog_shape() -> None:
    due = datetime(2026, 12, 1, 17, 30, tzinfo=timezone(timedelta(hours=1)))
    body = NewTask(M.upper(), U, "  ADS with Zoë  ", HokCategory.WORKSHOP, 45, due=due).to_body()
    assert body == {
        "subject": "ADS with Zoë",
        "msp_taskcategory": 861980001,
        "scheduleddurationminutes": 45,
        "prioritycode": 1,
        "regardingobjectid_msp_engagementmilestone@odata.bind": f"/msp_engagementmilestones({M})",
        "ownerid@odata.bind": f"/systemusers({U})",
        "scheduledend": "2026-12-01T16:30:00Z",
    }


@pytest.mark.parametrize(
    "task",
    [
        NewTask(M, U, "", HokCategory.DEMO),
        NewTask(M, U, "x" * 201, HokCategory.DEMO),
        NewTask(M, U, "x", HokCategory.DEMO, duration_minutes=24 * 60 + 1),
        NewTask(M, U, "x", HokCategory.DEMO, due=datetime(2026, 1, 1)),  # naive
        NewTask(M, "me", "x", HokCategory.DEMO),
    ],
)
def test_bad_tasks_are_refused_before_any_request(task: NewTask) -> None:
    with pytest.raises((InvalidInput, ValueError)):
        task.to_body()


def test_milestone_changes() -> None:
    assert MilestoneChanges(date(2027, 1, 31), 10.5, 861980002).to_body() == {
        "msp_milestonedate": "2027-01-31", "msp_monthlyuse": 10.5, "msp_milestonestatus": 861980002}
    assert MilestoneChanges().to_body() == {}
    for bad in (MilestoneChanges(monthly_use=-1), MilestoneChanges(status=-1), MilestoneChanges(status=True)):
        with pytest.raises(InvalidInput):
            bad.to_body()


def test_access_team_fetchxml_is_the_catalog_query() -> None:
    root = ET.fromstring(access_team_fetchxml(U.upper()))
    team = root.find("./entity/link-entity[@name='team']")
    assert team is not None and team.get("link-type") == "inner"
    conditions = {c.get("attribute"): c.get("value") for c in root.iter("condition")}
    assert conditions == {"teamtype": "1", "teamtemplateid": MILESTONE_TEAM_TEMPLATE_ID, "systemuserid": U}
    with pytest.raises(InvalidInput):
        access_team_fetchxml('"/><condition attribute="x')


def test_team_action_bodies() -> None:
    body = _action_body(TeamKind.OPPORTUNITY, M)
    assert body["Record"] == {"@odata.type": "Microsoft.Dynamics.CRM.opportunity", "opportunityid": M}
    assert body["TeamTemplate"]["teamtemplateid"] == "cc923a9d-7651-e311-9405-00155db3ba1e"
