"""The reads of an incremental refresh of the mirror: what changed in MSX since the last watermark.

Why ``modifiedon`` watermarks and not Dataverse change tracking: a change-tracking query
(``Prefer: odata.track-changes``, then its ``@odata.deltaLink``) takes no ``$filter``, ``$orderby``
or ``$top``, and its first answer is every row of the table
(powerapps-docs/developer/data-platform/use-change-tracking-synchronize-data-external-systems.md,
"Retrieve changes for a table using the Web API" and the options it does not support). In MSX the
milestone, opportunity and task tables hold the whole company's records, and tracking must be
switched on per table by its owners. A refresh wants a few hundred accounts' worth, so it asks
``<scope> and modifiedon ge <watermark - overlap>``, folded into ``$batch`` like the import.

Watermarks cannot see deletions (nor records that left the scope), so each table also gets a
``$count=true`` query of its whole scope (powerapps-docs/developer/data-platform/webapi/query/count-rows.md:
up to 5,000 rows a query, so scopes are cut into groups). Every record in scope now is either in the
delta (created or changed since the watermark) or was in the mirror before, so when MSX's count
equals the size of (mirror + delta) nothing left; otherwise an id-only listing of that table says which.

Round 1 (one ``$batch``): my milestone and deal access-team memberships (read whole: "on my team"
flags), my own role rows changed since the watermark (an account newly mine is left to a full import),
and for accounts, opportunities, milestones, tasks and account-team rows the delta and the counts.
Round 2, only when needed: tasks of new milestones, territories not in the mirror, id listings of
tables whose count does not add up, and the whole account team of accounts whose team changed
(their sellers' and SEs' user records follow). A refresh that finds nothing is one HTTP request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from callnotes.dataverse import NetworkBlocked
from callnotes.dataverse.query import BATCH_URL_BUDGET, ODataFilter
from callnotes.msx import _parse as p
from callnotes.msx.errors import VpnDown
from callnotes.msx.import_plan import ImportPlan, ImportSnapshot
from callnotes.msx.importer import FetchStats
from callnotes.msx.progress import CancelToken, ProgressCallback, ignore_progress
from callnotes.msx.records import Account, AccountTeamMember, Milestone, MsxTask, Opportunity, Territory
from callnotes.msx.refresh_request import OVERLAP, RefreshRequest, RefreshResult
from callnotes.msx.rounds import Barrier, Read, ReadTransport, RoundRunner, Rows
from callnotes.msx.schema import (
    ACCESS_TEAM_TYPE,
    ACCOUNT_SELECT,
    ACCOUNT_TEAM_SELECT,
    CLOUD_ROLE_PREFIX,
    MILESTONE_SELECT,
    MILESTONE_TEAM_TEMPLATE_ID,
    OPPORTUNITY_OPEN,
    OPPORTUNITY_SELECT,
    OPPORTUNITY_TEAM_TEMPLATE_ID,
    QUALIFIER1_CORPORATE,
    TASK_SELECT,
    TERRITORY_SELECT,
    EntitySet,
    Role,
)

_log = logging.getLogger(__name__)

#: Ids per count query, so no count reaches Dataverse's 5,000 limit (~30 Cloud rows an account).
ACCOUNTS_PER_COUNT = 40
MILESTONES_PER_COUNT = 250


def _groups(ids: Iterable[str], size: int) -> list[list[str]]:
    ordered = sorted(ids)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


class _Counter:
    """Adds up the counts of one table's count queries; None as soon as one is unknown."""

    def __init__(self) -> None:
        self.total: int | None = 0

    def add(self, count: int | None) -> None:
        self.total = None if count is None or self.total is None else self.total + count


