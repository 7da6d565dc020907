"""Generic Dataverse Web API client: auth, request pipeline, query building, paging, $batch,
FetchXML, typed errors. Knows nothing of MSX (DESIGN.md §dataverse)."""

from callnotes.dataverse.annotations import etag, formatted_value, lookup_logical_name
from callnotes.dataverse.auth import AccessToken, AzureCliToken, EmulatorToken, StaticToken, TokenProvider
from callnotes.dataverse.batch import (
    MAX_BATCH_PARTS,
    AdaptiveChunkSize,
    BatchItem,
    BatchRequest,
    BatchResult,
    ChangeSet,
)
from callnotes.dataverse.client import DataverseClient
from callnotes.dataverse.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    BatchError,
    Conflict,
    DataverseError,
    DuplicateKey,
    NetworkBlocked,
    NotExecuted,
    NotFound,
    PagingError,
    PreconditionFailed,
    RolledBack,
    ServerError,
    Throttled,
    TransportError,
)
from callnotes.dataverse.msal_auth import ClientSecretToken, DeviceCodePrompt, DeviceCodeToken
from callnotes.dataverse.query import ODataFilter
from callnotes.dataverse.retry import RetryPolicy

__all__ = [
    "MAX_BATCH_PARTS",
    "AccessToken",
    "AdaptiveChunkSize",
    "AuthError",
    "AzureCliToken",
    "BadRequest",
    "BadResponse",
    "BatchError",
    "BatchItem",
    "BatchRequest",
    "BatchResult",
    "ChangeSet",
    "ClientSecretToken",
    "Conflict",
    "DataverseClient",
    "DataverseError",
    "DeviceCodePrompt",
    "DeviceCodeToken",
    "DuplicateKey",
    "EmulatorToken",
    "NetworkBlocked",
    "NotExecuted",
    "NotFound",
    "ODataFilter",
    "PagingError",
    "PreconditionFailed",
    "RetryPolicy",
    "RolledBack",
    "ServerError",
    "StaticToken",
    "Throttled",
    "TokenProvider",
    "TransportError",
    "etag",
    "formatted_value",
    "lookup_logical_name",
]
