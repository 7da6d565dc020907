"""MSX upserts into the store: ``upsert_records`` (bulk) vs one ``upsert_*`` call per record.

A synthetic import shaped like MSX (territories, sellers, SEs, N accounts with a team of four, one
opportunity, two milestones and a task each) is written twice into a fresh database: once through
``upsert_records`` in one call, once record by record through the per-record functions (row at a
time: flush per row, lookups per reference — what the first round's import cost). Then the same
import again (everything UNCHANGED). SQLite always; PostgreSQL too when 127.0.0.1:5432 answers (a
throw-away schema). Figures: seconds, rows/s, ratio = row-at-a-time seconds / bulk seconds.

    .venv/bin/python bench/store_upsert_bench.py [--accounts 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from _services import postgres_reachable
from callnotes.store import (
    CustomerRecord,
    MilestoneRecord,
    OpportunityRecord,
    SellerRecord,
    SellerType,
    SeSpecialty,
    SolutionEngineerRecord,
    TaskRecord,
    TerritoryRecord,
    make_engine,
    upgrade_database,
    upsert_customer,
    upsert_milestone,
    upsert_opportunity,
    upsert_records,
    upsert_seller,
    upsert_solution_engineer,
    upsert_task,
    upsert_territory,
)

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_ONE: dict[type, Callable[[Session, Any], Any]] = {
    TerritoryRecord: upsert_territory, SellerRecord: upsert_seller,
    SolutionEngineerRecord: upsert_solution_engineer, CustomerRecord: upsert_customer,
    OpportunityRecord: upsert_opportunity, MilestoneRecord: upsert_milestone, TaskRecord: upsert_task,
}


def snapshot(accounts: int) -> list[Any]:
    """Records of an import of ``accounts`` accounts, in dependency order."""
    territories = [TerritoryRecord(f"t-{i}", f"East.SMECC.MAA.{i % 20:02d}{i:02d}", f"MAA {i}")
                   for i in range(max(1, accounts // 50))]
    people = max(2, accounts // 15)
    sellers = [SellerRecord(f"s-{i}", f"Seller {i}", list(SellerType)[i % 2], f"s{i}@example.com")
               for i in range(people)]
    engineers = [SolutionEngineerRecord(f"e-{i}", f"Engineer {i}", list(SeSpecialty)[i % 3])
                 for i in range(people)]
    records: list[Any] = [*territories, *sellers, *engineers]
    for i in range(accounts):
        records.append(CustomerRecord(
            f"a-{i}", f"Account {i}", tpid=str(100000 + i),
            territory_msx_id=territories[i % len(territories)].msx_id,
            seller_msx_ids=[sellers[i % people].msx_id, sellers[(i + 1) % people].msx_id],
            solution_engineer_msx_ids=[engineers[i % people].msx_id, engineers[(i + 7) % people].msx_id]))
    for i in range(accounts):
        records.append(OpportunityRecord(f"o-{i}", f"Opportunity {i}", number=f"7-{i}", state="Open",
                                         customer_msx_id=f"a-{i}"))
    for i in range(accounts * 2):
        records.append(MilestoneRecord(
            f"m-{i}", f"Milestone {i}", status=861980000, status_label="On Track",
            milestone_date=date(2026, 1, 1) + timedelta(days=i % 300), monthly_use=100.0 + i,
            on_my_team=i % 5 == 0, opportunity_msx_id=f"o-{i // 2}", customer_msx_id=f"a-{i // 2}"))
    for i in range(accounts):
        records.append(TaskRecord(f"k-{i}", f"Task {i}", category_code=861980004,
                                  milestone_msx_id=f"m-{i * 2}"))
    return records


def _bulk(session: Session, records: list[Any]) -> None:
    upsert_records(session, records)


def _row_at_a_time(session: Session, records: list[Any]) -> None:
    for record in records:
        _ONE[type(record)](session, record)


def _timed(url: str, write: Callable[[Session, list[Any]], None], records: list[Any]) -> float:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            write(session, records)
            session.commit()
            return time.perf_counter() - started
    finally:
        engine.dispose()


@contextmanager
def _fresh(kind: str, folder: Path, name: str) -> Iterator[str]:
    """A migrated, empty database: a SQLite file in ``folder`` or a throw-away PostgreSQL schema."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{name}.db'}"
        upgrade_database(url)
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        upgrade_database(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(kind: str, records: list[Any], folder: Path) -> None:
    rows = len(records)
    figures: dict[str, list[float]] = {}
    for label, write in (("bulk", _bulk), ("row", _row_at_a_time)):
        with _fresh(kind, folder, label) as url:
            figures[label] = [_timed(url, write, records), _timed(url, write, records)]
    for step, index in (("first import (all created)", 0), ("same import again (unchanged)", 1)):
        bulk, row = figures["bulk"][index], figures["row"][index]
        print(f"{kind:<10} {step:<30} {bulk:>7.2f} s {rows / bulk:>9,.0f} rows/s | "
              f"{row:>7.2f} s {rows / row:>9,.0f} rows/s | {row / bulk:>6.1f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()
    records = snapshot(args.accounts)
    print(f"store upsert bench: {args.accounts:,} accounts = {len(records):,} records "
          "(bulk: upsert_records | row: one upsert_* per record | ratio = row s / bulk s)")
    kinds = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            run(kind, records, Path(tmp))
    if "postgresql" not in kinds:
        print("PostgreSQL: not reachable on 127.0.0.1:5432, skipped")


if __name__ == "__main__":
    main()
