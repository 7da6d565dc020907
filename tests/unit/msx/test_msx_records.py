"""Parsing Dataverse rows into typed records; malformed CRM answers give clear errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from callnotes.domain import SellerType, SeSpecialty
from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.records import (
    Account,
    AccountTeamMember,
    Milestone,
    MsxTask,
    Opportunity,
    Territory,
    WhoAmI,
)
from callnotes.msx.schema import HokCategory

FV = "@OData.Community.Display.V1.FormattedValue"
A = "11111111-1111-4111-8111-111111111111"
U = "22222222-2222-4222-8222-222222222222"
T = "33333333-3333-4333-8333-333333333333"


def _member(role: str, title: str = "Specialists IC") -> AccountTeamMember:
    return AccountTeamMember.from_row({
        "_msp_accountid_value": A, "_msp_systemuserid_value": U, "msp_fullname": "Zoë O'Brien",
        "msp_qualifier1": "Corporate", "msp_qualifier2": role, "msp_standardtitle": title,
    })


def test_account_and_territory() -> None:
    account = Account.from_row({
        "accountid": A.upper(), "name": "Contoso & Sons #1", "msp_mstopparentid": "12345",
        "_territoryid_value": T, "_territoryid_value" + FV: "East.SMECC.MAA.0601",
    })
    assert account == Account(A, "Contoso & Sons #1", "12345", T, "East.SMECC.MAA.0601")
    territory = Territory.from_row({"territoryid": T, "name": "East.SMECC.MAA.0601",
                                    "msp_accountteamunitname": "MAA"})
    assert territory.pod == "East POD 06"


@pytest.mark.parametrize(
    ("role", "title", "seller", "se"),
    [
        ("Cloud & AI", "Specialists IC", SellerType.GROWTH, None),
        ("Cloud & AI-Acq", "Sr Specialists IC", SellerType.ACQUISITION, None),
        ("Cloud & AI", "Manager", None, None),            # no title: a manager, not a seller
        ("Cloud & AI Data", "Anything", None, SeSpecialty.DATA),
        ("Cloud & AI Infrastructure", None, None, SeSpecialty.INFRA),
        ("Cloud & AI Apps", "Specialists IC", None, SeSpecialty.APPS),
        ("Cloud & AI Security", "Specialists IC", None, None),
        ("CSU", "Specialists IC", None, None),
    ],
)
def test_seller_and_se_classification(role, title, seller, se) -> None:
    member = _member(role, title)
    assert (member.seller_type, member.se_specialty) == (seller, se)


def test_opportunity_milestone_and_task() -> None:
    opp = Opportunity.from_row({
        "opportunityid": A, "name": "Big deal", "msp_opportunitynumber": "7-ABC",
        "_parentaccountid_value": T, "estimatedclosedate": "2026-03-31", "statecode": 0,
        "msp_consumptionconsumedrecurring": 12.5,
    })
    assert (opp.estimated_close_date, opp.consumed_recurring, opp.state) == (date(2026, 3, 31), 12.5, 0)
    comments = [{"text": "slipping", "author": "Ana", "date": "2026-01-02"}]
    milestone = Milestone.from_row({
        "msp_engagementmilestoneid": A, "msp_name": "Migrate", "msp_milestonenumber": "M-1",
        "msp_milestonestatus": 861980001, "msp_milestonestatus" + FV: "At Risk",
        "msp_milestonedate": "2026-02-01T00:00:00Z", "_msp_opportunityid_value": T,
        "msp_forecastcommentsjsonfield": json.dumps(comments), "@odata.etag": 'W/"42"',
    })
    assert (milestone.status, milestone.status_label) == (861980001, "At Risk")
    assert milestone.milestone_date == date(2026, 2, 1)
    assert milestone.forecast_comments[0].text == "slipping" and milestone.etag == 'W/"42"'
    task = MsxTask.from_row({"activityid": A, "subject": "ADS", "msp_taskcategory": 861980004,
                             "createdon": "2026-01-05T10:00:00Z"})
    assert task.category is HokCategory.ARCHITECTURE_DESIGN_SESSION and task.is_hok
    assert task.created_on == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert MsxTask.from_row({"activityid": A, "msp_taskcategory": 1}).category is None
    # state label: the formatted value when MSX sends one, else task.md's StateCode label
    assert MsxTask.from_row({"activityid": A, "statecode": 1}).state_label == "Completed"
    localised = {"activityid": A, "statecode": 2, "statecode" + FV: "Abgebrochen"}
    assert MsxTask.from_row(localised).state_label == "Abgebrochen"
    assert MsxTask.from_row({"activityid": A}).state_label is None


@pytest.mark.parametrize(
    ("parse", "row", "field"),
    [
        (Account.from_row, {"name": "x"}, "accountid"),
        (Account.from_row, {"accountid": "not-a-guid", "name": "x"}, "accountid"),
        (Account.from_row, {"accountid": A}, "name"),
        (Account.from_row, {"accountid": A, "name": ["x"]}, "name"),
        (Territory.from_row, {"territoryid": T, "name": None}, "name"),
        (AccountTeamMember.from_row, {"_msp_accountid_value": A}, "_msp_systemuserid_value"),
        (Opportunity.from_row, {"opportunityid": A, "name": "o", "statecode": "open"}, "statecode"),
        (Opportunity.from_row, {"opportunityid": A, "name": "o", "estimatedclosedate": "soon"},
         "estimatedclosedate"),
        (Milestone.from_row, {"msp_engagementmilestoneid": A, "msp_name": "m", "msp_monthlyuse": "lots"},
         "msp_monthlyuse"),
        (Milestone.from_row, {"msp_engagementmilestoneid": A, "msp_name": "m",
                              "msp_forecastcommentsjsonfield": "{not json"}, "msp_forecastcommentsjsonfield"),
        (Milestone.from_row, {"msp_engagementmilestoneid": A, "msp_name": "m",
                              "msp_forecastcommentsjsonfield": '{"text": 1}'},
         "msp_forecastcommentsjsonfield"),
        (MsxTask.from_row, {"activityid": A, "createdon": "yesterday"}, "createdon"),
        (MsxTask.from_row, {"activityid": A, "statecode": "open"}, "statecode"),
        (WhoAmI.from_row, {"BusinessUnitId": A}, "UserId"),
        (WhoAmI.from_row, ["not", "an", "object"], "<row>"),
    ],
)
def test_malformed_rows_name_the_field(parse, row, field) -> None:
    with pytest.raises(MalformedCrmAnswer) as caught:
        parse(row)
    assert caught.value.field == field
    assert field in str(caught.value)
