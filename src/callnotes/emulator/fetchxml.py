"""FetchXML queries (``?fetchXml=``): placeholder until the full implementation lands."""

from __future__ import annotations

from callnotes.emulator import errors
from callnotes.emulator.database import Database, Table
from callnotes.emulator.formatting import RecordWriter
from callnotes.emulator.query import Preferences


def run_fetch(
    fetch_xml: str,
    table: Table,
    database: Database,
    writer: RecordWriter,
    prefs: Preferences,
    service_root: str,
) -> dict[str, object]:
    raise errors.query_error("FetchXML is not supported yet by the emulator.")