class RefreshPlan(ImportPlan):
    """Builds the refresh's reads and folds their answers into a `RefreshResult`."""

    def __init__(self, request: RefreshRequest, *, url_budget: int = BATCH_URL_BUDGET) -> None:
        super().__init__(ImportSnapshot(), url_budget=url_budget)
        self.request = request
        self.result = RefreshResult(self.snapshot)
        self._counts: dict[str, _Counter] = {}
        self._present: dict[str, set[str]] = {}
        self._team_changed: set[str] = set()

    def first_reads(self) -> list[Read]:
        """Round 1: every read joins one barrier, which plans round 2 once all are in."""
        barrier = Barrier((), self._after_round_one)
        reads = [self._membership_read()]
        reads += self._delta_reads() + self._count_reads()
        for read in reads:
            self._join(read, barrier)
        return reads

    def finish(self) -> RefreshResult:
        """The result, once every read is in (gone ids worked out from the listings)."""
        req, result = self.request, self.result
        closed = set(result.closed_opportunities)
        known = {EntitySet.OPPORTUNITIES: set(req.open_opportunities) - closed,
                 EntitySet.MILESTONES: set(req.milestones), EntitySet.TASKS: set(req.tasks)}
        for entity_set, present in self._present.items():
            result.gone[entity_set] = known[EntitySet(entity_set)] - present
        result.team_rows = self._counts[EntitySet.ACCOUNT_TEAMS].total if req.accounts else 0
        return result

    # round 1 ---------------------------------------------------------------------------------
    def _membership_read(self) -> Read:
        """My milestone and deal access teams, whole (an N:N has no ``modifiedon``), with no display
        names: only the lookups' table names (the team template alone says whose team it is)."""
        user = p.as_uuid(self.request.user_id)
        templates = ODataFilter.any_of(*(
            ODataFilter.eq("_teamtemplateid_value", p.as_uuid(template))
            for template in (MILESTONE_TEAM_TEMPLATE_ID, OPPORTUNITY_TEAM_TEMPLATE_ID)))
        flt = ODataFilter.eq("teamtype", ACCESS_TEAM_TYPE) & templates
        read = Read("refreshing", f"systemusers({user})/teammembership_association",
                    {"$select": "_regardingobjectid_value,_teamtemplateid_value", "$filter": str(flt)},
                    annotations="Microsoft.Dynamics.CRM.lookuplogicalname")
        read.on_done = self._my_memberships
        return read

    def _my_memberships(self, rows: Rows) -> list[Read]:
        self._memberships(rows)  # the import's reading: milestone, opportunity and account access teams
        return []

    def _since(self, entity_set: str) -> ODataFilter | None:
        mark = self.request.since.get(entity_set)
        return ODataFilter.ge("modifiedon", mark - OVERLAP) if mark is not None else None

    def _delta_reads(self) -> list[Read]:
        req, snap = self.request, self.snapshot
        accounts, milestones = sorted(req.accounts), sorted(req.milestones)
        reads = self._changed(EntitySet.ACCOUNTS, "accountid", accounts, ACCOUNT_SELECT, None,
                              self._keep(Account.from_row, snap.accounts))
        reads += self._changed(EntitySet.OPPORTUNITIES, "_parentaccountid_value", accounts,
                               OPPORTUNITY_SELECT, None, self._opportunities)
        reads += self._changed(EntitySet.MILESTONES, "_msp_parentaccount_value", accounts, MILESTONE_SELECT,
                               None, self._keep(Milestone.from_row, snap.milestones))
        reads += self._changed(EntitySet.TASKS, "_regardingobjectid_value", milestones, TASK_SELECT, None,
                               self._keep(MsxTask.from_row, snap.tasks))
        team = self._changed(EntitySet.ACCOUNT_TEAMS, "_msp_accountid_value", accounts, ACCOUNT_TEAM_SELECT,
                             _cloud_rows(), self._team_delta)
        for read in team:  # a full answer may be cut at MSX's 100-row cap: read those accounts' teams
            read.cap = 100
            read.on_truncated = self._team_delta_cut(read)
        return reads + team + [self._my_new_roles()]

    def _my_new_roles(self) -> Read:
        """My own msp_accountteams rows in the five roles changed since the watermark: an account
        outside the mirror among them is newly mine."""
        terms = [ODataFilter.eq("_msp_systemuserid_value", p.as_uuid(self.request.user_id)),
                 ODataFilter.any_of(*[ODataFilter.eq("msp_qualifier2", role.value) for role in Role])]
        since = self._since(EntitySet.ACCOUNT_TEAMS)
        read = Read("refreshing", EntitySet.ACCOUNT_TEAMS, {
            "$select": "_msp_accountid_value,msp_qualifier2",
            "$filter": str(ODataFilter.all_of(*terms, *([since] if since is not None else [])))})
        read.on_done = self._new_roles
        return read

    def _new_roles(self, rows: Rows) -> list[Read]:
        for row in rows:
            account = p.guid("msp_accountteam", row, "_msp_accountid_value")
            if account not in self.request.accounts:
                self.result.new_accounts.add(str(account))
        return []

    def _changed(self, entity_set: str, field_name: str, ids: Sequence[str], select: Sequence[str],
                 extra: ODataFilter | None, keep: Callable[[Rows], None]) -> list[Read]:
        terms = [f for f in (extra, self._since(entity_set)) if f is not None]
        condition = ODataFilter.all_of(*terms) if terms else None
        reads = self._by_ids("refreshing", entity_set, field_name, ids, select, extra=condition)
        for read in reads:
            read.on_done = self._tracked(entity_set, keep)
        return reads

    def _tracked(self, entity_set: str, keep: Callable[[Rows], None]) -> Callable[[Rows], list[Read]]:
        def _done(rows: Rows) -> list[Read]:
            keep(rows)
            for row in rows:
                moment = p.moment(entity_set, row, "modifiedon")
                if moment is not None and (entity_set not in self.result.newest
                                           or moment > self.result.newest[entity_set]):
                    self.result.newest[entity_set] = moment
            return []
        return _done

    def _count_reads(self) -> list[Read]:
        req = self.request
        open_only = ODataFilter.eq("statecode", OPPORTUNITY_OPEN)
        specs: list[tuple[str, str, str, list[list[str]], ODataFilter | None]] = [
            (EntitySet.OPPORTUNITIES, "opportunityid", "_parentaccountid_value",
             _groups(req.accounts, ACCOUNTS_PER_COUNT), open_only),
            (EntitySet.MILESTONES, "msp_engagementmilestoneid", "_msp_parentaccount_value",
             _groups(req.accounts, ACCOUNTS_PER_COUNT), None),
            (EntitySet.TASKS, "activityid", "_regardingobjectid_value",
             _groups(req.milestones, MILESTONES_PER_COUNT), None),
            (EntitySet.ACCOUNT_TEAMS, "msp_accountteamid", "_msp_accountid_value",
             _groups(req.accounts, ACCOUNTS_PER_COUNT), _cloud_rows()),
        ]
        reads = []
        for entity_set, key, field_name, groups, extra in specs:
            counter = self._counts.setdefault(entity_set, _Counter())
            for group in groups:
                for read in self._by_ids("refreshing", entity_set, field_name, group, (key,), extra=extra):
                    read.params["$count"] = "true"
                    read.page_size, read.on_count = 1, counter.add
                    reads.append(read)
        return reads

    # answers of round 1 ------------------------------------------------------------------------
    @staticmethod
    def _keep(parse: Callable[[object], Any], into: dict[str, Any]) -> Callable[[Rows], None]:
        def keep(rows: Rows) -> None:
            for row in rows:
                record = parse(row)
                into[record.id] = record
        return keep

    def _opportunities(self, rows: Rows) -> None:
        """Open ones are mirrored; a mirrored one that closed gets its new state; others are not mine."""
        for row in rows:
            opportunity = Opportunity.from_row(row)
            if opportunity.state == OPPORTUNITY_OPEN:
                self.snapshot.opportunities[opportunity.id] = opportunity
            elif opportunity.id in self.request.opportunities:
                self.result.closed_opportunities[opportunity.id] = opportunity.state_label or "Closed"

    def _team_delta(self, rows: Rows) -> None:
        """Accounts whose team changed: a row newer than the watermark, or one in the overlap that
        says something the mirror does not hold (rows in the overlap are mostly ones already read)."""
        mark = self.request.since.get(EntitySet.ACCOUNT_TEAMS)
        for row in rows:
            member = AccountTeamMember.from_row(row)
            newer = mark is None or member.modified_on is None or member.modified_on > mark
            if newer or not self._mirrored(member):
                self._team_changed.add(member.account_id)

    def _mirrored(self, member: AccountTeamMember) -> bool:
        links = self.request.team_links
        seller = (member.account_id, member.user_id, "seller") in links
        engineer = (member.account_id, member.user_id, "se") in links
        if member.seller_type is None and member.se_specialty is None:
            return True  # a row that makes no one a seller or SE (another row of the user may)
        return (member.seller_type is None or seller) and (member.se_specialty is None or engineer)

    def _team_delta_cut(self, read: Read) -> Callable[[Rows], list[Read]]:
        """More team rows changed than MSX answers at once: read every account's team again."""
        def _cut(rows: Rows) -> list[Read]:
            self._team_changed.update(self.request.accounts)
            return list(read.on_done(rows))
        return _cut

    # round 2 -----------------------------------------------------------------------------------
    def _after_round_one(self, _results: dict[str, Rows]) -> list[Read]:
        req, snap = self.request, self.snapshot
        reads = self._new_milestone_tasks() + self._new_territories()
        reads += self._listings()
        team_accounts = set(self._team_changed)
        team_rows = self._counts[EntitySet.ACCOUNT_TEAMS].total if req.accounts else 0
        if team_rows is None or team_rows != req.team_rows:
            team_accounts = set(req.accounts)
        if team_accounts:
            self.result.team_accounts = team_accounts
            for account in team_accounts:
                snap.my_roles.setdefault(account, set())
            reads += self.team_reads(sorted(team_accounts))
            missing = sorted(team_accounts - set(snap.accounts))
            reads += self._by_ids("refreshing", EntitySet.ACCOUNTS, "accountid", missing, ACCOUNT_SELECT,
                                  parse=Account.from_row, into=snap.accounts)
        return reads

    def _new_milestone_tasks(self) -> list[Read]:
        new = sorted(set(self.snapshot.milestones) - self.request.milestones)
        return self._by_ids("refreshing", EntitySet.TASKS, "_regardingobjectid_value", new, TASK_SELECT,
                            parse=MsxTask.from_row, into=self.snapshot.tasks)

    def _new_territories(self) -> list[Read]:
        wanted = {a.territory_id for a in self.snapshot.accounts.values() if a.territory_id}
        new = sorted(wanted - self.request.territories)
        return self._by_ids("refreshing", EntitySet.TERRITORIES, "territoryid", new, TERRITORY_SELECT,
                            parse=Territory.from_row, into=self.snapshot.territories)

    def _listings(self) -> list[Read]:
        """Id-only listings of the tables whose count says something left the scope."""
        req, snap, closed = self.request, self.snapshot, set(self.result.closed_opportunities)
        expected = {
            EntitySet.OPPORTUNITIES: (set(req.open_opportunities) - closed) | set(snap.opportunities),
            EntitySet.MILESTONES: set(req.milestones) | set(snap.milestones),
            EntitySet.TASKS: set(req.tasks) | {t.id for t in snap.tasks.values()
                                               if t.regarding_id in req.milestones},
        }
        scopes = {
            EntitySet.OPPORTUNITIES: ("opportunityid", "_parentaccountid_value", req.accounts,
                                      ODataFilter.eq("statecode", OPPORTUNITY_OPEN)),
            EntitySet.MILESTONES: ("msp_engagementmilestoneid", "_msp_parentaccount_value", req.accounts,
                                   None),
            EntitySet.TASKS: ("activityid", "_regardingobjectid_value", req.milestones, None),
        }
        reads: list[Read] = []
        for entity_set, want in expected.items():
            if self._counts[entity_set].total == len(want):
                continue
            key, field_name, ids, extra = scopes[entity_set]
            present = self._present.setdefault(entity_set, set())
            for read in self._by_ids("checking gone records", entity_set, field_name, sorted(ids), (key,),
                                     extra=extra):
                read.on_done = _collect_ids(entity_set, key, present)
                reads.append(read)
        return reads

    # helpers -----------------------------------------------------------------------------------
    def _join(self, read: Read, barrier: Barrier) -> None:
        """``read`` arrives at ``barrier`` after its own ``on_done`` (and after a cut answer's)."""
        name, done, cut = self._expect(barrier), read.on_done, read.on_truncated
        read.on_done = lambda rows: [*done(rows), *barrier.arrive(name, [])]
        if cut is not None:
            read.on_truncated = lambda rows: [*cut(rows), *barrier.arrive(name, [])]


