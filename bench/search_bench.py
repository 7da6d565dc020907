"""Search latency over 100,000 generated notes, against baselines measured in the same run.

Everything runs in one process on the same tables, so the ratios hold whatever the machine.
SQLite always (a temp file); PostgreSQL too when 127.0.0.1:5432 answers (a temp schema, dropped).

    .venv/bin/python bench/search_bench.py [--notes N] [--repeat R]

Figures (ms), p50 / p95 of ``callnotes.store.search.search()`` (every kind, limit 20):

* "best" — ranked (the newest 500 matches, bm25 / ts_rank_cd), snippets for the 20 shown;
* "newest" — ``order=newest``: notes by call date;
* baseline "rank all" — the plan search had before: the ranking function over *every* match, then
  snippets (the same SQL shape, run here); ratio = rank all / best;
* baseline "LIKE scan" — ``lower(col) LIKE '%word%'`` over the same text, every match.

Then searches **without a word** (the notes of a customer, a topic, an attendee, a month, newest
first) against ``list_notes`` with the same filter (the notes list the pages had), and the customer
page's notes query under migration 0002's indexes and under 0001's: ratio = 0001 / 0002.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, or_, select, text
from sqlalchemy.orm import Session

from _services import postgres_reachable
from callnotes.store.db import make_engine, upgrade_database
from callnotes.store.migrations.fts_0007 import attendee_rows_sql
from callnotes.store.models import Customer, Note, Topic, note_topics
from callnotes.store.repo.notes import list_notes
from callnotes.store.search import SearchFilters, search

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 20261122
_COMMON = ("the customer team azure meeting plan cost review migration workload data app cloud next "
           "steps security network follow action timeline budget demo pilot capacity support").split()
_DOMAIN = ("kubernetes aks fabric synapse databricks cosmos postgres sentinel defender openai copilot "
           "arc avd sap oracle mainframe terraform bicep devops github purview entra intune").split()
_PEOPLE = [f"{first} {last}" for first in ("Ann", "Bob", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana")
           for last in ("Lee", "Stone", "Ortiz", "Chen", "Novak")]
QUERIES = {
    "rare word": "quetzalcoatl",
    "domain word": "databricks",
    "common word": "migration",
    "two words": "kubernetes budget",
    "prefix": "sentin",
    "customer name": "contoso",
}


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    filler = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(3000)]
    return _COMMON * 8 + _DOMAIN + filler


def _body(rng: random.Random, vocabulary: list[str]) -> str:
    words = rng.choices(vocabulary, k=rng.randint(40, 90))
    if rng.random() < 0.001:
        words.insert(rng.randrange(len(words)), "quetzalcoatl")
    return "# " + " ".join(words[:6]) + "\n\n" + " ".join(words[6:])


@contextmanager
def _bulk_load(connection: Connection) -> Iterator[None]:
    """Load without per-row index triggers, then rebuild the index once (search is measured, not loading).

    SQLite: drop the triggers, load, ``'rebuild'`` each FTS5 table, re-create the triggers from their
    stored SQL. PostgreSQL: ``session_replication_role = replica`` skips the triggers; the generated
    tsvector columns are computed anyway. Rows carry a precomputed ``search_context``.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        connection.execute(text("SET LOCAL session_replication_role = origin"))
        connection.exec_driver_sql(
            "INSERT INTO note_attendees (note_id, position, name, name_key) "
            "SELECT n.id, (a.k - 1)::int, a.v, lower(a.v) FROM notes n, "
            "json_array_elements_text(n.attendees) WITH ORDINALITY AS a(v, k)")
        return
    triggers = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
    for name, _ in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for table in ("notes", "customers", "topics"):
        connection.exec_driver_sql(f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')")
    connection.exec_driver_sql(attendee_rows_sql("n.id", "n.attendees", "notes n, "))
    for _, sql in triggers:
        connection.exec_driver_sql(sql)


def _note_rows(rng: random.Random, count: int, customers: dict[int, str], topics: dict[int, str],
               vocabulary: list[str], stamps: dict[str, datetime]) -> tuple[list[dict], list[list[int]]]:
    rows, links = [], []
    for _ in range(count):
        customer_id = rng.choice(list(customers)) if rng.random() < 0.9 else None
        topic_ids = rng.sample(list(topics), rng.randint(1, 2)) if rng.random() < 1 / 3 else []
        attendees = rng.sample(_PEOPLE, rng.randint(0, 3))
        context = " ".join([customers[customer_id]] if customer_id else [])
        context = f"{context} {' '.join(sorted(topics[t] for t in topic_ids))} {' '.join(attendees)}".strip()
        rows.append({"uid": str(uuid.uuid4()), "title": "", "body": _body(rng, vocabulary),
                     "call_date": date(2024, 1, 1) + timedelta(days=rng.randrange(1000)),
                     "customer_id": customer_id, "attendees": attendees, "search_context": context,
                     **stamps})
        links.append(topic_ids)
    return rows, links


def generate(engine: Engine, notes: int) -> float:
    """Bulk-insert customers, topics and ``notes`` notes (topics on a third of them); seconds taken."""
    rng = random.Random(SEED)
    vocabulary = _vocabulary(rng)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    started = time.perf_counter()
    with engine.begin() as connection, _bulk_load(connection):
        connection.execute(insert(Customer), [
            {"name": f"{rng.choice(['Contoso', 'Fabrikam', 'Northwind', 'Tailspin', 'Litware'])} {i}",
             "tpid": str(100000 + i), "uid": str(uuid.uuid4()), "account_notes": "", **stamps}
            for i in range(300)])
        connection.execute(insert(Topic), [
            {"name": word.title(), "name_key": word, "uid": str(uuid.uuid4()), **stamps} for word in _DOMAIN])
        customers = dict(connection.execute(select(Customer.id, Customer.name)).all())
        topics = dict(connection.execute(select(Topic.id, Topic.name)).all())
        for start in range(0, notes, 5000):
            rows, links = _note_rows(rng, min(5000, notes - start), customers, topics, vocabulary, stamps)
            ids = connection.execute(insert(Note).returning(Note.id, sort_by_parameter_order=True), rows)
            pairs = [{"note_id": note_id, "topic_id": t}
                     for note_id, ts in zip(ids.scalars(), links, strict=True) for t in ts]
            if pairs:
                connection.execute(insert(note_topics), pairs)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _timed(fn, repeat: int) -> tuple[float, float, int]:
    fn()  # warm up
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))], size


