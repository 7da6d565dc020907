"""Reading an import file before any database work: a JSON export or a CSV, bounded in size and
shape (numbers, nesting, NaN / Infinity, encoding), so a hostile or broken file is one
:class:`ImportFileError` line naming it — never a traceback, never a transaction held while it parses —
then handed to the JSON import (``backup``) or the CSV import (``csv_import``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from callnotes.store.backup import import_store
from callnotes.store.csv_import import import_csv_text
from callnotes.store.errors import ImportFileError, ImportReport
from callnotes.store.limits import IMPORT_FILE_MAX_BYTES, IMPORT_JSON_MAX_DEPTH, IMPORT_JSON_MAX_NUMBER_CHARS


class _BadJson(Exception):
    """A value the bounded JSON reader refuses (a number too long, NaN/Infinity)."""


def _bounded_int(text: str) -> int:
    if len(text) > IMPORT_JSON_MAX_NUMBER_CHARS:
        raise _BadJson(f"a number has {len(text):,} digits (at most {IMPORT_JSON_MAX_NUMBER_CHARS})")
    return int(text)


def _bounded_float(text: str) -> float:
    value = float(text) if len(text) <= IMPORT_JSON_MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise _BadJson(f"the number {text[:20]}{'…' if len(text) > 20 else ''} is too large")
    return value


def _refused_constant(text: str) -> Any:
    raise _BadJson(f"{text} is not a number JSON allows")


def _check_depth(document: Any) -> None:
    """:class:`_BadJson` when lists / objects nest deeper than :data:`IMPORT_JSON_MAX_DEPTH` (iterative:
    no recursion however deep the document)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > IMPORT_JSON_MAX_DEPTH:
                    raise _BadJson(f"lists and objects nest deeper than {IMPORT_JSON_MAX_DEPTH} levels")
                stack.append((child, depth + 1))


def parse_json(text: str, name: str) -> Any:
    """Parse an import document, bounded: numbers of at most :data:`IMPORT_JSON_MAX_NUMBER_CHARS`
    characters, no NaN / Infinity, nesting of at most :data:`IMPORT_JSON_MAX_DEPTH`. Anything else is
    :class:`ImportFileError` with one line naming ``name`` (never a traceback)."""
    try:
        document = json.loads(text, parse_int=_bounded_int, parse_float=_bounded_float,
                              parse_constant=_refused_constant)
        _check_depth(document)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:  # deeper than the parser goes (~1,000 levels)
        raise ImportFileError(
            f"{name} is not a callnotes export: lists and objects nest deeper than "
            f"{IMPORT_JSON_MAX_DEPTH} levels") from None
    except _BadJson as exc:
        raise ImportFileError(f"{name} is not a callnotes export: {exc}") from None
    return document


def _bounded_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ImportFileError(f"{path} does not exist or is not a file")
    if path.stat().st_size > IMPORT_FILE_MAX_BYTES:
        raise ImportFileError(f"{path} is larger than {IMPORT_FILE_MAX_BYTES // (1024 * 1024)} MB")
    return path.read_bytes()


def _decoded(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{name} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


@dataclass(frozen=True)
class ImportSource:
    """An import file read and parsed (no database work yet): a JSON document or CSV text."""

    name: str
    document: Any = None
    csv_text: str | None = None


def read_import(content: bytes, name: str, suffix: str = "") -> ImportSource:
    """Parse the bytes of an import file: JSON by ``suffix`` (``.json`` / ``.csv``), else by content.
    Bounded in size and shape; :class:`ImportFileError` (one line, naming ``name``) when it cannot be
    read. Done before any transaction starts, so a slow parse never holds the database."""
    if len(content) > IMPORT_FILE_MAX_BYTES:
        raise ImportFileError(f"{name} is larger than {IMPORT_FILE_MAX_BYTES // (1024 * 1024)} MB")
    text = _decoded(content, name)
    is_json = suffix.lower() == ".json" or (suffix.lower() != ".csv" and text.lstrip()[:1] in ("{", "["))
    if is_json:
        return ImportSource(name, document=parse_json(text, name))
    return ImportSource(name, csv_text=text)


def import_source(session: Session, source: ImportSource) -> ImportReport:
    """Import what :func:`read_import` read. No commit."""
    if source.csv_text is not None:
        return import_csv_text(session, source.csv_text)
    return import_store(session, source.document)


def read_import_file(path: Path) -> ImportSource:
    """:func:`read_import` of the file at ``path``."""
    return read_import(_bounded_bytes(path), str(path), path.suffix)


def import_file(session: Session, path: Path) -> ImportReport:
    """Import a JSON export or a CSV of customers / notes (by extension, else by content). No commit."""
    return import_source(session, read_import_file(path))
