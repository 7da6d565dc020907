"""Access teams, deal teams and team memberships of the generated data set.

Account access teams for every one of the demo user's accounts (and some others), opportunity deal
teams (with matching ``msp_dealteams`` rows, as MSX keeps them) and milestone access teams, the
demo user on most of those in their accounts, plus one owner team. Access teams are named
"<record id>+<team template id>" like the ones Dataverse creates from a team template.
"""

from __future__ import annotations

import random

from callnotes.emulator.table_definitions import (
    ACCOUNT_TEAM_TEMPLATE_ID,
    MILESTONE_TEAM_TEMPLATE_ID,
    OPPORTUNITY_TEAM_TEMPLATE_ID,
)
from callnotes.emulator.tables import Database, Row, type_key


class TeamsMixin:
    """Team generation; mixed into the data set generator, which provides these attributes."""

    rng: random.Random
    db: Database
    user_ids: list[str]
    demo_accounts: list[Row]

    def new_id(self) -> str:
        raise NotImplementedError

    def insert(self, logical_name: str, row: Row) -> Row:
        raise NotImplementedError

    # -- access teams, deal teams, memberships -----------------------------------------------
    def teams(self, demo_user_id: str) -> None:
        self._team(
            "Microsoft Sales", 0, None, None, None, [demo_user_id, *self.rng.sample(self.user_ids[1:], 5)]
        )
        demo_ids = {str(r["accountid"]) for r in self.demo_accounts}
        for account in self.db.tables["account"].rows.values():
            account_id = str(account["accountid"])
            if account_id in demo_ids:
                self._access_team(ACCOUNT_TEAM_TEMPLATE_ID, "account", account_id, demo_user_id)
            elif self.rng.random() < 0.2:
                self._access_team(ACCOUNT_TEAM_TEMPLATE_ID, "account", account_id, None)
        for opportunity in self.db.tables["opportunity"].rows.values():
            mine = str(opportunity["parentaccountid"]) in demo_ids
            if self.rng.random() < (0.4 if mine else 0.1):
                with_demo = mine and self.rng.random() < 0.7
                self._access_team(
                    OPPORTUNITY_TEAM_TEMPLATE_ID,
                    "opportunity",
                    str(opportunity["opportunityid"]),
                    demo_user_id if with_demo else None,
                )
        for milestone in self.db.tables["msp_engagementmilestone"].rows.values():
            mine = str(milestone["msp_parentaccount"]) in demo_ids
            if self.rng.random() < (0.35 if mine else 0.05):
                with_demo = mine and self.rng.random() < 0.7
                self._access_team(
                    MILESTONE_TEAM_TEMPLATE_ID,
                    "msp_engagementmilestone",
                    str(milestone["msp_engagementmilestoneid"]),
                    demo_user_id if with_demo else None,
                )

    def _access_team(self, template_id: str, logical: str, record_id: str, demo_user_id: str | None) -> None:
        members = self.rng.sample(self.user_ids[1:], self.rng.randint(1, 3))
        if demo_user_id is not None:
            members.insert(0, demo_user_id)
        # Dataverse names an auto-created access team "<record id>+<team template id>".
        self._team(f"{record_id}+{template_id}", 1, template_id, logical, record_id, members)
        if logical == "opportunity":
            for user_id in members:
                self.insert(
                    "msp_dealteam",
                    {
                        "msp_dealteamid": self.new_id(),
                        "msp_name": "Deal Team Member",
                        "msp_dealteamuserid": user_id,
                        "msp_parentopportunityid": record_id,
                        "statecode": 0 if self.rng.random() < 0.9 else 1,
                    },
                )

    def _team(
        self,
        name: str,
        team_type: int,
        template_id: str | None,
        logical: str | None,
        record_id: str | None,
        members: list[str],
    ) -> str:
        team = self.insert(
            "team",
            {
                "teamid": self.new_id(),
                "name": name,
                "teamtype": team_type,
                "teamtemplateid": template_id,
                "regardingobjectid": record_id,
                type_key("regardingobjectid"): logical,
                "description": None,
            },
        )
        for user_id in members:
            self.insert(
                "teammembership",
                {"teammembershipid": self.new_id(), "teamid": team["teamid"], "systemuserid": user_id},
            )
        return str(team["teamid"])
