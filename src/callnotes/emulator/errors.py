"""The Dataverse error shape: ``{"error": {"code": "0x...", "message": "..."}}``.

Codes and messages follow Microsoft's documentation; each factory cites the page it follows.
``DataverseFault`` is raised anywhere below the transport and turned into a response in exactly
one place (``DataverseService.handle``); the transport uses :func:`fault_response` for the
errors it produces itself (401, 403, 429) so that every error has the same shape.
"""

from __future__ import annotations

import json

from callnotes.emulator.messages import JSON_CONTENT_TYPE, ApiResponse


class DataverseFault(Exception):
    """A Dataverse-level error: HTTP status, hexadecimal error code and message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def to_response(self) -> ApiResponse:
        return fault_response(self.status, self.code, self.message, self.headers)


def fault_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> ApiResponse:
    """The documented error body with ``Content-Type`` and ``OData-Version`` headers."""
    # powerapps-docs/developer/data-platform/webapi/compose-http-requests-handle-errors.md
    # ("Parse errors from the response": {"error": {"code", "message"}}).
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")
    merged = {"Content-Type": JSON_CONTENT_TYPE, "OData-Version": "4.0"}
    merged.update(headers or {})
    return ApiResponse(status=status, headers=merged, body=body)


# --- factories (one per documented error) -------------------------------------------------

# 404 for a wrong entity set, function or action name.
# troubleshoot/power-platform/dataverse/dataverse-web-api-and-sdk/web-api-client-errors
# ("Resource not found for the segment").
RESOURCE_NOT_FOUND = "0x8006088a"
# Record lookup failed: "<entity> With Id = <id> Does Not Exist" (ObjectDoesNotExist).
# powerapps-docs/developer/data-platform/webapi/perform-conditional-operations-using-web-api.md
RECORD_NOT_FOUND = "0x80040217"
# Unknown property in a query option.
# troubleshoot .../web-api-client-errors ("Could not find a property named ...": code 0x0).
PROPERTY_NOT_FOUND = "0x0"
# Malformed query options ($filter syntax, literal types, $skip, bad keys): ODataUriParser errors.
QUERY_SYNTAX = "0x80060888"
# Malformed or undeclared payload properties.
# troubleshoot .../web-api-client-errors ("Error identified in Payload provided by the user").
PAYLOAD_ERROR = "0x80048d19"
# DuplicateRecord: "A record with matching key values already exists."
# powerapps-docs/developer/data-platform/webapi/perform-conditional-operations-using-web-api.md
DUPLICATE_RECORD = "0x80040237"
# DuplicateRecordEntityKey: a second record with the same alternate-key values
# (powerapps-docs/developer/data-platform/reference/web-service-error-codes.md).
DUPLICATE_KEY = "0x80060892"
# ConcurrencyVersionMismatch: "The version of the existing record doesn't match the RowVersion
# property provided." (same page, "Apply optimistic concurrency").
VERSION_MISMATCH = "0x80060882"
# Invalid argument (e.g. a bad action parameter).
INVALID_ARGUMENT = "0x80040203"


def resource_not_found(segment: str) -> DataverseFault:
    return DataverseFault(404, RESOURCE_NOT_FOUND, f"Resource not found for the segment '{segment}'.")


def no_http_resource(url: str) -> DataverseFault:
    # troubleshoot .../web-api-client-errors ("No HTTP resource was found that matches the request URI"):
    # the wrong HTTP method for a function or action.
    return DataverseFault(404, "", f"No HTTP resource was found that matches the request URI '{url}'.")


def record_not_found(logical_name: str, record_id: str) -> DataverseFault:
    return DataverseFault(404, RECORD_NOT_FOUND, f"{logical_name} With Id = {record_id} Does Not Exist")


def property_not_found(prop: str, logical_name: str) -> DataverseFault:
    return DataverseFault(
        400,
        PROPERTY_NOT_FOUND,
        f"Could not find a property named '{prop}' on type 'Microsoft.Dynamics.CRM.{logical_name}'.",
    )


def query_error(message: str) -> DataverseFault:
    return DataverseFault(400, QUERY_SYNTAX, message)


def payload_error(entity_set: str, detail: str) -> DataverseFault:
    return DataverseFault(
        400,
        PAYLOAD_ERROR,
        f"Error identified in Payload provided by the user for Entity :'{entity_set}', "
        f"For more information on this error please follow this help link "
        f"https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : {detail}",
    )


def duplicate_record() -> DataverseFault:
    return DataverseFault(412, DUPLICATE_RECORD, "A record with matching key values already exists.")


def version_mismatch() -> DataverseFault:
    return DataverseFault(
        412,
        VERSION_MISMATCH,
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def invalid_argument(message: str) -> DataverseFault:
    return DataverseFault(400, INVALID_ARGUMENT, message)
