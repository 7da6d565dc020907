"""The starred milestones in the JSON export (``milestone_favourites``: the milestone's uid and when it
was starred) and back, so an export → wipe → import keeps them. A favourite naming no milestone of the
file or the store is reported (:class:`RowError`) and skipped; one already there is left as it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callnotes.store.column_types import utcnow
from callnotes.store.errors import ImportReport, RowError
from callnotes.store.models import MilestoneFavourite

FAVOURITES = "milestone_favourites"


def export_favourites(session: Session, milestone_uids: dict[int, str]) -> list[dict[str, Any]]:
    """Every favourite, oldest first (ties by the milestone's uid)."""
    rows = session.execute(select(MilestoneFavourite.milestone_id, MilestoneFavourite.created_at))
    favourites = [{"milestone": milestone_uids[milestone_id], "created_at": created_at.isoformat()}
                  for milestone_id, created_at in rows]
    return sorted(favourites, key=lambda f: (f["created_at"], f["milestone"]))


def _starred_at(item: dict[str, Any]) -> datetime:
    value = item.get("created_at")
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"created_at must be an ISO 8601 time with its time zone, not {value!r}")
    return moment


def import_favourites(session: Session, items: list[Any], milestone_ids: dict[str, int],
                      report: ImportReport) -> None:
    """Star the milestones ``items`` name (by uid, from the file or the store). Does not commit."""
    starred = set(session.scalars(select(MilestoneFavourite.milestone_id)))
    for position, item in enumerate(items, start=1):
        uid = item.get("milestone") if isinstance(item, dict) else None
        if not isinstance(uid, str) or uid not in milestone_ids:
            report.errors.append(RowError(position, f"milestone {uid!r} is not in the file or the store",
                                          FAVOURITES))
            continue
        try:
            created_at = _starred_at(item)
        except ValueError as exc:
            report.errors.append(RowError(position, str(exc), FAVOURITES))
            continue
        milestone_id = milestone_ids[uid]
        if milestone_id in starred:
            report.count(FAVOURITES, False)
            continue
        session.add(MilestoneFavourite(milestone_id=milestone_id, created_at=created_at))
        starred.add(milestone_id)
        report.count(FAVOURITES, True)
    session.flush()
