"""The ``Prefer`` header of a ``$batch`` request: which preferences apply to the batch as a whole
and which ones its parts inherit.

Dataverse documents one batch-level preference, ``odata.continue-on-error``
(powerapps-docs/developer/data-platform/webapi/execute-batch-operations-using-web-api.md,
"Handling errors"). For the others the emulator follows OData Version 4.01 Part 1: Protocol,
§8.2.8 Header Prefer:

- include-annotations (§8.2.8.4): "Individual requests within a batch that don't include it
  inherit the preference of the overall batch request" (a part's own value wins);
- maxpagesize (§8.2.8.5) "SHOULD NOT be applied to a batch request, but MAY be applied to
  individual requests within a batch": ignored on the batch, honoured in a part;
- return=representation|minimal (§8.2.8.7) "SHOULD return a 4xx Client Error if specified on the
  batch request itself": refused with 400; allowed in a part;
- continue-on-error (§8.2.8.3) "SHOULD NOT be applied to individual requests": ignored in a part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callnotes.emulator.batch import BatchFormatError
from callnotes.emulator.query import split_prefer

_ANNOTATIONS = ("odata.include-annotations", "include-annotations")
_CONTINUE = ("odata.continue-on-error", "continue-on-error")


@dataclass(frozen=True)
class BatchPreferences:
    """What the outer ``Prefer`` header of a ``$batch`` means for the batch and for its parts."""

    continue_on_error: bool = False
    inherited: tuple[str, ...] = ()  # preferences every part gets unless it states its own


def batch_preferences(prefer: str | None) -> BatchPreferences:
    """Parse the ``$batch`` request's own ``Prefer``; ``BatchFormatError`` for a ``return`` preference."""
    continue_on_error, inherited = False, []
    for item in split_prefer(prefer):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name in _CONTINUE:
            continue_on_error = value.strip().lower() != "false"
        elif name in _ANNOTATIONS:  # the service reads the OData 4.0 name
            inherited.append(f"odata.include-annotations={value.strip()}")
        elif name == "return":
            raise BatchFormatError(
                f"The preference '{item}' cannot be applied to a $batch request; "
                "put it in the Prefer header of the individual requests."
            )
    return BatchPreferences(continue_on_error, tuple(inherited))


def part_headers(headers: Mapping[str, str], inherited: tuple[str, ...]) -> dict[str, str]:
    """A part's headers with the batch's inherited preferences added where the part has none of its own."""
    merged = dict(headers)
    own = {_annotations_name(item) for item in split_prefer(merged.get("prefer"))}
    extra = [item for item in inherited if _annotations_name(item) not in own]
    if extra:
        merged["prefer"] = ",".join([*split_prefer(merged.get("prefer")), *extra])
    return merged


def _annotations_name(item: str) -> str:
    name = item.partition("=")[0].strip().lower()
    return "include-annotations" if name in _ANNOTATIONS else name
