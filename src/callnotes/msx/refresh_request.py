"""What an incremental refresh asks (`RefreshRequest`: the mirror's live MSX ids and how far each
table was read) and what it finds (`RefreshResult`); the reads are planned in refresh_plan.py, where the
choice of ``modifiedon`` watermarks over change tracking is explained."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callnotes.msx.import_plan import ImportSnapshot
from callnotes.msx.schema import EntitySet

#: Rows changed within this much before the watermark are asked for again: a row written in a
#: transaction that committed after a later one is not missed (the server's clock, never ours).
OVERLAP = timedelta(minutes=2)

#: The tables a refresh keeps a watermark for (watermark names are their entity sets).
WATERMARKED = (EntitySet.ACCOUNTS, EntitySet.OPPORTUNITIES, EntitySet.MILESTONES, EntitySet.TASKS,
               EntitySet.ACCOUNT_TEAMS)


@dataclass(frozen=True)
class RefreshRequest:
    """What the mirror holds (live MSX ids), whose it is, and how far each table was read."""

    user_id: str
    accounts: frozenset[str]
    territories: frozenset[str] = frozenset()
    open_opportunities: frozenset[str] = frozenset()
    opportunities: frozenset[str] = frozenset()
    milestones: frozenset[str] = frozenset()
    tasks: frozenset[str] = frozenset()
    #: Per entity set: the greatest ``modifiedon`` read so far (None: read the whole scope).
    since: Mapping[str, datetime | None] = field(default_factory=dict)
    #: Account-team rows in scope at the last read (None: unknown, so the teams are read again).
    team_rows: int | None = None
    #: The account teams as mirrored: (account id, user id, "seller" | "se").
    team_links: frozenset[tuple[str, str, str]] = frozenset()


@dataclass
class RefreshResult:
    """What changed: the changed records as a (partial) snapshot, and the bookkeeping around it."""

    snapshot: ImportSnapshot
    #: Opportunities of the mirror MSX now lists as closed, with their state ("Won", "Lost"…).
    closed_opportunities: dict[str, str | None] = field(default_factory=dict)
    #: Per entity set: MSX ids of the mirror no longer in scope (deleted, or moved off my accounts).
    gone: dict[str, set[str]] = field(default_factory=dict)
    #: Per entity set: the greatest ``modifiedon`` among the rows read.
    newest: dict[str, datetime] = field(default_factory=dict)
    #: Accounts whose whole account team was read again (their seller / SE lists are complete).
    team_accounts: set[str] = field(default_factory=set)
    #: Account-team rows in scope now (None when MSX could not count them).
    team_rows: int | None = None
    #: Accounts I was given a Cloud & AI role on since the last read that the mirror does not hold
    #: (the refresh leaves them to an import, which brings their whole world).
    new_accounts: set[str] = field(default_factory=set)
