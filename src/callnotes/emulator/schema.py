"""The emulator's whole schema: the MSX-shaped tables (table_definitions) plus the standard tables other
integrations use (activity_tables: phone calls, parties, notes; plugin_tables: webhook registration)."""

from __future__ import annotations

from callnotes.emulator.activity_tables import activity_tables
from callnotes.emulator.plugin_tables import plugin_tables
from callnotes.emulator.table_definitions import EntityType, build_schema


def full_schema() -> dict[str, EntityType]:
    """Every entity type, keyed by logical name."""
    schema = build_schema()
    for entity in (*activity_tables(), *plugin_tables()):
        schema[entity.logical_name] = entity
    return schema
