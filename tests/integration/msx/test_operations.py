"""Every MSX operation against the emulator over HTTP, compared with the emulator's own tables."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from callnotes.dataverse import BadRequest, NotFound, PreconditionFailed
from callnotes.domain import SellerType
from callnotes.msx import accounts, milestones, opportunities, people, tasks, teams
from callnotes.msx.errors import InvalidInput, MsxNotFound, VpnDown
from callnotes.msx.schema import MILESTONE_TEAM_TEMPLATE_ID, OPPORTUNITY_TEAM_TEMPLATE_ID, HokCategory
from callnotes.msx.teams import TeamChange, TeamKind
from tests.fixtures.msx import SE_ROLES, SELLER_ROLES, ground_truth, make_client


@pytest.fixture(scope="module")
def small(emulator):
    """The shared 20-account emulator, its client and ground truth (read-only tests)."""
    with make_client(emulator) as client:
        yield emulator, client, ground_truth(emulator)


def _table(server, name: str) -> dict:
    return server.service.dataset.database.table(name).rows


def test_who_am_i_and_the_vpn_check(small, writable_emulator, writable_client):
    server, client, _ = small
    assert accounts.who_am_i(client).user_id == server.demo_user_id
    assert accounts.check_connection(client).user_id == server.demo_user_id
    writable_emulator.configure(vpn_blocked=True)
    try:
        with pytest.raises(VpnDown, match="VPN seems down"):
            accounts.check_connection(writable_client)
    finally:
        writable_emulator.configure(vpn_blocked=False)


def test_accounts_by_tpid_one_and_many(small):
    server, client, _truth = small
    rows = list(_table(server, "account").values())
    one = rows[0]
    found = accounts.accounts_by_tpid(client, one["msp_mstopparentid"])
    assert one["accountid"] in {a.id for a in found}
    assert all(a.tpid == one["msp_mstopparentid"] for a in found)
    wanted = {r["msp_mstopparentid"] for r in rows[:40]}
    # 4,000 unknown TPIDs push the filter past one URL's budget: the lookup must chunk, not fail
    padding = [str(90_000_000 + i) for i in range(4000)]
    many = accounts.accounts_by_tpids(client, [*wanted, *padding])
    assert {a.tpid for a in many} == wanted
    assert {a.id for a in many} == {r["accountid"] for r in rows if r["msp_mstopparentid"] in wanted}
    with pytest.raises(MsxNotFound):
        accounts.accounts_by_tpid(client, "99999999999")
    for bad in ("", "12 34", "1' or '1'='1", "abc"):
        with pytest.raises(InvalidInput):
            accounts.accounts_by_tpid(client, bad)


def test_accounts_by_name_with_quotes_ampersands_hashes_and_accents(small):
    _server, client, truth = small
    names = sorted({r["name"] for r in truth.accounts.values()})
    tricky = [n for n in names if any(c in n for c in "'&#") or not n.isascii()]
    assert tricky
    for name in tricky:
        assert [a.name for a in accounts.accounts_by_name(client, name)] == [name]
    assert {a.name for a in accounts.accounts_by_names(client, names)} == set(names)
    assert accounts.accounts_by_name(client, "No such ' company & #1") == []
    with pytest.raises(InvalidInput):
        accounts.accounts_by_name(client, "  ")


def test_accounts_and_territories_by_ids(small):
    _, client, truth = small
    found = accounts.accounts_by_ids(client, truth.accounts)
    assert {a.id for a in found} == truth.accounts.keys()
    territories = accounts.territories_by_ids(client, {a.territory_id for a in found if a.territory_id})
    assert {t.id: t.name for t in territories} == {k: v["name"] for k, v in truth.territories.items()}
    assert {t.pod for t in territories} == truth.pods


def test_account_team_sellers_and_ses(small):
    _server, client, truth = small
    ids = sorted(truth.accounts)
    sellers = people.account_sellers(client, ids)
    engineers = people.account_ses(client, ids)
    for account_id in ids:
        want_sellers, want_engineers = truth.team_by_account[account_id]
        assert {m.user_id for m in sellers if m.account_id == account_id} == want_sellers
        assert {m.user_id for m in engineers if m.account_id == account_id} == want_engineers
    assert all(m.role in SELLER_ROLES and "Specialists IC" in (m.title or "") for m in sellers)
    assert {m.seller_type for m in sellers} <= {SellerType.GROWTH, SellerType.ACQUISITION}
    assert all(m.role in SE_ROLES and m.se_specialty is not None for m in engineers)
    everyone = people.account_team(client, ids[:4])
    assert all(m.qualifier1 == "Corporate" and m.role.startswith("Cloud ") for m in everyone)
    assert {(m.account_id, m.user_id) for m in sellers if m.account_id in ids[:4]} <= {
        (m.account_id, m.user_id) for m in everyone}


def test_user_email_gives_a_teams_link(small):
    server, client, _ = small
    user = next(iter(_table(server, "systemuser").values()))
    link = people.teams_chat_link(client, user["systemuserid"])
    assert link == f"https://teams.microsoft.com/l/chat/0/0?users={user['internalemailaddress']}"
    with pytest.raises(NotFound):
        people.teams_chat_link(client, "00000000-0000-4000-8000-000000000000")


def test_opportunities_open_by_number_by_id(small):
    _server, client, truth = small
    found = opportunities.open_opportunities(client, truth.accounts)
    assert {o.id for o in found} == truth.opportunities.keys()
    assert all(o.state == 0 for o in found)
    row = next(iter(truth.opportunities.values()))
    by_number = opportunities.opportunity_by_number(client, row["msp_opportunitynumber"])
    assert by_number.id == row["opportunityid"] and by_number.name == row["name"]
    by_id = opportunities.get_opportunity(client, row["opportunityid"])
    assert (by_id.number, by_id.account_id) == (row["msp_opportunitynumber"], row["parentaccountid"])
    with pytest.raises(MsxNotFound):
        opportunities.opportunity_by_number(client, "7-NOPE'&#")


def test_opportunity_patch_and_its_etag_check(writable_emulator, writable_client):
    row = next(r for r in _table(writable_emulator, "opportunity").values() if r["statecode"] == 0)
    name = "Renamed - Zoë & Co #1"
    opportunities.update_opportunity(writable_client, row["opportunityid"], {"name": name})
    assert opportunities.get_opportunity(writable_client, row["opportunityid"]).name == name
    with pytest.raises(PreconditionFailed):
        opportunities.update_opportunity(writable_client, row["opportunityid"], {"name": "x"}, etag='W/"1"')
    with pytest.raises(InvalidInput):
        opportunities.update_opportunity(writable_client, row["opportunityid"], {})


def test_milestone_reads(small):
    server, client, truth = small
    user = server.demo_user_id
    rows = _table(server, "msp_engagementmilestone")
    opp_id = next(iter(truth.opportunities))
    per_opp = milestones.milestones_for_opportunity(client, opp_id)
    assert {m.id for m in per_opp} == {k for k, r in rows.items() if r["msp_opportunityid"] == opp_id}
    dates = [m.milestone_date for m in per_opp if m.milestone_date]
    assert dates == sorted(dates)
    per_account = milestones.milestones_for_accounts(client, truth.accounts)
    assert {m.id for m in per_account} == truth.milestones.keys()
    sample = next(iter(truth.milestones.values()))
    assert milestones.milestone_by_number(client, sample["msp_milestonenumber"]).id == sample[
        "msp_engagementmilestoneid"]
    with pytest.raises(MsxNotFound):
        milestones.milestone_by_number(client, "000")
    assert {m.id for m in milestones.my_milestones(client, user)} == {
        k for k, r in rows.items() if r["ownerid"] == user}
    assert {m.id for m in milestones.my_team_milestones(client, user)} == truth.my_team_milestones
    detail = milestones.get_milestone(client, sample["msp_engagementmilestoneid"])
    assert detail.etag and detail.status is not None
    assert [c.text for c in detail.forecast_comments] == [
        c["text"] for c in json.loads(sample["msp_forecastcommentsjsonfield"] or "[]")]


def test_milestone_patch_with_etag_and_forecast_comments(writable_emulator, writable_client):
    client = writable_client
    milestone_id = next(iter(_table(writable_emulator, "msp_engagementmilestone")))
    before = milestones.get_milestone(client, milestone_id)
    change = milestones.MilestoneChanges(milestone_date=date(2027, 3, 15), monthly_use=1500.0,
                                         status=861980001)
    milestones.update_milestone(client, milestone_id, change, etag=before.etag)
    after = milestones.get_milestone(client, milestone_id)
    assert (after.milestone_date, after.monthly_use, after.status, after.status_label) == (
        date(2027, 3, 15), 1500.0, 861980001, "At Risk")
    with pytest.raises(PreconditionFailed):  # the ETag read before the first PATCH is stale now
        milestones.update_milestone(client, milestone_id, change, etag=before.etag)
    with pytest.raises(BadRequest):  # the option set is the CRM's: it refuses a value outside it
        milestones.update_milestone(client, milestone_id, milestones.MilestoneChanges(status=1))
    assert milestones.get_milestone(client, milestone_id).status == 861980001

    updated = milestones.add_forecast_comment(client, milestone_id, "Zoë: slips to Q3 & needs #quota",
                                              author="Ana O'Neil", now=datetime(2026, 11, 22, tzinfo=UTC))
    assert len(updated.forecast_comments) == len(after.forecast_comments) + 1
    assert updated.forecast_comments[-1].text == "Zoë: slips to Q3 & needs #quota"
    assert updated.forecast_comments[-1].author == "Ana O'Neil"
    assert "slips to Q3" in (updated.forecast_summary or "")


def test_team_membership_join_leave_and_bulk(writable_emulator, writable_client):
    client, user = writable_client, writable_emulator.demo_user_id
    rows = _table(writable_emulator, "msp_engagementmilestone")
    truth = ground_truth(writable_emulator)
    all_ids = list(rows)
    assert teams.team_memberships(client, user, TeamKind.MILESTONE, all_ids) == truth.my_team_milestones
    outside = [m for m in all_ids if m not in truth.my_team_milestones][:3]
    teams.join_team(client, user, TeamKind.MILESTONE, outside[0])
    assert outside[0] in teams.on_team(client, user, TeamKind.MILESTONE, [outside[0]])
    teams.leave_team(client, user, TeamKind.MILESTONE, outside[0])
    assert teams.on_team(client, user, TeamKind.MILESTONE, [outside[0]]) == set()

    bogus = "00000000-0000-4000-8000-000000000001"
    results = teams.change_teams(client, user, [
        TeamChange(TeamKind.MILESTONE, outside[1], join=True),
        TeamChange(TeamKind.MILESTONE, bogus, join=True),
        TeamChange(TeamKind.MILESTONE, outside[2], join=True),
    ])
    assert [r.ok for r in results] == [True, False, True]
    assert teams.team_memberships(client, user, TeamKind.MILESTONE, outside) == {outside[1], outside[2]}


def test_deal_team_check_by_association_and_by_msp_dealteams(writable_emulator, writable_client):
    client, user = writable_client, writable_emulator.demo_user_id
    opps = list(_table(writable_emulator, "opportunity"))
    deal_rows = _table(writable_emulator, "msp_dealteam").values()
    listed = {r["msp_parentopportunityid"] for r in deal_rows if r["msp_dealteamuserid"] == user
              and r["statecode"] == 0}
    assert teams.deal_team_memberships(client, user, opps) == listed
    target = next(o for o in opps if o not in teams.on_team(client, user, TeamKind.OPPORTUNITY, opps))
    teams.join_team(client, user, TeamKind.OPPORTUNITY, target)
    assert target in teams.team_memberships(client, user, TeamKind.OPPORTUNITY, opps)
    assert TeamKind.OPPORTUNITY.template_id == OPPORTUNITY_TEAM_TEMPLATE_ID
    assert TeamKind.MILESTONE.template_id == MILESTONE_TEAM_TEMPLATE_ID


def test_tasks_create_is_idempotent_and_listed_with_category(writable_emulator, writable_client):
    client, user = writable_client, writable_emulator.demo_user_id
    milestone_id = next(iter(_table(writable_emulator, "msp_engagementmilestone")))
    task_id = "5a5a5a5a-0000-4000-8000-00000000abcd"
    new = tasks.NewTask(milestone_id, user, "Architecture review - Zoë's team & #2",
                        HokCategory.ARCHITECTURE_DESIGN_SESSION, duration_minutes=90, task_id=task_id)
    assert tasks.create_task(client, new) == task_id
    writable_emulator.configure(fail_next=[{"method": "POST", "path_contains": "tasks",
                                            "fault": "drop_after_commit"}])
    internal = tasks.NewTask(milestone_id, user, "Internal sync", HokCategory.INTERNAL)
    other = tasks.create_task(client, internal)
    listed = tasks.list_tasks(client, milestone_id)
    mine = {t.id: t for t in listed if t.id in (task_id, other)}
    assert len([t for t in listed if t.id == other]) == 1  # the lost answer did not make a second task
    assert mine[task_id].category is HokCategory.ARCHITECTURE_DESIGN_SESSION and mine[task_id].is_hok
    assert mine[task_id].subject == "Architecture review - Zoë's team & #2"
    assert mine[other].category is HokCategory.INTERNAL and not mine[other].is_hok
    created = [t.created_on for t in listed if t.created_on]
    assert created == sorted(created, reverse=True)
    for bad in (tasks.NewTask(milestone_id, user, " ", HokCategory.DEMO),
                tasks.NewTask(milestone_id, user, "x", HokCategory.DEMO, duration_minutes=0),
                tasks.NewTask("not-a-guid", user, "x", HokCategory.DEMO)):
        with pytest.raises((InvalidInput, ValueError)):
            tasks.create_task(client, bad)