def _cloud_rows() -> ODataFilter:
    """The Cloud & AI rows at corporate level, as the import reads them (reference/001)."""
    return ODataFilter.eq("msp_qualifier1", QUALIFIER1_CORPORATE) & ODataFilter.startswith(
        "msp_qualifier2", CLOUD_ROLE_PREFIX)


def _collect_ids(entity_set: str, key: str, into: set[str]) -> Callable[[Rows], list[Read]]:
    def _done(rows: Rows) -> list[Read]:
        into.update(str(p.guid(entity_set, row, key)) for row in rows)
        return []
    return _done


def fetch_changes(
    transport: ReadTransport,
    request: RefreshRequest,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> tuple[RefreshResult, FetchStats]:
    """Run the refresh's reads (one ``$batch`` a round); `VpnDown` when MSX blocks our address."""
    plan = RefreshPlan(request)
    runner = RoundRunner(transport, progress=progress, cancel=cancel)
    sent_before, started = transport.http_requests, time.monotonic()
    try:
        runner.run(plan.first_reads())
    except NetworkBlocked as exc:
        raise VpnDown(exc.message) from exc
    stats = FetchStats(runner.rounds, runner.parts, transport.http_requests - sent_before,
                       time.monotonic() - started)
    _log.info("refresh read %d rounds, %d HTTP requests", stats.rounds, stats.http_requests)
    return plan.finish(), stats
