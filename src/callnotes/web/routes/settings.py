"""Settings: where the data lives, export / import, and the MSX connection section."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from callnotes.store.db import describe_database
from callnotes.store.errors import ImportFileError
from callnotes.web.deps import SessionDep, SettingsDep, render
from callnotes.web.routes.writeback_settings import writeback_context

router = APIRouter(include_in_schema=False)
#: Largest import file accepted through the browser.
MAX_IMPORT_BYTES = 50 * 1024 * 1024
_SUFFIXES = (".json", ".csv")


def _page(request: Request, settings: SettingsDep, status_code: int = 200, **extra: object) -> HTMLResponse:
    database = describe_database(settings.resolved_database_url())
    return render(
        request, "settings.html", status_code=status_code, active="settings",
        data_dir=settings.resolved_data_dir(), database=database.url, database_kind=database.kind,
        demo_mode=settings.demo_mode, crm_url=settings.crm_url,
        has_msx=getattr(request.app.state, "has_msx", False), **writeback_context(settings), **extra,
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


async def _read_upload(upload: UploadFile) -> bytes:
    content = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    if not content:
        raise ImportFileError("the file is empty")
    return content


@router.post("/settings/import", response_class=HTMLResponse)
async def import_upload(
    request: Request, session: SessionDep, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> HTMLResponse:
    """Import a JSON export or a customers / notes CSV; bad rows are listed, good rows kept."""
    from callnotes.store.backup import import_file

    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in _SUFFIXES:
        raise ImportFileError(f"choose a .json export or a .csv file (got {file.filename or 'no file'!r})")
    content = await _read_upload(file)
    with tempfile.TemporaryDirectory(prefix="callnotes-import-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            report = import_file(session, path)
        except ImportFileError as exc:  # name the user's file, not our temporary copy
            raise ImportFileError(str(exc).replace(str(path), repr(file.filename))) from None
    return _page(request, settings, report=report, imported_name=file.filename)
