"""The reads of an account import, by dependency level, and the snapshot they fill.

Level 0: WhoAmI. Level 1: my msp_accountteams rows (one query per Cloud & AI role, each capped at
100 rows by MSX, so a full answer is continued by key: ``_msp_accountid_value gt <last>``), my team
memberships (account access teams: MSX has been seen to leave msp_accountteams stale; milestone and
opportunity access teams feed "on my team"), my user record. Level 2, for all my accounts at once:
accounts, account team (Cloud & AI rows, 3 accounts a query to stay under the 100-row cap, split
further when a query comes back full), open opportunities, milestones. Level 3: territories (after
the accounts), the sellers' and SEs' user records for their email (after the whole account team),
the tasks regarding the milestones (after the milestones); all by id lists chunked by URL budget.
Queries and filters follow reference/001 ("Import Flow", "Fetching Account Team Members").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from callnotes.dataverse.query import BATCH_URL_BUDGET, ODataFilter, chunk_in_filters, encode_query
from callnotes.msx import _parse as p
from callnotes.msx.records import (
    Account,
    AccountTeamMember,
    Milestone,
    MsxTask,
    MsxUser,
    Opportunity,
    Territory,
    WhoAmI,
)
from callnotes.msx.rounds import Barrier, Read, Rows
from callnotes.msx.schema import (
    ACCESS_TEAM_TYPE,
    ACCOUNT_SELECT,
    ACCOUNT_TEAM_ROW_CAP,
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
    USER_SELECT,
    EntitySet,
    Role,
)

#: Accounts per account-team query: ~22-30 Cloud rows each keeps three under the 100-row cap (reference/001).
TEAM_ACCOUNTS_PER_QUERY = 3


@dataclass
class ImportSnapshot:
    """Everything one import read from MSX, typed; filled as the rounds come back."""

    me: WhoAmI | None = None
    user: MsxUser | None = None
    my_roles: dict[str, set[str]] = field(default_factory=dict)
    access_team_accounts: set[str] = field(default_factory=set)
    my_milestone_teams: set[str] = field(default_factory=set)
    my_opportunity_teams: set[str] = field(default_factory=set)
    accounts: dict[str, Account] = field(default_factory=dict)
    territories: dict[str, Territory] = field(default_factory=dict)
    team: dict[tuple[str, str, str], AccountTeamMember] = field(default_factory=dict)
    opportunities: dict[str, Opportunity] = field(default_factory=dict)
    milestones: dict[str, Milestone] = field(default_factory=dict)
    users: dict[str, MsxUser] = field(default_factory=dict)
    tasks: dict[str, MsxTask] = field(default_factory=dict)
    #: Account-team rows read (``team`` keeps one per account, user and role; MSX may hold two).
    team_rows: int = 0

    @property
    def my_account_ids(self) -> set[str]:
        return set(self.my_roles) | self.access_team_accounts

    def my_team(self) -> list[AccountTeamMember]:
        """The sellers' and SEs' rows on my accounts, in a stable order."""
        mine = self.my_account_ids
        return sorted((m for m in self.team.values() if m.account_id in mine
                       and (m.seller_type is not None or m.se_specialty is not None)),
                      key=lambda m: (m.account_id, m.user_id, m.role or ""))


def _select(*columns: str) -> str:
    return ",".join(columns)


def _read(phase: str, entity_set: str, select: Sequence[str], flt: ODataFilter | None = None,
          **extra: str) -> Read:
    params = {"$select": _select(*select)}
    if flt is not None:
        params["$filter"] = str(flt)
    params.update({f"${k}": v for k, v in extra.items()})
    return Read(phase, entity_set, params)


class ImportPlan:
    """Builds the reads level by level and folds their answers into an `ImportSnapshot`."""

    def __init__(self, snapshot: ImportSnapshot | None = None, *, url_budget: int = BATCH_URL_BUDGET) -> None:
        """``url_budget``: 64 KB for a request line inside ``$batch``, 32 KB for a plain GET."""
        self.snapshot = snapshot or ImportSnapshot()
        self.url_budget = url_budget
        self._read_names = itertools.count()

    def first_reads(self) -> list[Read]:
        return [Read("signing in", "WhoAmI", single=True, on_done=self._after_whoami)]

    # level 1 ---------------------------------------------------------------------------------
    def _after_whoami(self, rows: Rows) -> Iterable[Read]:
        me = self.snapshot.me = WhoAmI.from_row(rows[0])
        names = [f"role:{role.value}" for role in Role] + ["memberships", "user"]
        barrier = Barrier(names, self._after_assignments)
        reads = [self._my_role_read(me.user_id, role, barrier) for role in Role]
        memberships = Read(
            "assignments", f"systemusers({me.user_id})/teammembership_association",
            {"$select": "_regardingobjectid_value,teamid,_teamtemplateid_value",
             "$filter": str(ODataFilter.eq("teamtype", ACCESS_TEAM_TYPE))},
        )
        memberships.on_done = lambda rows: barrier.arrive("memberships", self._memberships(rows))
        user = Read("assignments", f"systemusers({me.user_id})", {"$select": _select(*USER_SELECT)},
                    single=True)
        user.on_done = lambda rows: barrier.arrive("user", self._user(rows))
        return [*reads, memberships, user]

    def _my_role_read(self, user_id: str, role: Role, barrier: Barrier, after: str | None = None) -> Read:
        flt = ODataFilter.eq("_msp_systemuserid_value", p.as_uuid(user_id)) & ODataFilter.eq(
            "msp_qualifier2", role.value)
        if after is not None:
            flt = flt & ODataFilter.gt("_msp_accountid_value", p.as_uuid(after))
        read = _read("assignments", EntitySet.ACCOUNT_TEAMS, ("_msp_accountid_value", "msp_qualifier2"), flt,
                     orderby="_msp_accountid_value")
        read.cap = ACCOUNT_TEAM_ROW_CAP
        name = f"role:{role.value}"
        read.on_done = lambda rows: barrier.arrive(name, self._roles(rows))

        def _continue(rows: Rows) -> list[Read]:
            self._roles(rows)
            # the server ordered by account id: its last row is the key to continue after (SQL Server
            # orders GUIDs its own way, so the client must not compute a maximum itself)
            last = str(rows[-1].get("_msp_accountid_value"))
            return [self._my_role_read(user_id, role, barrier, after=last)]

        read.on_truncated = _continue
        return read

    def _roles(self, rows: Rows) -> Rows:
        for row in rows:
            account = p.guid("msp_accountteam", row, "_msp_accountid_value")
            role = p.text("msp_accountteam", row, "msp_qualifier2") or ""
            self.snapshot.my_roles.setdefault(account, set()).add(role)  # type: ignore[arg-type]
        return []

    def _memberships(self, rows: Rows) -> Rows:
        snap = self.snapshot
        for row in rows:
            record = p.guid("teammembership", row, "_regardingobjectid_value", required=False)
            if record is None:
                continue
            template = p.guid("teammembership", row, "_teamtemplateid_value", required=False)
            kind = row.get("_regardingobjectid_value" + p.LOOKUP_LOGICAL_NAME)
            if template == MILESTONE_TEAM_TEMPLATE_ID or kind == "msp_engagementmilestone":
                snap.my_milestone_teams.add(record)
            elif template == OPPORTUNITY_TEAM_TEMPLATE_ID or kind == "opportunity":
                snap.my_opportunity_teams.add(record)
            elif kind == "account":
                snap.access_team_accounts.add(record)
        return []

    def _user(self, rows: Rows) -> Rows:
        self.snapshot.user = MsxUser.from_row(rows[0])
        return []

    # level 2 ---------------------------------------------------------------------------------
    def _after_assignments(self, _results: dict[str, Rows]) -> list[Read]:
        ids = sorted(self.snapshot.my_account_ids)
        if not ids:
            return []
        snap = self.snapshot
        accounts = Barrier((), self._after_accounts)
        reads = [self._collect(read, accounts, Account.from_row, snap.accounts)
                 for read in self._by_ids("accounts", EntitySet.ACCOUNTS, "accountid", ids, ACCOUNT_SELECT)]
        reads += self.team_reads(ids)
        reads += self._by_ids("opportunities", EntitySet.OPPORTUNITIES, "_parentaccountid_value", ids,
                              OPPORTUNITY_SELECT, extra=ODataFilter.eq("statecode", OPPORTUNITY_OPEN),
                              orderby="name", parse=Opportunity.from_row, into=snap.opportunities)
        milestones = Barrier((), self._after_milestones)
        by_account = self._by_ids("milestones", EntitySet.MILESTONES, "_msp_parentaccount_value", ids,
                                  MILESTONE_SELECT, orderby="msp_name")
        reads += [self._collect(read, milestones, Milestone.from_row, snap.milestones) for read in by_account]
        return reads

    def team_reads(self, account_ids: Sequence[str]) -> list[Read]:
        """The Cloud & AI account team of ``account_ids``, then its sellers' and SEs' user records."""
        team = Barrier((), self._after_team)
        return [self._team_read(account_ids[i:i + TEAM_ACCOUNTS_PER_QUERY], team)
                for i in range(0, len(account_ids), TEAM_ACCOUNTS_PER_QUERY)]

    def _team_read(self, account_ids: Sequence[str], barrier: Barrier, role: Role | None = None,
                   after: str | None = None) -> Read:
        """Cloud & AI rows of a few accounts (reference/001 server-side filter). A full answer may be
        cut at the cap: split per account, then per role, then continue by user id (like my roles)."""
        by_account = ODataFilter.in_("_msp_accountid_value", [p.as_uuid(a) for a in account_ids])
        by_role = (ODataFilter.eq("msp_qualifier2", role.value) if role is not None
                   else ODataFilter.startswith("msp_qualifier2", CLOUD_ROLE_PREFIX))
        terms = [by_account, ODataFilter.eq("msp_qualifier1", QUALIFIER1_CORPORATE), by_role]
        if after is not None:
            terms.append(ODataFilter.gt("_msp_systemuserid_value", p.as_uuid(after)))
        order = {"orderby": "_msp_systemuserid_value"} if role is not None else {}
        flt = ODataFilter.all_of(*terms)
        read = _read("account teams", EntitySet.ACCOUNT_TEAMS, ACCOUNT_TEAM_SELECT, flt, **order)
        read.cap = ACCOUNT_TEAM_ROW_CAP
        name = self._expect(barrier)
        read.on_done = lambda rows: barrier.arrive(name, self._team_rows(rows))
        if len(account_ids) > 1:
            read.on_truncated = lambda _rows: self._split(name, barrier, [
                self._team_read([a], barrier) for a in account_ids])
        elif role is None:
            read.on_truncated = lambda _rows: self._split(name, barrier, [
                self._team_read(account_ids, barrier, r) for r in Role])
        else:  # the server ordered by user id: continue after its last row (never compute a maximum)
            read.on_truncated = lambda rows: self._split(name, barrier, [self._team_read(
                account_ids, barrier, role, str(rows[-1].get("_msp_systemuserid_value")))], keep=rows)
        return read

    def _split(self, name: str, barrier: Barrier, reads: list[Read], keep: Rows | None = None) -> list[Read]:
        """A full (possibly cut) team query is followed by narrower ones; the barrier waits for them.
        ``keep``: rows of the full answer that stay (a continuation reads only what comes after)."""
        return [*reads, *barrier.arrive(name, self._team_rows(keep or []))]

    def _team_rows(self, rows: Rows) -> Rows:
        self.snapshot.team_rows += len(rows)
        for row in rows:
            member = AccountTeamMember.from_row(row)
            self.snapshot.team[(member.account_id, member.user_id, member.role or "")] = member
        return []

    # level 3 ---------------------------------------------------------------------------------
    def _after_accounts(self, _results: dict[str, Rows]) -> list[Read]:
        ids = sorted({a.territory_id for a in self.snapshot.accounts.values() if a.territory_id})
        return self._by_ids("territories", EntitySet.TERRITORIES, "territoryid", ids, TERRITORY_SELECT,
                            parse=Territory.from_row, into=self.snapshot.territories)

    def _after_team(self, _results: dict[str, Rows]) -> list[Read]:
        """The sellers' and SEs' user records: their ``internalemailaddress`` makes Teams chat links."""
        ids = sorted({m.user_id for m in self.snapshot.my_team()})
        return self._by_ids("people", EntitySet.SYSTEM_USERS, "systemuserid", ids, USER_SELECT,
                            parse=MsxUser.from_row, into=self.snapshot.users)

    def _after_milestones(self, _results: dict[str, Rows]) -> list[Read]:
        """Tasks regarding the imported milestones (``_regardingobjectid_value``, reference/000 §6)."""
        ids = sorted(self.snapshot.milestones)
        return self._by_ids("tasks", EntitySet.TASKS, "_regardingobjectid_value", ids, TASK_SELECT,
                            parse=MsxTask.from_row, into=self.snapshot.tasks)

    # helpers ---------------------------------------------------------------------------------
    def _by_ids(self, phase: str, entity_set: str, field_name: str, ids: Sequence[str], select: Sequence[str],
                *, extra: ODataFilter | None = None, orderby: str | None = None,
                parse: Callable[[object], object] | None = None, into: dict | None = None) -> list[Read]:
        """Reads of the rows whose ``field_name`` is one of ``ids``, chunked by URL budget; each
        parsed row lands in ``into`` by its id when ``parse`` is given."""
        options = {"orderby": orderby} if orderby else {}
        reads = [_read(phase, entity_set, select, flt, **options)
                 for flt in (self._chunks(entity_set, field_name, ids, select, extra) if ids else [])]
        if parse is not None and into is not None:
            for read in reads:
                read.on_done = self._store(parse, into)
        return reads

    def _chunks(self, entity_set: str, field_name: str, ids: Sequence[str], select: Sequence[str],
                extra: ODataFilter | None = None) -> list[ODataFilter]:
        # the base stands in for the absolute URL: service root + path + the other options
        base = f"http://org.example/api/data/v9.2/{entity_set}?" + encode_query(
            {"$select": _select(*select), "$orderby": "msp_milestonedate"})
        return chunk_in_filters(field_name, [p.as_uuid(i) for i in ids], url_without_filter=base,
                                budget=self.url_budget, extra=extra)

    @staticmethod
    def _store(parse: Callable[[object], object], into: dict) -> Callable[[Rows], list[Read]]:
        def _done(rows: Rows) -> list[Read]:
            for row in rows:
                record = parse(row)
                into[record.id] = record  # type: ignore[attr-defined]
            return []
        return _done

    def _expect(self, barrier: Barrier) -> str:
        name = f"read:{next(self._read_names)}"
        barrier.expect(name)
        return name

    def _collect(self, read: Read, barrier: Barrier, parse: Callable[[object], object], into: dict) -> Read:
        """``read`` stores its rows in ``into``, then arrives at ``barrier``."""
        store, name = self._store(parse, into), self._expect(barrier)

        def _done(rows: Rows) -> Iterable[Read]:
            store(rows)
            return barrier.arrive(name, rows)
        read.on_done = _done
        return read
