"""Constants, record URLs, Teams links and POD names (reference/000 Key Constants, reference/001)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from callnotes.msx import links
from callnotes.msx.errors import InvalidInput
from callnotes.msx.records import pod_name
from callnotes.msx.schema import (
    APP_ID,
    HOK_CATEGORIES,
    MILESTONE_TEAM_TEMPLATE_ID,
    NON_HOK_CATEGORIES,
    OPPORTUNITY_TEAM_TEMPLATE_ID,
    TENANT_ID,
    HokCategory,
    Role,
)

ACCOUNT = "0a1b2c3d-0000-4000-8000-000000000001"


def test_constants_match_the_reference() -> None:
    assert TENANT_ID == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert APP_ID == "fe0c3504-3700-e911-a849-000d3a10b7cc"
    assert OPPORTUNITY_TEAM_TEMPLATE_ID == "cc923a9d-7651-e311-9405-00155db3ba1e"
    assert MILESTONE_TEAM_TEMPLATE_ID == "316e4735-9e83-eb11-a812-0022481e1be0"
    assert [r.value for r in Role] == [
        "Cloud & AI", "Cloud & AI-Acq", "Cloud & AI Data", "Cloud & AI Infrastructure", "Cloud & AI Apps",
    ]


def test_hok_categories_are_the_eight_of_the_guide() -> None:
    assert {c.value for c in HOK_CATEGORIES} == {
        861980004, 861980006, 861980008, 861980007, 861980002, 861980005, 606820005, 861980001,
    }
    assert len(NON_HOK_CATEGORIES) == 12
    assert HokCategory.WORKSHOP.is_hok and HokCategory.WORKSHOP.label == "Workshop"
    assert not HokCategory.INTERNAL.is_hok and HokCategory(861980012) is HokCategory.INTERNAL
    with pytest.raises(ValueError):
        HokCategory(865420001)  # the catalog's sample value is no category of the guide


@pytest.mark.parametrize(
    ("builder", "etn"),
    [(links.account_url, "account"), (links.opportunity_url, "opportunity"),
     (links.milestone_url, "msp_engagementmilestone")],
)
def test_record_urls_carry_app_id_and_entity(builder, etn) -> None:
    url = builder(ACCOUNT.upper())
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://microsoftsales.crm.dynamics.com/main.aspx"
    assert parse_qs(parts.query) == {
        "appid": [APP_ID], "pagetype": ["entityrecord"], "etn": [etn], "id": [ACCOUNT],
    }


def test_record_url_for_another_org_and_bad_ids() -> None:
    assert links.account_url(f"{{{ACCOUNT}}}", crm_url="http://127.0.0.1:9/").startswith(
        "http://127.0.0.1:9/main.aspx?appid="
    )
    for bad in ("", "42", "x' or 1 eq 1", None):
        with pytest.raises(InvalidInput):
            links.milestone_url(bad)  # type: ignore[arg-type]


def test_teams_link_encodes_the_address() -> None:
    assert links.teams_chat_url(" ana@contoso.com ") == "https://teams.microsoft.com/l/chat/0/0?users=ana@contoso.com"
    assert (links.teams_chat_url("o'neil+x@contoso.com") or "").endswith("users=o%27neil%2Bx@contoso.com")
    for bad in ("", None, "no-at-sign", "a@b", "a b@c.com", "x@y.com&users=z@w.com"):
        assert links.teams_chat_url(bad) is None  # nothing to link to: no link, never a broken one


@pytest.mark.parametrize(
    ("territory", "pod"),
    [
        ("East.SMECC.MAA.0601", "East POD 06"),
        ("West.SMECC.NCA.1203", "West POD 12"),
        ("Central.ENT.X.07", "Central POD 07"),
        ("East.SMECC.MAA.ABCD", None),
        ("East.SMECC.MAA.6", None),
        ("NoDotsHere", None),
        (".SMECC.MAA.0601", None),
        ("", None),
        (None, None),
    ],
)
def test_pod_name(territory, pod) -> None:
    assert pod_name(territory) == pod
