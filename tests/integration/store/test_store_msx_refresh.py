"""The store side of the refresh on SQLite and PostgreSQL: watermarks only move forward and are not
rewritten when nothing differs, "on my team" flags follow the memberships, the mirror's scope, and an
import and a refresh never run at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callnotes.store import (
    Conflict,
    CustomerRecord,
    Milestone,
    MilestoneRecord,
    MsxKind,
    Opportunity,
    OpportunityRecord,
    SellerRecord,
    TaskRecord,
    mark_gone,
    upsert_records,
)
from callnotes.store.models import RunKind, RunState, SellerType
from callnotes.store.repo import sync_runs
from callnotes.store.repo.msx_refresh import (
    Mark,
    mirror_scope,
    read_watermarks,
    save_watermarks,
    set_team_flags,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_watermarks_only_move_forward_and_unchanged_ones_are_not_written(session) -> None:
    assert save_watermarks(session, {"tasks": Mark(T0), "me": Mark(value="user-1")}) == 2
    assert save_watermarks(session, {"tasks": Mark(T0 - timedelta(hours=1))}) == 0  # older: kept
    assert save_watermarks(session, {"tasks": Mark(T0), "me": Mark(value="user-1")}) == 0
    assert save_watermarks(session, {"tasks": Mark(T0 + timedelta(seconds=5), row_count=3)}) == 1
    assert save_watermarks(session, {"tasks": Mark(None)}) == 0  # None keeps what is stored
    session.commit()
    marks = read_watermarks(session)
    assert marks["tasks"] == Mark(T0 + timedelta(seconds=5), 3, None)
    assert marks["me"] == Mark(None, None, "user-1")
    assert marks["tasks"].modified_on.tzinfo is not None


def _mirror(session) -> None:
    upsert_records(session, [
        SellerRecord("s1", "Sam Seller", SellerType.GROWTH),
        CustomerRecord("a1", "Contoso", seller_msx_ids=["s1"]),
        OpportunityRecord("o1", "Open deal", state="Open", customer_msx_id="a1"),
        OpportunityRecord("o2", "Won deal", state="Won", customer_msx_id="a1"),
        MilestoneRecord("m1", "Pilot", customer_msx_id="a1", on_my_team=True),
        MilestoneRecord("m2", "Rollout", customer_msx_id="a1"),
        TaskRecord("t1", "ADS", milestone_msx_id="m1"),
        TaskRecord("t2", "Loose task"),
    ])


def test_the_mirror_scope_holds_live_records_only(session) -> None:
    _mirror(session)
    mark_gone(session, MsxKind.MILESTONES, (), among={"m2"})
    scope = mirror_scope(session)
    assert scope.accounts == {"a1"} and scope.open_opportunities == {"o1"}
    assert scope.opportunities == {"o1", "o2"} and scope.milestones == {"m1"}
    assert scope.tasks == {"t1"}  # a task regarding no live milestone is out of the refresh's scope
    assert scope.team_links == {("a1", "s1", "seller")}


def test_team_flags_follow_the_memberships(session) -> None:
    _mirror(session)
    assert set_team_flags(session, {"m1"}) == 0
    assert set_team_flags(session, {"m2"}) == 2
    session.commit()
    flags = dict(session.execute(select(Milestone.msx_id, Milestone.on_my_team)).all())
    assert flags == {"m1": False, "m2": True}
    assert set_team_flags(session, {"m2"}) == 0


def test_deal_team_flags_follow_the_memberships_when_given(session) -> None:
    _mirror(session)
    assert set_team_flags(session, {"m1"}, {"o1"}) == 1  # the opportunity's flag; the milestone's was set
    assert set_team_flags(session, {"m1"}) == 0  # opportunities not given: left as they are
    session.commit()
    flags = dict(session.execute(select(Opportunity.msx_id, Opportunity.on_my_team)).all())
    assert flags == {"o1": True, "o2": False}
    assert set_team_flags(session, {"m1"}, set()) == 1


@pytest.mark.parametrize(("first", "second", "message"), [
    (RunKind.IMPORT, RunKind.REFRESH, "an import is already running"),
    (RunKind.REFRESH, RunKind.IMPORT, "a refresh is already running"),
    (RunKind.REFRESH, RunKind.REFRESH, "a refresh is already running"),
])
def test_an_import_and_a_refresh_never_run_at_once(session, first, second, message) -> None:
    run = sync_runs.begin_run(session, first)
    with pytest.raises(Conflict, match=message):
        sync_runs.begin_run(session, second)
    sync_runs.finish_run(session, run.id, RunState.DONE)
    assert sync_runs.begin_run(session, second).kind is second
    sync_runs.begin_run(session, RunKind.PUSH)  # pushes write elsewhere: they may run beside either
