"""Web bench: the customer page with 1,000 notes (and a 25-person account team, open milestones and
opportunities: what the page shows first), the milestone tracker over 2,000 milestones with its filters,
and HoK coverage, against baselines measured in the same run.

The app runs under real uvicorn on 127.0.0.1 (SQLite in a temporary directory, or
``CALLNOTES_DATABASE_URL``); one keep-alive HTTP client asks each URL ``--requests`` times after a
warm-up. Printed: p50 / p95 in ms and the ratios against ``/healthz`` and the page of a customer
with 10 notes.

    .venv/bin/python bench/web_bench.py [--notes 1000] [--milestones 2000] [--requests 60]
    CALLNOTES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test .venv/bin/python bench/web_bench.py
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from _services import bench_database
from callnotes.config import Settings
from callnotes.domain import FiscalQuarter, SellerType, SeSpecialty
from callnotes.store.db import (
    make_engine,
    make_session_factory,
    session_scope,
    upgrade_database,
)
from callnotes.store.models import Customer, Milestone, Opportunity, Seller, SolutionEngineer
from callnotes.store.repo.customers import CustomerInput, create_customer
from callnotes.store.repo.notes import NoteInput, create_note
from callnotes.web.app import create_app
from callnotes.web.server import running_server

_TOPICS = ["AKS", "Cost", "Data", "Security", "Migration", "Fabric", "Networking", "Identity"]
_BODY = (
    "## Attendees\nAnn, Bob\n\n## Notes\nDiscussed the **{topic}** roadmap, the migration wave {n} and "
    "next steps for the platform team.\n\n- [ ] follow up on quota\n- [ ] share the reference architecture\n"
)


def _seed_milestones(session: Session, count: int) -> None:
    """``count`` MSX milestones over 50 customers of their own and the next 400 days; a fifth on my
    team (the customers of the note pages keep none, so their baselines stay as they were)."""
    owners = [create_customer(session, CustomerInput(name=f"Milestone Customer {i}")).id for i in range(50)]
    today = datetime.now(UTC).date()
    session.add_all(Milestone(
        name=f"Milestone {n}", msx_id=str(uuid.UUID(int=n + 1)), customer_id=owners[n % len(owners)],
        milestone_date=today + timedelta(days=n % 400), on_my_team=n % 5 == 0, status_label="On Track",
        monthly_use=float(n * 10)) for n in range(count))


def _seed_account(session: Session, customer: Customer) -> list[int]:
    """The large customer's account team (10 sellers, 15 SEs), 8 milestones (2 closed, 2 overdue, half on
    my team) and 5 opportunities; the milestone ids, for notes to link."""
    today = datetime.now(UTC).date()
    kinds, specialties = list(SellerType), list(SeSpecialty)
    customer.sellers = [Seller(name=f"Seller {n}", seller_type=kinds[n % 2], msx_id=f"s-{n}",
                               email=f"seller{n}@example.com") for n in range(10)]
    customer.solution_engineers = [
        SolutionEngineer(name=f"SE {n}", specialty=specialties[n % 3], msx_id=f"e-{n}",
                         email=f"se{n}@example.com") for n in range(15)]
    statuses = ["On Track", "At Risk", "Blocked", "Completed", "On Track", "Cancelled", "On Track", "At Risk"]
    rows = [Milestone(name=f"Account milestone {n}", customer_id=customer.id, msx_id=str(uuid.uuid4()),
                      status_label=status, milestone_date=today + timedelta(days=40 * n - 90),
                      on_my_team=n % 2 == 0, commitment="Committed", workload="Azure AI",
                      monthly_use=1000.0 * n)
            for n, status in enumerate(statuses)]
    session.add_all(rows)
    session.add_all(Opportunity(name=f"Deal {n}", customer_id=customer.id, state="Open", stage="Develop",
                                estimated_value=100_000.0 * n,
                                estimated_close_date=today + timedelta(days=30 * n),
                                owner_name="Olga Owner", msx_id=str(uuid.uuid4())) for n in range(5))
    session.flush()
    return [m.id for m in rows]


def _seed(settings: Settings, big: int, milestones: int = 0) -> tuple[int, int]:
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        with session_scope(make_session_factory(engine)) as session:
            large = create_customer(session, CustomerInput(name="Large Customer", tpid="1000"))
            small = create_customer(session, CustomerInput(name="Small Customer", tpid="10"))
            account = _seed_account(session, large)
            start = datetime.now(UTC).date()
            for customer, count in ((large, big), (small, 10)):
                for n in range(count):
                    topic = _TOPICS[n % len(_TOPICS)]
                    linked = [account[n % len(account)]] if customer is large and n % 3 == 0 else []
                    create_note(session, NoteInput(
                        body=_BODY.format(topic=topic, n=n), call_date=start - timedelta(days=n % 700),
                        customer_id=customer.id, topics=[topic, _TOPICS[(n + 3) % len(_TOPICS)]],
                        milestone_ids=linked))
            _seed_milestones(session, milestones)
            return large.id, small.id
    finally:
        engine.dispose()


def _timings(client: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(5):
        client.get(path).raise_for_status()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--milestones", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with (tempfile.TemporaryDirectory(prefix="callnotes-web-bench-") as folder,
          bench_database(Path(folder), "web_bench") as url):
        settings = Settings(database_url=url, data_dir=Path(folder), crm_url=None)
        started = time.perf_counter()
        large, small = _seed(settings, args.notes, args.milestones)
        seconds = time.perf_counter() - started
        print(f"seeded {args.notes} + 10 notes, {args.milestones} milestones in {seconds:.1f} s "
              f"({make_engine(url).dialect.name})")
        with running_server(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as client:
            quarter = FiscalQuarter.of(datetime.now(UTC).date()).slug
            cases = {
                "/healthz": "/healthz",
                "customer page, 10 notes": f"/customers/{small}",
                f"customer page, {args.notes} notes": f"/customers/{large}",
                "customer page, more notes (htmx)": f"/customers/{large}/notes?offset=20",
                f"API notes of customer, {args.notes}": f"/api/notes?customer_id={large}",
                "tracker (50 a page)": "/milestones",
                "tracker, page 20 by customer": "/milestones?sort=customer&page=20",
                "tracker on my team": "/milestones?show=team",
                "tracker due in 30 days": "/milestones?show=due",
                "tracker quarter + status + team": f"/milestones?quarter={quarter}&status=On+Track&team=1",
                "tracker overdue, closed shown": "/milestones?overdue=1&closed=1",
                "HoK coverage": "/hok",
                "home (due soon with team buttons)": "/",
            }
            results = {name: _timings(client, path, args.requests) for name, path in cases.items()}
    health = statistics.median(results["/healthz"])
    small_page = statistics.median(results["customer page, 10 notes"])
    print(f"\n{'request':<36} {'p50 ms':>8} {'p95 ms':>8} {'x healthz':>10} {'x 10-note page':>15}")
    for name, samples in results.items():
        p50, p95 = statistics.median(samples), _p(samples, 95)
        print(f"{name:<36} {p50:>8.1f} {p95:>8.1f} {p50 / health:>10.1f} {p50 / small_page:>15.1f}")
    print(f"\n{args.requests} requests per row after 5 warm-ups; one keep-alive client, real uvicorn.")


if __name__ == "__main__":
    main()