def _like(session: Session, term: str) -> int:
    """The naive search: ``LIKE '%word%'`` on the same text FTS sees (title, body, customer + topics)."""
    conditions = [or_(*(func.lower(column).like(f"%{word.lower()}%")
                        for column in (Note.title, Note.body, Note.search_context)))
                  for word in term.split()]
    return len(session.execute(select(Note.id).where(*conditions)).all())


_RANK_ALL = {  # the plan search() had before this bench's "best": rank every match, then snippet the top
    "sqlite": ("SELECT notes_fts.rowid, bm25(notes_fts, 8.0, 4.0, 1.0) AS s FROM notes_fts "
               "WHERE notes_fts MATCH :m ORDER BY s LIMIT 20",
               "SELECT snippet(notes_fts, -1, '[', ']', '…', 24) FROM notes_fts "
               "WHERE notes_fts MATCH :m AND notes_fts.rowid IN ({ids})"),
    "postgresql": ("SELECT id, ts_rank_cd('{0.1, 0.2, 0.5, 1.0}'::float4[], search_vector, q) AS s "
                   "FROM notes, to_tsquery('english'::regconfig, :m) q WHERE search_vector @@ q "
                   "ORDER BY s DESC LIMIT 20",
                   "SELECT ts_headline('english'::regconfig, body, to_tsquery('english'::regconfig, :m)) "
                   "FROM notes WHERE id IN ({ids})"),
}


def _rank_all(session: Session, term: str) -> int:
    words = term.split()
    postgres = session.get_bind().dialect.name == "postgresql"
    match = " & ".join([*words[:-1], f"{words[-1]}:*"]) if postgres else \
        " ".join([*(f'"{w}"' for w in words[:-1]), f'"{words[-1]}"*'])
    ranked, snippets = _RANK_ALL["postgresql" if postgres else "sqlite"]
    ids = [row[0] for row in session.execute(text(ranked), {"m": match})]
    if ids:
        session.execute(text(snippets.format(ids=",".join(map(str, ids)))), {"m": match}).all()
    return len(ids)


def _customer_page(session: Session, customer_id: int, limit: int | None) -> int:
    """The customer page's notes query: one customer's notes, newest first."""
    stmt = (select(Note.id, Note.title, Note.call_date).where(Note.customer_id == customer_id)
            .order_by(Note.call_date.desc(), Note.created_at.desc(), Note.id.desc()).limit(limit))
    return len(session.execute(stmt).all())


_INDEX_SETS = {  # migration 0002's indexes on notes, and 0001's they replaced (the baseline)
    "0002": {"ix_notes_customer_id_call_date": "customer_id, call_date, created_at, id",
             "ix_notes_call_date_created_at": "call_date, created_at, id"},
    "0001": {"ix_notes_customer_id": "customer_id", "ix_notes_call_date": "call_date"},
}


