"""The request and response values that cross the seam between transport and Dataverse semantics.

The transport (``app.py``) turns an HTTP request into an :class:`ApiRequest`, hands it to
``DataverseService.handle`` and writes the returned :class:`ApiResponse` back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

JSON_CONTENT_TYPE = "application/json; odata.metadata=minimal"


@dataclass(frozen=True)
class ApiRequest:
    """One Web API request, below HTTP.

    ``path`` is the part after ``/api/data/v9.2/`` (URL-decoded), ``query`` the raw, still
    percent-encoded query string, ``headers`` a mapping with lower-case keys.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    caller_id: str = ""
    service_root: str = "http://127.0.0.1/api/data/v9.2"

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class ApiResponse:
    """What the transport writes back: status, headers and a JSON (utf-8) or empty body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    entity_set: str | None = None


def json_response(
    status: int, payload: object, headers: dict[str, str] | None = None, entity_set: str | None = None
) -> ApiResponse:
    """A JSON answer with the OData headers every Web API response carries."""
    merged = {"Content-Type": JSON_CONTENT_TYPE, "OData-Version": "4.0"}
    merged.update(headers or {})
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return ApiResponse(status=status, headers=merged, body=body, entity_set=entity_set)
