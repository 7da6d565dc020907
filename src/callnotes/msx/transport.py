"""How a round of GETs reaches Dataverse: one ``$batch`` (the import) or one request each (baseline).

The batch transport sends up to 1,000 GET parts per ``$batch`` request, the documented maximum
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md, "Batch
requests can contain up to 1000 individual requests"), with ``Prefer: odata.continue-on-error`` so one
failed part does not stop the others. ``DataverseClient.batch`` splits a long list into chunks of its
adaptive size (5..25, meant for writes); a round of reads should cost one round trip, so the round is
sent with the client's chunk size fixed to the round's length (and restored right after).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

from callnotes.dataverse import AdaptiveChunkSize, BatchRequest, DataverseClient, DataverseError
from callnotes.dataverse.batch import MAX_BATCH_PARTS
from callnotes.dataverse.retry import parse_retry_after
from callnotes.msx.rounds import PartOutcome

_CHUNK_LOCK = threading.Lock()


def _relative(client: DataverseClient, url: str) -> str:
    """A nextLink made relative to the API root (left untouched otherwise, as page-results.md asks)."""
    root = client.api_url.rstrip("/") + "/"
    return url[len(root):] if url.startswith(root) else url


@contextlib.contextmanager
def _one_round_trip(client: DataverseClient, parts: int) -> Iterator[None]:
    """The client's batch chunk size fixed to ``parts`` for one call, then restored."""
    with _CHUNK_LOCK:
        saved = client.chunk_size
        client.chunk_size = AdaptiveChunkSize(start=parts, low=parts, high=parts)
        try:
            yield
        finally:
            client.chunk_size = saved


class BatchTransport:
    """One ``$batch`` POST per round (per 1,000 parts)."""

    def __init__(self, client: DataverseClient, *, max_parts: int = MAX_BATCH_PARTS) -> None:
        self._client = client
        self._max_parts = max_parts
        self.requests = 0

    def send(self, urls: Sequence[str]) -> list[PartOutcome]:
        outcomes: list[PartOutcome] = []
        for start in range(0, len(urls), self._max_parts):
            chunk = urls[start:start + self._max_parts]
            outcomes += self._send_one([_relative(self._client, u) for u in chunk])
        return outcomes

    def _send_one(self, paths: list[str]) -> list[PartOutcome]:
        requests = [BatchRequest("GET", path) for path in paths]
        self.requests += 1
        with _one_round_trip(self._client, len(requests)):
            results = self._client.batch(requests, continue_on_error=True)
        return [
            PartOutcome(r.status or 0, r.json() if r.ok else None, r.error,
                        parse_retry_after(r.headers.get("retry-after")))
            for r in results
        ]


class SingleTransport:
    """One GET per query and per page: the baseline the bench compares the batch plan with."""

    def __init__(self, client: DataverseClient) -> None:
        self._client = client
        self.requests = 0

    def send(self, urls: Sequence[str]) -> list[PartOutcome]:
        outcomes = []
        for url in urls:
            self.requests += 1
            try:
                outcomes.append(PartOutcome(200, self._client.get(_relative(self._client, url))))
            except DataverseError as exc:
                outcomes.append(PartOutcome(exc.status or 0, None, exc))
        return outcomes
