"""Bulk import: ``callnotes import-file`` of a 100,000-note CSV, against the one-note-at-a-time path.

Generates a notes CSV (customer names, topics, attendees, ``- [ ]`` action items on some notes) for
300 customers, then in the same run:

* **bulk** — the real command, ``callnotes import-file notes.csv``, as a subprocess on a fresh SQLite
  store (what a user runs; includes start-up and the commit);
* **restore** — that store exported (``callnotes export``) and read back into an empty store with
  ``callnotes import-file export.json`` (new notes go in in bulk, keeping uids and timestamps);
* **baseline** — the path import-file took before (``create_note`` per row, each in a savepoint,
  the per-row search triggers on) over the first ``--baseline`` rows of the same file, in-process;
  its rate gives the time it would take for the whole file.

Printed: seconds, notes/s, and the ratio. Afterwards the store is checked: every note is there and
full-text search finds them (the index was brought up to date).

    .venv/bin/python bench/bulk_import_bench.py [--notes 100000] [--baseline 3000]
    CALLNOTES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test \
        .venv/bin/python bench/bulk_import_bench.py
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from callnotes.store.db import (
    make_engine,
    make_session_factory,
    normalise_url,
    session_scope,
    upgrade_database,
)
from callnotes.store.models import Customer, Note
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.store.search import search

SEED = 20261201
_WORDS = ("azure migration cost review kubernetes fabric databricks sentinel budget pilot workshop "
          "landing zone network identity backup quota capacity roadmap architecture demo").split()
_TOPICS = ["AKS", "Cost", "Data", "Security", "Migration", "Fabric", "Networking", "Identity"]
_PEOPLE = ["Ann Lee", "Bob Stone", "Casey Data", "Drew Infra", "Eve Chen", "Fay Ortiz"]


def _customer_names() -> list[str]:
    return [f"{name} {i}" for i, name in enumerate(["Contoso", "Fabrikam", "Northwind", "Tailspin",
                                                     "Litware"] * 60)]


def write_csv(path: Path, notes: int) -> None:
    rng = random.Random(SEED)
    customers = _customer_names()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["call_date", "customer", "title", "body", "topics", "attendees"])
        for n in range(notes):
            words = " ".join(rng.choices(_WORDS, k=rng.randint(30, 70)))
            body = f"## Notes\n{words}\n"
            if n % 4 == 0:
                due = f"2026-12-{rng.randint(1, 28):02d}"
                body += f"\n- [ ] send the {rng.choice(_WORDS)} deck due: {due}\n- [x] book room\n"
            writer.writerow([(date(2024, 1, 1) + timedelta(days=rng.randrange(1000))).isoformat(),
                             rng.choice(customers), f"Call {n}" if n % 3 else "", body,
                             ";".join(rng.sample(_TOPICS, rng.randint(0, 2))),
                             ";".join(rng.sample(_PEOPLE, rng.randint(0, 3)))])


def _fresh_url(folder: Path) -> tuple[str, str | None]:
    """SQLite in ``folder``, or a new schema in ``CALLNOTES_DATABASE_URL`` (returned to drop it)."""
    base = os.environ.get("CALLNOTES_DATABASE_URL")
    if not base:
        return f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}", None
    schema = f"bulk_bench_{uuid.uuid4().hex[:12]}"
    engine = make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{normalise_url(base)}?options=-csearch_path%3D{schema}", schema


def _seed_customers(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        for name in _customer_names():
            create_customer(session, CustomerInput(name=name))
    engine.dispose()


def _cli(url: str, data_dir: Path, *args: str) -> float:
    """Seconds ``callnotes ARGS`` takes as a subprocess on the store at ``url``."""
    env = {**os.environ, "CALLNOTES_DATABASE_URL": url, "CALLNOTES_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "callnotes.cli", *args], env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"callnotes {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def bulk(url: str, csv_path: Path, data_dir: Path) -> float:
    return _cli(url, data_dir, "import-file", str(csv_path))


def restore(url: str, folder: Path) -> tuple[float, str, str | None]:
    """Export the store at ``url``, read it back into a new empty one: (seconds, new url, schema)."""
    export_path = folder / "export.json"
    _cli(url, folder / "data", "export", str(export_path))
    target, schema = _fresh_url(folder)
    upgrade_database(target)
    return _cli(target, folder / "data", "import-file", str(export_path)), target, schema


def baseline(url: str, csv_path: Path, rows: int) -> float:
    """The old path: one ``create_note`` per row in its own savepoint (customer looked up per row)."""
    engine = make_engine(url)
    started = time.perf_counter()
    with session_scope(make_session_factory(engine)) as session, csv_path.open(encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            if n >= rows:
                break
            savepoint = session.begin_nested()
            customer_id = session.scalar(select(Customer.id).where(
                func.lower(Customer.name) == row["customer"].lower()))
            create_note(session, NoteInput(
                body=row["body"], call_date=date.fromisoformat(row["call_date"]), title=row["title"],
                customer_id=customer_id, topics=[t for t in row["topics"].split(";") if t],
                attendees=[a for a in row["attendees"].split(";") if a]))
            savepoint.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def _check(url: str, notes: int) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Note))
        found = len(search(session, "kubernetes", limit=20))
        by_attendee = session.scalar(text("SELECT count(*) FROM note_attendees WHERE name_key = 'ann lee'"))
    engine.dispose()
    assert count == notes, (count, notes)
    assert found == 20 and by_attendee, (found, by_attendee)
    return f"check: {count:,} notes stored, search finds them, {by_attendee:,} notes with Ann Lee"


def _drop(schema: str | None) -> None:
    if schema is None:
        return
    engine = make_engine(os.environ["CALLNOTES_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=3_000)
    args = parser.parse_args()
    backend = "PostgreSQL" if os.environ.get("CALLNOTES_DATABASE_URL") else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "notes.csv"
        write_csv(csv_path, args.notes)
        size = csv_path.stat().st_size / 1e6
        print(f"bulk import bench ({backend}): {args.notes:,} notes, {size:.0f} MB CSV, 300 customers")
        schemas = []
        try:
            url, schema = _fresh_url(folder)
            schemas.append(schema)
            _seed_customers(url)
            seconds = bulk(url, csv_path, folder / "data")
            print(f"  bulk (callnotes import-file) {seconds:8.1f} s  {args.notes / seconds:9,.0f} notes/s")
            print(f"  {_check(url, args.notes)}")
            restored, url, schema = restore(url, folder)
            schemas.append(schema)
            print(f"  restore (JSON export → import-file) {restored:6.1f} s"
                  f"  {args.notes / restored:9,.0f} notes/s")
            print(f"  {_check(url, args.notes)}")
            url, schema = _fresh_url(folder)
            schemas.append(schema)
            _seed_customers(url)
            old = baseline(url, csv_path, args.baseline)
            rate = args.baseline / old
            print(f"  baseline (one by one, {args.baseline:,} rows) {old:6.1f} s  {rate:9,.0f} notes/s"
                  f"  → {args.notes / rate:,.0f} s for the whole file")
            print(f"  ratio (notes/s bulk / baseline)  {args.notes / seconds / rate:6.1f}x")
            print(f"  ratio (notes/s restore / baseline)  {args.notes / restored / rate:6.1f}x")
        finally:
            for schema in schemas:
                _drop(schema)


if __name__ == "__main__":
    main()