def _use_indexes(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        for other, indexes in _INDEX_SETS.items():
            for index, columns in indexes.items():
                connection.execute(text(f"DROP INDEX IF EXISTS {index}"))
                if other == name:
                    connection.execute(text(f"CREATE INDEX {index} ON notes ({columns})"))
        connection.execute(text("ANALYZE"))


def customer_page(engine: Engine, repeat: int, extra: int = 5000) -> None:
    """Customer page notes (all, and the newest 20) under 0002's indexes vs 0001's, same data.

    One customer first gets ``extra`` more notes (a customer with many notes, the case 0002 is for).
    """
    rng = random.Random(SEED + 1)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        customer_id = connection.execute(select(func.min(Customer.id))).scalar_one()
        connection.execute(insert(Note), [
            {"uid": str(uuid.uuid4()), "title": f"Call {i}", "body": "weekly sync", "attendees": [],
             "call_date": date(2022, 1, 1) + timedelta(days=rng.randrange(1500)), "customer_id": customer_id,
             "created_at": now, "updated_at": now} for i in range(extra)])
        count = connection.execute(select(func.count()).where(Note.customer_id == customer_id)).scalar_one()
    figures = {}
    for name in ("0001", "0002"):  # ends on 0002, the schema as migrated
        _use_indexes(engine, name)
        with Session(engine) as session:
            figures[name] = [_timed(lambda n=n: _customer_page(session, customer_id, n), repeat)[:2]
                             for n in (None, 20)]
    print(f"customer page, {count:,} notes of one customer (ms): all p50/p95, newest 20 p50/p95")
    for name, label in (("0001", "0001 indexes (baseline)"), ("0002", "0002 indexes")):
        (all50, all95), (top50, top95) = figures[name]
        print(f"  {label:<24} {all50:>7.2f} {all95:>7.2f} {top50:>9.2f} {top95:>7.2f}")
    (old_all, _), (old_top, _) = figures["0001"]
    (new_all, _), (new_top, _) = figures["0002"]
    print(f"  ratio 0001/0002 (p50)     {old_all / new_all:>6.1f}x {'':>7} {old_top / new_top:>8.1f}x")


def _word_searches(session: Session, repeat: int) -> list[float]:
    """The query classes with a word; returns every p95 of the "best" and "newest" modes."""
    print(f"{'query':<14} {'best p50':>8} {'p95':>6} {'newest p50':>10} {'p95':>6} | {'rank all p50':>12} "
          f"{'p95':>6} {'ratio':>6} | {'LIKE p50':>8} {'matches':>8}")
    p95s = []
    for name, query in QUERIES.items():
        best50, best95, _ = _timed(lambda q=query: len(search(session, q, limit=20)), repeat)
        new50, new95, _ = _timed(lambda q=query: len(search(session, q, limit=20, order="newest")), repeat)
        all50, all95, _ = _timed(lambda q=query: _rank_all(session, q), repeat)
        like50, _, matches = _timed(lambda q=query: _like(session, q), max(3, repeat // 5))
        p95s += [best95, new95]
        print(f"{name:<14} {best50:>8.1f} {best95:>6.1f} {new50:>10.1f} {new95:>6.1f} | {all50:>12.1f} "
              f"{all95:>6.1f} {all50 / best50:>5.1f}x | {like50:>8.1f} {matches:>8,}")
    return p95s


def _filters(session: Session) -> dict[str, SearchFilters]:
    customer = session.scalar(select(Note.customer_id).group_by(Note.customer_id)
                              .order_by(func.count().desc()).where(Note.customer_id.is_not(None)).limit(1))
    return {"customer": SearchFilters(customer_id=customer), "topic": SearchFilters(topic="fabric"),
            "attendee": SearchFilters(attendee="ann lee"),
            "month": SearchFilters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))}


def _no_word_searches(session: Session, repeat: int) -> list[float]:
    """Search without a word (the filters' notes, newest first) vs ``list_notes`` with that filter."""
    print(f"\nno word, newest 20  {'search p50':>10} {'p95':>6} | {'list_notes p50':>14} {'p95':>6}")
    p95s = []
    for name, filters in _filters(session).items():
        s50, s95, _ = _timed(lambda f=filters: len(search(session, "", f, limit=20)), repeat)
        keywords = {"customer_id": filters.customer_id, "topic": filters.topic,
                    "date_from": filters.date_from, "date_to": filters.date_to}
        if name == "attendee":
            print(f"{name:<18} {s50:>11.1f} {s95:>6.1f} | {'(no such filter)':>14}")
        else:
            l50, l95, _ = _timed(lambda k=keywords: len(list_notes(session, limit=20, **k)), repeat)
            print(f"{name:<18} {s50:>11.1f} {s95:>6.1f} | {l50:>14.1f} {l95:>6.1f}")
        p95s.append(s95)
    return p95s


def run(label: str, url: str, notes: int, repeat: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    try:
        seconds = generate(engine, notes)
        print(f"\n{label}: generated {notes:,} notes in {seconds:.1f} s (ms below)")
        with Session(engine) as session:
            p95s = _word_searches(session, repeat) + _no_word_searches(session, repeat)
        print(f"worst p95 of search(): {max(p95s):.1f} ms (target 10 ms)")
        customer_page(engine, repeat)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    print(f"search bench: {args.notes:,} notes, {args.repeat} timed runs per query (limit 20, with "
          "snippets; baselines measured in the same run)")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite FTS5", f"sqlite:///{Path(tmp) / 'bench.db'}", args.notes, args.repeat)
    if not postgres_reachable():
        print("\nPostgreSQL: not reachable on 127.0.0.1:5432, skipped")
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        run("PostgreSQL tsvector", url, args.notes, args.repeat)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
