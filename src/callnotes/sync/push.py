"""``callnotes push``: local records to any Dataverse table by a declarative mapping, create-or-update.

For each batch of local records (`PUSH_BATCH`): build what each would send (push_payload.py), skip the
unchanged ones (their fingerprint is the one last accepted) and those without a key, look up the rest
that have no known remote id and no usable alternate key with keyed queries (one ``$batch`` of GETs),
then send the writes — one change set per record, `PUSH_BATCH` records per ``$batch``
(``odata.continue-on-error``: one refused record does not stop the others) — and record every outcome
in the store (``push_records``). Answers that call for another request (the record exists, was deleted)
go out in the next round; a passing failure is retried a few times with backoff, then kept per record
with its reason like a refusal. A blocked VPN or a refused sign-in stops the push: nothing is lost,
the next push picks up where this one stopped. ``dry_run`` reads (to tell creates from updates) but
writes nothing, locally or remotely.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from callnotes.dataverse import (
    AuthError,
    BatchError,
    BatchResult,
    ChangeSet,
    DataverseClient,
    DataverseError,
    NetworkBlocked,
    Throttled,
)
from callnotes.dataverse.client import primary_key_for
from callnotes.dataverse.metadata import logical_name, option_values
from callnotes.store import StoreError, session_scope
from callnotes.store.column_types import utcnow
from callnotes.store.repo import push_records, push_sources
from callnotes.sync.errors import SyncError
from callnotes.sync.mappings import FieldType, MappingSpec
from callnotes.sync.push_payload import RecordPayload, build_payload
from callnotes.sync.push_plan import Action, Verdict, Work, first_action, judge, pulled_values, request_for

_log = logging.getLogger(__name__)

#: Records per ``$batch`` (each a change set of its own; far below the 1,000-request limit).
PUSH_BATCH = 100
#: Rounds per batch of records: follow-ups (exists → update, deleted → create) and retries.
MAX_ROUNDS = 6
#: Passing failures of one record within one push before it is recorded as failed.
MAX_TRIES = 3
#: A record that failed for a passing reason waits this long (doubling) before a scheduled push tries.
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
#: A record the CRM refused waits this long before a scheduled push tries it again.
REFUSED_BACKOFF = timedelta(hours=6)


class PushStopped(SyncError):
    """The CRM cannot be reached or will not let us in; the push stops (what is not sent waits)."""


@dataclass
class PushReport:
    mapping: str
    table: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0
    http_requests: int = 0
    planned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.stopped is None

    def lines(self) -> list[str]:
        verb = "would send" if self.dry_run else "sent"
        counts = (f"{self.created} to create, {self.updated} to update" if self.dry_run
                  else f"{self.created} created, {self.updated} updated")
        head = (f"{self.mapping} → {self.table}: {counts}, {self.unchanged} unchanged, "
                f"{self.skipped} skipped"
                + (f", {self.waiting} waiting to retry" if self.waiting else "")
                + (f", {self.failed} failed" if self.failed else "")
                + f" ({verb} in {self.http_requests} HTTP request(s))")
        return [head, *(f"  {line}" for line in (*self.planned, *self.notes))]


@dataclass
class _Batch:
    """One batch of local records: what they send, what the store knows of them."""

    works: list[Work]
    known: dict[str, push_records.KnownPush]
    last_id: int


def push_mapping(factory: sessionmaker[Session], client: DataverseClient, mapping: MappingSpec, *,
                 dry_run: bool = False, respect_backoff: bool = False) -> PushReport:
    """Push every record of ``mapping``'s source (see the module docstring)."""
    report = PushReport(mapping.name, mapping.table, dry_run=dry_run)
    before = client.pipeline.requests_sent
    try:
        options = _option_sets(client, mapping)
        after_id = 0
        while (batch := _read_batch(factory, mapping, options, after_id, report, respect_backoff)):
            after_id = batch.last_id
            try:
                _find(client, mapping, batch.works, dry_run=dry_run)
            except PushStopped as exc:
                if not dry_run:
                    _record_stop(factory, mapping, batch.works, str(exc), report)
                raise
            if dry_run:
                _plan_lines(mapping, batch.works, report)
            else:
                _send(factory, client, mapping, batch, report)
    except PushStopped as exc:
        report.stopped = str(exc)
    finally:
        report.http_requests = client.pipeline.requests_sent - before
    return report


