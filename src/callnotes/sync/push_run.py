"""Pushing mapping files: the one body behind ``callnotes push`` and the scheduled push on the job queue.

A file is read and checked whole before anything is sent (a bad file changes nothing); then each of its
mappings is pushed in file order (customers before the notes that refer to their accounts).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from callnotes.dataverse import DataverseClient
from callnotes.sync.connection import open_client
from callnotes.sync.context import SyncContext
from callnotes.sync.mappings import MappingFile, load_mappings
from callnotes.sync.push import PushReport, push_mapping

_log = logging.getLogger(__name__)


def push_files(context: SyncContext, paths: Sequence[Path | str], *, dry_run: bool = False,
               respect_backoff: bool = False, client: DataverseClient | None = None) -> list[PushReport]:
    """Push every mapping of ``paths`` (`MappingError` before any request when a file is bad)."""
    files: list[MappingFile] = [load_mappings(path) for path in paths]
    active = client or open_client(context.settings)
    reports: list[PushReport] = []
    try:
        for mapping_file in files:
            for mapping in mapping_file.mappings:
                report = push_mapping(context.session_factory, active, mapping, dry_run=dry_run,
                                      respect_backoff=respect_backoff)
                reports.append(report)
                _log.info("%s", report.lines()[0])
                if report.stopped:
                    return reports  # the CRM cannot be reached: the next mappings would stop too
    finally:
        if client is None:
            active.close()
    return reports
