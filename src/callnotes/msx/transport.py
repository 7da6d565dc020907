"""How a round of GETs reaches Dataverse: one ``$batch`` (the import) or one request each (baseline).

The batch transport sends up to 1,000 GET parts per ``$batch`` request, the documented maximum
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md, "Batch
requests can contain up to 1000 individual requests"), with ``Prefer: odata.continue-on-error`` so one
failed part does not stop the others: it asks the caller's client for ``chunk_size=MAX_BATCH_PARTS``
(the client's adaptive 5..25 chunking stays the default for everyone else).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from callnotes.dataverse import MAX_BATCH_PARTS, BatchRequest, DataverseClient, DataverseError
from callnotes.dataverse.retry import parse_retry_after
from callnotes.msx.rounds import PartOutcome, PartRequest


def _relative(client: DataverseClient, url: str) -> str:
    """A nextLink made relative to the API root (left untouched otherwise, as page-results.md asks)."""
    root = client.api_url.rstrip("/") + "/"
    return url[len(root):] if url.startswith(root) else url


def _prefer(page_size: int | None, annotations: str = "*") -> dict[str, str]:
    """Annotations (all unless the read names the few it needs); a page size when asked
    (powerapps-docs/.../webapi/query/page-results.md)."""
    preferences = [f'odata.include-annotations="{annotations}"']
    if page_size is not None:
        preferences.append(f"odata.maxpagesize={page_size}")
    return {"Prefer": ",".join(preferences)}


class _CountingTransport:
    """Counts the HTTP requests (retries included) sent through the caller's client since it began."""

    def __init__(self, client: DataverseClient) -> None:
        self._client = client
        self.api_url = client.api_url
        self._sent_before = client.pipeline.requests_sent

    @property
    def http_requests(self) -> int:
        return self._client.pipeline.requests_sent - self._sent_before

    def close(self) -> None:
        """The caller's client stays open."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BatchTransport(_CountingTransport):
    """One ``$batch`` POST per round (per 1,000 parts), through the caller's client."""

    def send(self, parts: Sequence[PartRequest]) -> list[PartOutcome]:
        requests = [BatchRequest("GET", _relative(self._client, p.url),
                                 headers=_prefer(p.page_size, p.annotations)) for p in parts]
        results = self._client.batch(requests, continue_on_error=True, chunk_size=MAX_BATCH_PARTS)
        return [
            PartOutcome(r.status or 0, r.json() if r.ok else None, r.error,
                        parse_retry_after(r.headers.get("retry-after")))
            for r in results
        ]


class SingleTransport(_CountingTransport):
    """One GET per query and per page: the baseline the bench compares the batch plan with."""

    def send(self, parts: Sequence[PartRequest]) -> list[PartOutcome]:
        """``page_size`` is not applied here (the client's ``get`` takes no headers): server default."""
        outcomes = []
        for part in parts:
            try:
                outcomes.append(PartOutcome(200, self._client.get(_relative(self._client, part.url))))
            except DataverseError as exc:
                outcomes.append(PartOutcome(exc.status or 0, None, exc))
        return outcomes
