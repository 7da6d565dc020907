"""Settings: where the data lives, export / import, and the MSX connection section."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from callnotes.config import live_settings
from callnotes.store.db import describe_database
from callnotes.store.errors import ImportFileError
from callnotes.store.import_files import ImportSource, import_source, read_import
from callnotes.store.limits import IMPORT_FILE_MAX_BYTES
from callnotes.web.deps import SessionDep, SettingsDep, render
from callnotes.web.routes.connection import connection_context
from callnotes.web.routes.writeback_settings import writeback_context

router = APIRouter(include_in_schema=False)
_SUFFIXES = (".json", ".csv")


def _page(request: Request, settings: SettingsDep, status_code: int = 200, **extra: object) -> HTMLResponse:
    database = describe_database(settings.resolved_database_url())
    live = live_settings(settings)
    return render(
        request, "settings.html", status_code=status_code, active="settings",
        data_dir=settings.resolved_data_dir(), database=database.url, database_kind=database.kind,
        demo_mode=live.demo_mode, crm_url=live.crm_url,
        has_msx=getattr(request.app.state, "has_msx", False), **writeback_context(settings),
        **connection_context(settings), **extra,
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings)


@router.get("/settings/export")
def export(session: SessionDep) -> Response:
    """Download everything as the JSON export (the format of ``callnotes export``)."""
    from callnotes.store.backup import export_store

    text = json.dumps(export_store(session), ensure_ascii=False, indent=1)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        text + "\n", media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="callnotes-export-{stamp}.json"'},
    )


async def _uploaded_import(file: Annotated[UploadFile, File()]) -> ImportSource:
    """The uploaded file, read and parsed in a worker thread before the request takes its turn at
    the database (``SessionDep`` comes after this in the route)."""
    name = file.filename or "the file"
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in _SUFFIXES:
        raise ImportFileError(f"choose a .json export or a .csv file (got {file.filename or 'no file'!r})")
    content = await file.read(IMPORT_FILE_MAX_BYTES + 1)
    if not content:
        raise ImportFileError("the file is empty")
    return await run_in_threadpool(read_import, content, repr(name), suffix)


@router.post("/settings/import", response_class=HTMLResponse)
def import_upload(
    request: Request, source: Annotated[ImportSource, Depends(_uploaded_import)], session: SessionDep,
    settings: SettingsDep, file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    """Import a JSON export or a customers / notes CSV; bad rows are listed, good rows kept."""
    report = import_source(session, source)
    return _page(request, settings, report=report, imported_name=file.filename)