def _option_sets(client: DataverseClient, mapping: MappingSpec) -> dict[str, dict[str, int]]:
    """Label → value of every OptionSet column the mapping sends (the org's own labels)."""
    columns = [f.target for f in mapping.sent if f.type is FieldType.OPTIONSET]
    if not columns:
        return {}
    try:
        entity = logical_name(client, mapping.table)
        return {column: option_values(client, entity, column) for column in columns}
    except DataverseError as exc:
        raise PushStopped(f"could not read the options of {mapping.table}: {exc}") from exc


def _read_batch(factory: sessionmaker[Session], mapping: MappingSpec, options: dict[str, dict[str, int]],
                after_id: int, report: PushReport, respect_backoff: bool) -> _Batch | None:
    """The next batch of records that need sending (None when every record was read)."""
    with factory() as session:
        rows = push_sources.source_batch(session, mapping.source, after_id=after_id, limit=PUSH_BATCH)
        if not rows:
            return None
        payloads = [build_payload(mapping, row, options) for row in rows]
        known = push_records.known_pushes(session, mapping.name, [p.uid for p in payloads])
    works = [w for p in payloads if (w := _triage(mapping, p, known.get(p.uid), report, respect_backoff))]
    refused = [w for w in works if w.payload.problem]
    if refused and not report.dry_run:
        _record(factory, mapping, refused, report)
    return _Batch([w for w in works if not w.payload.problem], known, rows[-1].id)


def _triage(mapping: MappingSpec, payload: RecordPayload, known: push_records.KnownPush | None,
            report: PushReport, respect_backoff: bool) -> Work | None:
    """The work ``payload`` needs, or None when it needs none (unchanged, no key, waiting)."""
    if payload.key_value is None:
        report.skipped += 1
        report.notes.append(f"skip {payload.label}: no value for the key ({mapping.key.source})")
        return None
    if payload.problem:
        return Work(payload, Action.FIND, error=payload.problem, failure="refused")
    if known is not None and known.fingerprint == payload.fingerprint and not known.last_error:
        report.unchanged += 1
        return None
    if respect_backoff and known is not None and known.next_attempt_at and known.next_attempt_at > utcnow():
        report.waiting += 1
        return None
    return Work(payload, first_action(mapping, payload, known.target_id if known else None),
                target_id=known.target_id if known else None)


def _find(client: DataverseClient, mapping: MappingSpec, works: list[Work], *, dry_run: bool) -> None:
    """Keyed queries (one ``$batch`` of GETs) for the records with no id: found → update, else create.
    A dry run asks for the alternate-key ones too, to tell a create from an update."""
    wanted = [w for w in works if w.action is Action.FIND or (dry_run and w.action is Action.UPSERT)]
    if not wanted:
        return
    key = primary_key_for(mapping.table)
    values = list(dict.fromkeys(w.payload.key_value for w in wanted if w.payload.key_value is not None))
    try:
        rows = client.get_by_ids(mapping.table, mapping.key.column, values,
                                 select=[key, mapping.key.column], via_batch=True)
    except DataverseError as exc:
        raise PushStopped(_sentence(exc)) from exc
    found: dict[str, str] = {}
    for row in rows:
        found.setdefault(str(row.get(mapping.key.column)).casefold(), str(row[key]))
    for work in wanted:
        target = found.get(str(work.payload.key_value).casefold())
        work.action, work.target_id = (Action.UPDATE, target) if target else (Action.CREATE, None)


def _plan_lines(mapping: MappingSpec, works: list[Work], report: PushReport) -> None:
    for work in works:
        label = work.payload.label
        if work.payload.problem:
            report.failed += 1
            report.errors.append(f"{label}: {work.payload.problem}")
        elif work.action is Action.CREATE:
            report.created += 1
            report.planned.append(f"create {label}")
        else:
            report.updated += 1
            report.planned.append(f"update {label} ({mapping.table} {work.target_id})")


def _send(factory: sessionmaker[Session], client: DataverseClient, mapping: MappingSpec, batch: _Batch,
          report: PushReport) -> None:
    """Rounds of writes until every record of the batch is done or recorded as failed."""
    pending = list(batch.works)
    for round_number in range(MAX_ROUNDS):
        if not pending:
            return
        try:
            results = client.send_batch([ChangeSet([request_for(mapping, w)]) for w in pending])
        except (NetworkBlocked, AuthError) as exc:
            _record_stop(factory, mapping, pending, _sentence(exc), report)
            raise PushStopped(_sentence(exc)) from exc
        except (DataverseError, BatchError) as exc:
            for work in pending:
                work.tries, work.error = work.tries + 1, _sentence(exc)
            pending = _settle(factory, mapping, pending, [], report, wait=_wait(exc, round_number))
            continue
        verdicts = [judge(mapping, w, r) for w, r in zip(pending, results, strict=True)]
        pending = _settle(factory, mapping, pending, verdicts, report, results=results, wait=0.0)
    for work in pending:
        work.error, work.failure = work.error or "still not sent after several rounds", "transient"
    _record(factory, mapping, pending, report)


