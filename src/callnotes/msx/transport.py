"""How a round of GETs reaches Dataverse: one ``$batch`` (the import) or one request each (baseline).

The batch transport sends up to 1,000 GET parts per ``$batch`` request, the documented maximum
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md, "Batch
requests can contain up to 1000 individual requests"), with ``Prefer: odata.continue-on-error`` so one
failed part does not stop the others. ``DataverseClient.batch`` splits a long list into chunks of its
adaptive size (5..25 by default, meant for writes); a round of reads should cost one round trip, so the
transport reads through its own client (same org, token provider and retry policy as the caller's)
whose chunk size is fixed at 1,000. The caller's client is never reconfigured.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from callnotes.dataverse import AdaptiveChunkSize, BatchRequest, DataverseClient, DataverseError
from callnotes.dataverse.batch import MAX_BATCH_PARTS
from callnotes.dataverse.retry import parse_retry_after
from callnotes.msx.rounds import PartOutcome, PartRequest


def _relative(client: DataverseClient, url: str) -> str:
    """A nextLink made relative to the API root (left untouched otherwise, as page-results.md asks)."""
    root = client.api_url.rstrip("/") + "/"
    return url[len(root):] if url.startswith(root) else url


def _prefer(page_size: int | None) -> dict[str, str]:
    """Annotations always; a page size when asked (powerapps-docs/.../webapi/query/page-results.md)."""
    preferences = ['odata.include-annotations="*"']
    if page_size is not None:
        preferences.append(f"odata.maxpagesize={page_size}")
    return {"Prefer": ",".join(preferences)}


class BatchTransport:
    """One ``$batch`` POST per round (per 1,000 parts). Close it (or use ``with``) when done."""

    def __init__(self, client: DataverseClient) -> None:
        whole = AdaptiveChunkSize(start=MAX_BATCH_PARTS, low=MAX_BATCH_PARTS, high=MAX_BATCH_PARTS)
        self._client = DataverseClient(client.api_url, client.pipeline.tokens, retry=client.pipeline.retry,
                                       chunk_size=whole)
        self.api_url = client.api_url

    @property
    def http_requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._client.pipeline.requests_sent

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> BatchTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def send(self, parts: Sequence[PartRequest]) -> list[PartOutcome]:
        outcomes: list[PartOutcome] = []
        for start in range(0, len(parts), MAX_BATCH_PARTS):
            outcomes += self._send_one(parts[start:start + MAX_BATCH_PARTS])
        return outcomes

    def _send_one(self, parts: Sequence[PartRequest]) -> list[PartOutcome]:
        requests = [BatchRequest("GET", _relative(self._client, p.url), headers=_prefer(p.page_size))
                    for p in parts]
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
        self.api_url = client.api_url
        self._sent_before = client.pipeline.requests_sent

    @property
    def http_requests(self) -> int:
        return self._client.pipeline.requests_sent - self._sent_before

    def close(self) -> None:
        """The caller's client stays open."""

    def __enter__(self) -> SingleTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, parts: Sequence[PartRequest]) -> list[PartOutcome]:
        """``page_size`` is not applied here (the client's ``get`` takes no headers): server default."""
        outcomes = []
        for part in parts:
            try:
                outcomes.append(PartOutcome(200, self._client.get(_relative(self._client, part.url))))
            except DataverseError as exc:
                outcomes.append(PartOutcome(exc.status or 0, None, exc))
        return outcomes
