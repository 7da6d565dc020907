"""Reads planned by dependency, sent a round at a time: each round is one `$batch` of GET parts.

A `Read` is one query (entity set + query options). When its last page is in, its ``on_done``
returns the reads that depended on it; those join the next round together with any next-page
follow-ups and retried parts, so the number of HTTP requests is the depth of the dependency chain,
not the number of queries. Folding GETs into ``$batch`` is documented in
powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md; next
pages are fetched by their ``@odata.nextLink`` untouched (.../webapi/query/page-results.md).
The same plan can run with one HTTP request per query (`SingleTransport`), the bench's baseline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from callnotes.dataverse.errors import DataverseError
from callnotes.dataverse.query import encode_query
from callnotes.msx.errors import MalformedCrmAnswer
from callnotes.msx.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress

_log = logging.getLogger(__name__)

Rows = list[dict[str, Any]]
#: Part statuses worth another try in the next round (the same set the client retries).
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_PART_ATTEMPTS = 6
MAX_RETRY_AFTER_S = 30.0


@dataclass
class Read:
    """One query. ``cap``: the service silently stops at that many rows (msp_accountteams: 100)."""

    phase: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    on_done: Callable[[Rows], Iterable[Read]] = lambda _rows: ()
    single: bool = False
    cap: int | None = None
    on_truncated: Callable[[Rows], Iterable[Read]] | None = None
    page_size: int | None = None
    #: A count query (``$count=true``): called with ``@odata.count`` (None when MSX says the count
    #: passed its 5,000 limit), and the first page's rows are all that is read (no nextLink followed).
    on_count: Callable[[int | None], None] | None = None
    #: The ``odata.include-annotations`` wanted: ``"*"`` all, or the names of the few a read needs
    #: (a smaller answer: powerapps-docs/developer/data-platform/webapi/query/overview.md, annotations).
    annotations: str = "*"

    def url(self) -> str:
        query = encode_query(self.params)
        return f"{self.path}?{query}" if query else self.path


@dataclass(frozen=True)
class PartRequest:
    """One GET of a round: a relative path with query, or a nextLink; ``page_size`` and
    ``annotations`` → ``Prefer``."""

    url: str
    page_size: int | None = None
    annotations: str = "*"


@dataclass(frozen=True)
class PartOutcome:
    """The answer to one GET: status, decoded JSON body (or None), the typed error if it failed."""

    status: int
    body: Any = None
    error: DataverseError | None = None
    retry_after: float | None = None


class ReadTransport(Protocol):
    """Sends one round of GETs (relative paths or absolute nextLinks) and answers in order."""

    api_url: str

    def send(self, parts: Sequence[PartRequest]) -> list[PartOutcome]: ...

    @property
    def http_requests(self) -> int: ...


@dataclass
class _Pending:
    read: Read
    url: str
    rows: Rows = field(default_factory=list)
    attempts: int = 0
    seen: set[str] = field(default_factory=set)


class Barrier:
    """Calls ``then(results)`` once every named read has finished; returns the reads it makes."""

    def __init__(self, names: Iterable[str], then: Callable[[dict[str, Rows]], Iterable[Read]]) -> None:
        self._waiting = set(names)
        self._results: dict[str, Rows] = {}
        self._then = then

    def arrive(self, name: str, rows: Rows) -> Iterable[Read]:
        self._results.setdefault(name, []).extend(rows)
        self._waiting.discard(name)
        return self._then(self._results) if not self._waiting else ()

    def expect(self, name: str) -> None:
        self._waiting.add(name)


class RoundRunner:
    """Runs reads round by round until none are left; reports progress per phase."""

    def __init__(
        self,
        transport: ReadTransport,
        *,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = transport
        self._progress = progress
        self._cancel = cancel or CancelToken()
        self._sleep = sleep
        self._totals: dict[str, list[int]] = {}
        self.rounds = 0
        self.parts = 0

    def run(self, reads: Iterable[Read]) -> None:
        queue = [self._start(r) for r in reads]
        while queue:
            self._cancel.raise_if_cancelled()
            outcomes = self._transport.send([PartRequest(p.url, p.read.page_size, p.read.annotations)
                                             for p in queue])
            self.rounds += 1
            self.parts += len(queue)
            queue = self._settle(queue, outcomes)

    def _start(self, read: Read) -> _Pending:
        self._totals.setdefault(read.phase, [0, 0])[1] += 1
        return _Pending(read, read.url())

    def _settle(self, queue: list[_Pending], outcomes: list[PartOutcome]) -> list[_Pending]:
        following: list[_Pending] = []
        wait = 0.0
        for pending, outcome in zip(queue, outcomes, strict=True):
            if outcome.error is not None:
                wait = max(wait, self._retry_or_raise(pending, outcome, following))
                continue
            following.extend(self._absorb(pending, outcome.body))
        if wait and following:
            self._sleep(min(wait, MAX_RETRY_AFTER_S))
        return following

    def _retry_or_raise(self, pending: _Pending, outcome: PartOutcome, following: list[_Pending]) -> float:
        pending.attempts += 1
        if outcome.status not in TRANSIENT_STATUSES or pending.attempts >= MAX_PART_ATTEMPTS:
            assert outcome.error is not None
            raise outcome.error
        _log.debug("part %s failed with %s; retrying next round", pending.read.phase, outcome.status)
        following.append(pending)
        return outcome.retry_after if outcome.retry_after is not None else 0.5 * pending.attempts

    def _absorb(self, pending: _Pending, body: Any) -> list[_Pending]:
        read = pending.read
        if read.single:
            return self._finish(read, [_object(read, body)])
        rows, next_link = _page(read, body)
        pending.rows.extend(rows)
        if read.on_count is not None:
            read.on_count(_count(read, body))
            return self._finish(read, pending.rows)
        if next_link:
            if next_link in pending.seen or next_link == pending.url:
                raise MalformedCrmAnswer(read.path, "@odata.nextLink", "repeats a page already read")
            return [_Pending(read, next_link, pending.rows, seen={*pending.seen, pending.url})]
        if read.cap is not None and read.on_truncated is not None and len(pending.rows) >= read.cap:
            _log.debug("%s hit the %d-row cap; splitting the query", read.path, read.cap)
            return self._finish(read, pending.rows, truncated=True)
        return self._finish(read, pending.rows)

    def _finish(self, read: Read, rows: Rows, *, truncated: bool = False) -> list[_Pending]:
        done_total = self._totals[read.phase]
        done_total[0] += 1
        self._progress(ProgressEvent(read.phase, done_total[0], done_total[1]))
        follow = read.on_truncated(rows) if truncated and read.on_truncated else read.on_done(rows)
        return [self._start(r) for r in follow]


def _object(read: Read, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedCrmAnswer(read.path.split("?")[0], "<body>", "is not a JSON object")
    return body


#: Set beside ``@odata.count`` when more rows match than the count reports
#: (powerapps-docs/developer/data-platform/webapi/query/count-rows.md).
_COUNT_EXCEEDED = "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
COUNT_LIMIT = 5000


def _count(read: Read, body: dict[str, Any]) -> int | None:
    count = body.get("@odata.count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise MalformedCrmAnswer(read.path.split("?")[0], "@odata.count", "is missing from a count query")
    return None if body.get(_COUNT_EXCEEDED) is True or count >= COUNT_LIMIT else count


def _page(read: Read, body: Any) -> tuple[Rows, str | None]:
    entity = read.path.split("?")[0]
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise MalformedCrmAnswer(entity, "value", "is missing: the answer is not a list of records")
    rows = body["value"]
    if not all(isinstance(row, dict) for row in rows):
        raise MalformedCrmAnswer(entity, "value", "holds something that is not a record")
    next_link = body.get("@odata.nextLink")
    if next_link is not None and not isinstance(next_link, str):
        raise MalformedCrmAnswer(entity, "@odata.nextLink", "is not a URL")
    return rows, next_link