def _settle(factory: sessionmaker[Session], mapping: MappingSpec, works: list[Work], verdicts: list[Verdict],
            report: PushReport, *, results: list[BatchResult] | None = None, wait: float) -> list[Work]:
    """Record what is finished (accepted, or failed for good); the works that go out again."""
    again: list[Work] = []
    finished: list[tuple[Work, dict[str, object]]] = []
    for index, work in enumerate(works):
        verdict = verdicts[index] if verdicts else Verdict.TRANSIENT
        if verdict is Verdict.DONE:
            finished.append((work, pulled_values(mapping, results[index]) if results else {}))
        elif verdict is Verdict.AGAIN or (verdict is Verdict.TRANSIENT and _try_again(work)):
            again.append(work)
        else:
            work.failure = "transient" if verdict is Verdict.TRANSIENT else "refused"
            work.error = work.error or "refused"
            finished.append((work, {}))
    pulls = {w.payload.uid: values for w, values in finished}
    _record(factory, mapping, [w for w, _ in finished], report, pulls=pulls)
    if again and wait:
        time.sleep(wait)
    return again


def _try_again(work: Work) -> bool:
    work.tries += 1
    return work.tries < MAX_TRIES


def _wait(exc: Exception, round_number: int) -> float:
    if isinstance(exc, Throttled) and exc.retry_after:
        return min(30.0, exc.retry_after)
    return min(8.0, 0.5 * 2 ** round_number)


def _record(factory: sessionmaker[Session], mapping: MappingSpec, works: list[Work], report: PushReport, *,
            pulls: dict[str, dict[str, object]] | None = None, count: bool = True) -> None:
    """Every outcome in one short transaction: accepted (fingerprint, id, pulled values) or failed."""
    if not works:
        return
    now = utcnow()
    targets = [push_records.PushTarget(mapping.name, mapping.source.value, w.payload.uid, mapping.table)
               for w in works]
    with session_scope(factory) as session:
        rows = push_records.push_rows(session, targets)
        for work in works:
            row = rows[work.payload.uid]
            if work.error is None:
                push_records.mark_pushed(row, target_id=work.target_id, fingerprint=work.payload.fingerprint)
                _apply_pulls(session, mapping, work, (pulls or {}).get(work.payload.uid, {}), report)
                report.created, report.updated = (report.created + work.created,
                                                  report.updated + (not work.created))
                continue
            transient = work.failure == "transient"
            push_records.mark_failed(row, error=work.error, kind="transient" if transient else "refused",
                                     retry_at=_retry_at(now, transient, work))
            if count:
                report.failed += 1
                report.errors.append(f"{work.payload.label}: {work.error}")


def _retry_at(now: datetime, transient: bool, work: Work) -> datetime:
    if not transient:
        return now + REFUSED_BACKOFF
    return now + min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, work.tries - 1))


def _apply_pulls(session: Session, mapping: MappingSpec, work: Work, values: dict[str, object],
                 report: PushReport) -> None:
    if not values:
        return
    try:
        if push_sources.apply_pulled(session, mapping.source, work.payload.uid, values):
            report.notes.append(f"pulled {', '.join(sorted(values))} into {work.payload.label}")
    except StoreError as exc:
        report.notes.append(f"could not pull into {work.payload.label}: {exc}")


def _record_stop(factory: sessionmaker[Session], mapping: MappingSpec, works: list[Work], reason: str,
                 report: PushReport) -> None:
    for work in works:
        work.error, work.failure = reason, "transient"  # waiting for the network: the stop says why
    _record(factory, mapping, works, report, count=False)


def _sentence(exc: Exception) -> str:
    if isinstance(exc, NetworkBlocked):
        return "the CRM answered 'IP address is blocked': connect the VPN (or office network) and push again"
    if isinstance(exc, AuthError):
        return f"not signed in to the CRM: {exc}"
    return str(exc)
