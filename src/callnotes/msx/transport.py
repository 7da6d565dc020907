"""How a round of GETs reaches Dataverse: one ``$batch`` (the import) or one request each (baseline).

The batch transport sends up to 1,000 GET parts per ``$batch`` request, the documented maximum
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md, "Batch
requests can contain up to 1000 individual requests"), with ``Prefer: odata.continue-on-error`` so one
failed part does not stop the others; the client's pipeline adds auth, retries and typed errors.
It does not use ``DataverseClient.batch`` because that splits more than 15 parts into several requests
(its adaptive chunking is meant for writes), while a round of reads should cost one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from callnotes.dataverse import BatchRequest, DataverseClient, DataverseError
from callnotes.dataverse.batch import MAX_BATCH_PARTS, assemble_results, decode_batch, encode_batch
from callnotes.dataverse.errors import error_from_response
from callnotes.dataverse.pipeline import Call
from callnotes.dataverse.retry import parse_retry_after
from callnotes.msx.rounds import PartOutcome


def _relative(client: DataverseClient, url: str) -> str:
    """A nextLink made relative to the API root (left untouched otherwise, as page-results.md asks)."""
    root = client.api_url.rstrip("/") + "/"
    return url[len(root):] if url.startswith(root) else url


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
        content_type, body = encode_batch(requests, api_path=self._client.api_path)
        headers = {"Content-Type": content_type, "Prefer": "odata.continue-on-error"}
        call = Call("POST", f"{self._client.api_url}/$batch", headers, body, idempotent=True,
                    what=f"$batch of {len(requests)} reads", accept_statuses=frozenset({400}))
        self.requests += 1
        response = self._client.pipeline.send(call)
        answer_type = response.headers.get("content-type", "")
        if "multipart" not in answer_type:
            raise error_from_response(response.status_code, response.headers, response.content, what="$batch")
        results = assemble_results(requests, decode_batch(answer_type, response.content), atomic=False)
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
