"""The deterministic MSX-shaped data set.

Same (seed, accounts) → identical data, GUIDs included: everything comes from one
``random.Random(seed)`` in a fixed order and GUIDs are ``uuid.UUID(int=getrandbits(128), version=4)``.

Shape (emulator contract, "The data set"): a demo user assigned to ``accounts`` accounts among
about three times as many, through ``msp_accountteams`` rows *and* account access-team membership;
about 2 % of them (at least one when accounts >= 10) only through the access team. Each of the demo
user's accounts has 250-300 ``msp_accountteams`` rows, 20-30 of them Corporate "Cloud ..." roles.
To keep ``accounts=1000`` within memory and a few seconds of start-up, the other accounts get smaller
teams (the 20-30 Cloud roles plus 5-15 other rows).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from callnotes.emulator import word_lists
from callnotes.emulator.dataset_teams import TeamsMixin
from callnotes.emulator.plugin_tables import seed_messages
from callnotes.emulator.schema import full_schema
from callnotes.emulator.table_definitions import (
    ACCOUNT_TEAM_TEMPLATE_ID,
    CLOUD_ROLES,
    MILESTONE_STATUS,
    MILESTONE_TEAM_TEMPLATE_ID,
    OBJECT_TYPE_CODES,
    OPPORTUNITY_TEAM_TEMPLATE_ID,
    TASK_CATEGORIES,
)
from callnotes.emulator.tables import Database, Row, type_key

_EPOCH = date(2025, 6, 1)
_DAYS = tuple((_EPOCH + timedelta(days=d)).isoformat() for d in range(500))  # creation dates to pick from
_TODAY = date(2026, 11, 22)


def _sales_stage(state: int, close: date) -> int:
    """``salesstage`` from how near the close is (no draw of the generator: the rest stays as it was)."""
    if state != 0:
        return 3
    days = (close - _TODAY).days
    return 0 if days > 180 else 1 if days > 90 else 2 if days > 30 else 3


@dataclass
class Dataset:
    """The database plus the ground truth tests compare against."""

    database: Database
    seed: int
    accounts: int
    demo_user_id: str
    my_account_ids: list[str] = field(default_factory=list)
    access_only_account_ids: list[str] = field(default_factory=list)


class _Generator(TeamsMixin):
    def __init__(self, seed: int, accounts: int) -> None:
        self.rng = random.Random(seed)
        self.n = accounts
        self.db = Database(full_schema())
        self.users: list[Row] = []
        self.user_ids: list[str] = []
        self.workload_ids: list[str] = []
        self.territory_ids: list[str] = []
        self.demo_accounts: list[Row] = []
        self.access_only: set[str] = set()
        self._labels: dict[tuple[str, str], str] = {}

    # -- primitives ------------------------------------------------------------------------
    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self, row: Row) -> Row:
        day, minute = divmod(self.rng.randrange(len(_DAYS) * 1440), 1440)
        created = f"{_DAYS[day]}T{minute // 60:02d}:{minute % 60:02d}:00Z"
        row["createdon"] = created
        row["modifiedon"] = created
        row["versionnumber"] = self.db.next_version()
        return row

    def insert(self, logical_name: str, row: Row) -> Row:
        return self.db.tables[logical_name].insert(self.stamp(row))

    # -- entities --------------------------------------------------------------------------
    def users_and_reference_data(self) -> str:
        demo = self._user("Dana", "Whitfield", "Cloud Solution Engineer")
        for index in range(max(400, 120 + 3 * self.n)):
            first, last = self.rng.choice(word_lists.FIRST_NAMES), self.rng.choice(word_lists.LAST_NAMES)
            self._user(first, last, self.rng.choice(word_lists.USER_TITLES), suffix=str(index))
        for workload in word_lists.WORKLOADS:
            workload_id = self.new_id()
            self.insert("msp_workload", {"msp_workloadid": workload_id, "msp_name": workload})
            self.workload_ids.append(workload_id)
        for template_id, name, logical in (
            (ACCOUNT_TEAM_TEMPLATE_ID, "Account Access Team", "account"),
            (OPPORTUNITY_TEAM_TEMPLATE_ID, "Opportunity Deal Team", "opportunity"),
            (MILESTONE_TEAM_TEMPLATE_ID, "Milestone Access Team", "msp_engagementmilestone"),
        ):
            self.insert(
                "teamtemplate",
                {
                    "teamtemplateid": template_id,
                    "teamtemplatename": name,
                    "objecttypecode": OBJECT_TYPE_CODES[logical],
                    "defaultaccessrightsmask": 3,
                    "description": None,
                },
            )
        self._territories()
        return str(demo["systemuserid"])

    def _user(self, first: str, last: str, title: str, suffix: str = "") -> Row:
        alias = f"{first}.{last}{suffix}".lower().replace("'", "").replace(" ", "")
        row = self.insert(
            "systemuser",
            {
                "systemuserid": self.new_id(),
                "fullname": f"{first} {last}",
                "firstname": first,
                "lastname": last,
                "internalemailaddress": f"{alias}@contoso.com",
                "domainname": f"{alias}@contoso.com",
                "title": title,
                "isdisabled": False,
            },
        )
        self.users.append(row)
        self.user_ids.append(str(row["systemuserid"]))
        return row

    def _territories(self) -> None:
        for index in range(max(4, self.n // 8 + 3)):
            region, area = self.rng.choice(word_lists.REGIONS)
            pod, number = 1 + index // 4, 1 + index % 4
            name = f"{region}.SMECC.{area}.{pod:02d}{number:02d}"
            row = self.insert(
                "territory",
                {
                    "territoryid": self.new_id(),
                    "name": name,
                    "msp_accountteamunitname": f"{region}.SMECC.{area} ATU {pod:02d}",
                    "description": None,
                },
            )
            self.territory_ids.append(str(row["territoryid"]))

    def accounts(self, demo_user_id: str) -> None:
        total = 3 * self.n + 2
        demo_slots = set(self.rng.sample(range(total), self.n))
        tricky = list(word_lists.TRICKY_ACCOUNT_NAMES)
        last_tpid = ""
        for index in range(total):
            mine = index in demo_slots
            name = tricky.pop(0) if mine and tricky else word_lists.company_name(self.rng, index)
            tpid = (
                last_tpid
                if last_tpid and self.rng.random() < 0.08
                else str(self.rng.randint(1_000_000, 99_999_999))
            )
            last_tpid = tpid
            row = self.insert(
                "account",
                {
                    "accountid": self.new_id(),
                    "name": name,
                    "msp_mstopparentid": tpid,
                    "accountnumber": f"A{index:07d}",
                    "territoryid": self.rng.choice(self.territory_ids),
                    "ownerid": self.rng.choice(self.user_ids),
                    type_key("ownerid"): "systemuser",
                    "statecode": 0,
                },
            )
            if mine:
                self.demo_accounts.append(row)
        access_only_count = max(1 if self.n >= 10 else 0, round(self.n * 0.02))
        for row in self.rng.sample(self.demo_accounts, access_only_count):
            self.access_only.add(str(row["accountid"]))

    def account_teams(self, demo_user_id: str) -> None:
        demo_ids = {str(r["accountid"]) for r in self.demo_accounts}
        for account in list(self.db.tables["account"].rows.values()):
            account_id = str(account["accountid"])
            mine = account_id in demo_ids
            cloud = self.rng.randint(20, 30)
            others = self.rng.randint(250, 300) - cloud if mine else self.rng.randint(5, 15)
            members = self.rng.sample(self.users[1:], cloud + others)
            created = str(self.stamp({})["createdon"])  # an account's team is assigned in one go
            for position, user in enumerate(members):
                self._team_row(account_id, user, *self._role(position, cloud), created=created)
            if mine and account_id not in self.access_only:
                role = self.rng.choice(CLOUD_ROLES)
                self._team_row(
                    account_id, self.users[0], "Corporate", role, word_lists.title_for(role), created=created
                )
                if self.rng.random() < 0.05:
                    self._team_row(
                        account_id,
                        self.users[0],
                        "Corporate",
                        "Cloud & AI Data",
                        "Solution Engineers IC",
                        created=created,
                    )

    def _role(self, position: int, cloud: int) -> tuple[str, str, str]:
        if position < cloud:
            role = CLOUD_ROLES[position % len(CLOUD_ROLES)] if position < 10 else self.rng.choice(CLOUD_ROLES)
            title = (
                word_lists.title_for(role)
                if position < 10
                else self.rng.choice((*word_lists.CLOUD_OTHER_TITLES, word_lists.title_for(role)))
            )
            return "Corporate", role, title
        qualifier1 = self.rng.choice(word_lists.QUALIFIER1_OTHER)
        if qualifier1 != "Corporate" and self.rng.random() < 0.2:
            role = self.rng.choice(CLOUD_ROLES)  # Cloud roles at Area/Region level: excluded by qualifier1
        else:
            role = self.rng.choice(word_lists.OTHER_ROLES)
        return qualifier1, role, self.rng.choice(word_lists.OTHER_TITLES)

    def _team_row(
        self, account_id: str, user: Row, qualifier1: str, qualifier2: str, title: str, *, created: str
    ) -> None:
        # Shared label strings keep accounts=1000 (about 350,000 rows) within a few hundred MB.
        label_key = (str(user["systemuserid"]), qualifier2)
        label = self._labels.get(label_key)
        if label is None:
            label = self._labels[label_key] = f"{user['fullname']} - {qualifier2}"
        self.db.tables["msp_accountteam"].insert(
            {
                "msp_accountteamid": self.new_id(),
                "msp_name": label,
                "msp_accountid": account_id,
                "msp_systemuserid": user["systemuserid"],
                "msp_fullname": user["fullname"],
                "msp_qualifier1": qualifier1,
                "msp_qualifier2": qualifier2,
                "msp_standardtitle": title,
                "statecode": 0,
                "createdon": created,
                "modifiedon": created,
                "versionnumber": self.db.next_version(),
            }
        )

    def opportunities(self, demo_user_id: str) -> None:
        demo_ids = {str(r["accountid"]) for r in self.demo_accounts}
        for account in list(self.db.tables["account"].rows.values()):
            account_id = str(account["accountid"])
            mine = account_id in demo_ids
            for _ in range(self.rng.randint(1, 4 if mine else 2)):
                self._opportunity(account, state=0, mine=mine, demo_user_id=demo_user_id)
            for _ in range(self.rng.randint(0, 2)):
                self._opportunity(
                    account, state=self.rng.choice((1, 2)), mine=mine, demo_user_id=demo_user_id
                )

    def _opportunity(self, account: Row, state: int, mine: bool, demo_user_id: str) -> None:
        close = _TODAY + timedelta(days=self.rng.randint(-200, 400))
        owner = demo_user_id if mine and self.rng.random() < 0.3 else self.rng.choice(self.user_ids)
        opportunity = self.insert(
            "opportunity",
            {
                "opportunityid": self.new_id(),
                "name": f"{account['name']} - {self.rng.choice(word_lists.WORKLOADS)} "
                f"{self.rng.choice(word_lists.OPP_KINDS)}",
                "msp_opportunitynumber": f"7-{self.rng.getrandbits(40):010X}",
                "parentaccountid": account["accountid"],
                "ownerid": owner,
                type_key("ownerid"): "systemuser",
                "statecode": state,
                "statuscode": {0: 1, 1: 3, 2: 5}[state],
                "estimatedclosedate": close.isoformat(),
                "msp_estcompletiondate": (close + timedelta(days=90)).isoformat(),
                "estimatedvalue": float(self.rng.randrange(5_000, 2_000_000, 500)),
                "salesstage": _sales_stage(state, close),
                "msp_consumptionconsumedrecurring": float(self.rng.randrange(0, 200_000, 100)),
                "description": None,
            },
        )
        for _ in range(self.rng.randint(1, 3) if state == 0 else self.rng.randint(0, 1)):
            self._milestone(opportunity, account, mine, demo_user_id)

    def _milestone(self, opportunity: Row, account: Row, mine: bool, demo_user_id: str) -> None:
        when = _TODAY + timedelta(days=self.rng.randint(-150, 300))
        comments = [
            {
                "text": self.rng.choice(word_lists.COMMENTS),
                "author": str(self.rng.choice(self.users)["fullname"]),
                "date": (when - timedelta(days=self.rng.randint(1, 60))).isoformat(),
            }
            for _ in range(self.rng.randint(0, 2))
        ]
        owner = demo_user_id if mine and self.rng.random() < 0.25 else self.rng.choice(self.user_ids)
        milestone = self.insert(
            "msp_engagementmilestone",
            {
                "msp_engagementmilestoneid": self.new_id(),
                "msp_name": f"{self.rng.choice(word_lists.MILESTONE_NAMES)} - {account['name']}",
                "msp_milestonenumber": str(self.rng.randint(100_000_000, 999_999_999)),
                "msp_milestonestatus": self.rng.choices(
                    list(MILESTONE_STATUS), weights=(50, 15, 5, 15, 5, 5, 5)
                )[0],
                "msp_milestonedate": when.isoformat(),
                "msp_monthlyuse": float(self.rng.randrange(0, 50_000, 50)),
                "msp_commitmentrecommendation": self.rng.choice((861980000, 861980001, 861980002)),
                "msp_milestonecategory": self.rng.choice((861980000, 861980001, 861980002, 861980003)),
                "ownerid": owner,
                type_key("ownerid"): "systemuser",
                "msp_workloadlkid": self.rng.choice(self.workload_ids),
                "msp_opportunityid": opportunity["opportunityid"],
                "msp_parentaccount": account["accountid"],
                "msp_forecastcommentsjsonfield": json.dumps(comments) if comments else None,
                "msp_forecastcomments": "; ".join(c["text"] for c in comments) or None,
                "statecode": 0,
            },
        )
        for _ in range(self.rng.randint(0, 3 if mine else 1)):
            self._task(
                milestone,
                demo_user_id if mine and self.rng.random() < 0.5 else self.rng.choice(self.user_ids),
            )

    def _task(self, milestone: Row, owner: str) -> None:
        category = self.rng.choice(list(TASK_CATEGORIES))
        state = self.rng.choice((0, 0, 1))
        self.insert(
            "task",
            {
                "activityid": self.new_id(),
                "subject": f"{TASK_CATEGORIES[category]}: {self.rng.choice(word_lists.TASK_SUBJECTS)}",
                "description": None,
                "msp_taskcategory": category,
                "scheduleddurationminutes": self.rng.choice((30, 60, 90, 120)),
                "prioritycode": self.rng.choice((0, 1, 1, 2)),
                "scheduledend": f"{milestone['msp_milestonedate']}T17:00:00Z",
                "regardingobjectid": milestone["msp_engagementmilestoneid"],
                type_key("regardingobjectid"): "msp_engagementmilestone",
                "ownerid": owner,
                type_key("ownerid"): "systemuser",
                "statecode": state,
                "statuscode": 5 if state == 1 else 2,
            },
        )


def build_dataset(seed: int, accounts: int) -> Dataset:
    """Generate the data set for (seed, accounts); identical output for identical input."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    generator = _Generator(seed, accounts)
    demo_user_id = generator.users_and_reference_data()
    generator.accounts(demo_user_id)
    generator.account_teams(demo_user_id)
    generator.opportunities(demo_user_id)
    generator.teams(demo_user_id)
    seed_messages(generator.db, generator.db.schema)
    mine = [str(r["accountid"]) for r in generator.demo_accounts]
    return Dataset(
        database=generator.db,
        seed=seed,
        accounts=accounts,
        demo_user_id=demo_user_id,
        my_account_ids=mine,
        access_only_account_ids=[a for a in mine if a in generator.access_only],
    )
