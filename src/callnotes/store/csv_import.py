"""CSV import of customers or notes, recognised by the header row.

Customers: ``name`` (required), ``tpid``, ``website``, ``account_notes`` (or ``notes``), ``msx_id``
(or ``msx_account_id``), ``msx_url``. A row updates the stored customer with the same MSX id, else
the same name + TPID, else (row without TPID and MSX id) the only customer with that name;
otherwise a customer is created. Empty cells never blank stored values.

Notes: ``body`` (required), ``call_date`` (required, ``YYYY-MM-DD``), ``title``, ``customer``
(customer name, any case) or ``customer_tpid``, ``topics`` and ``attendees`` (separated by ``;``).

Each row is all-or-nothing (a savepoint); a bad row becomes a :class:`RowError` with the line it
starts on (the header is line 1) and the good rows are kept. A file that cannot be read as CSV of
either kind (not UTF-8, no header, no required column, duplicate columns) raises
:class:`ImportFileError` before anything is written. Nothing is committed here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.errors import ImportFileError, ImportReport, RowError, StoreError
from callnotes.store.models import Customer
from callnotes.store.repo.customers import CustomerInput, CustomerUpdate, create_customer, update_customer
from callnotes.store.repo.notes import NoteInput, create_note

_ALIASES = {"notes": "account_notes", "msx_account_id": "msx_id", "date": "call_date", "tags": "topics"}
CUSTOMER_COLUMNS = {"name", "tpid", "website", "account_notes", "msx_id", "msx_url"}
NOTE_COLUMNS = {"body", "call_date", "title", "customer", "customer_tpid", "topics", "attendees"}


class _BadRow(Exception):
    pass


def _header(reader: Iterator[list[str]]) -> list[str]:
    try:
        raw = next(reader)
    except StopIteration:
        raise ImportFileError("the CSV file is empty (expected a header row)") from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1: {exc}") from None
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in raw]
    duplicates = {h for h in header if header.count(h) > 1 and h}
    if duplicates:
        raise ImportFileError(f"line 1: duplicate column(s) {', '.join(sorted(duplicates))}")
    return header


def _rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _header(reader)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            start = reader.line_num + 1
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, {"__error__": str(exc)}
                return
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) > len(header):
                yield start, {"__error__": f"{len(raw)} fields but the header has {len(header)}"}
                continue
            yield start, {h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header)}

    return header, rows()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _customer_row(session: Session, row: dict[str, str]) -> bool:
    if not row.get("name"):
        raise _BadRow("name is required")
    existing = None
    if row.get("msx_id"):
        existing = session.scalar(select(Customer).where(Customer.msx_id == row["msx_id"]))
    if existing is None:
        same_name = select(Customer).where(func.lower(Customer.name) == row["name"].lower())
        if row.get("tpid"):
            existing = session.scalar(same_name.where(Customer.tpid == row["tpid"]))
        elif not row.get("msx_id"):
            matches = session.scalars(same_name.limit(2)).all()
            existing = matches[0] if len(matches) == 1 else None
    if existing is None:
        create_customer(session, CustomerInput(
            name=row["name"], tpid=row.get("tpid") or None, website=row.get("website") or None,
            account_notes=row.get("account_notes", ""), msx_id=row.get("msx_id") or None,
            msx_url=row.get("msx_url") or None))
        return True
    change = CustomerUpdate(name=row["name"])
    for name in ("tpid", "website", "account_notes"):
        if row.get(name):
            setattr(change, name, row[name])
    update_customer(session, existing.id, change)
    return False


def _find_customer(session: Session, row: dict[str, str]) -> int | None:
    if row.get("customer_tpid"):
        found = session.scalars(select(Customer.id).where(Customer.tpid == row["customer_tpid"])).all()
        if len(found) != 1:
            raise _BadRow(f"customer_tpid {row['customer_tpid']!r} matches {len(found)} customers")
        return found[0]
    if row.get("customer"):
        found = session.scalars(select(Customer.id).where(
            func.lower(Customer.name) == row["customer"].lower())).all()
        if len(found) != 1:
            what = "no customer" if not found else f"{len(found)} customers"
            raise _BadRow(f"customer {row['customer']!r} matches {what}")
        return found[0]
    return None


def _note_row(session: Session, row: dict[str, str]) -> bool:
    if not row.get("body"):
        raise _BadRow("body is required")
    try:
        call_date = date.fromisoformat(row.get("call_date", ""))
    except ValueError:
        raise _BadRow(f"call_date must be a date like 2026-11-22, not {row.get('call_date', '')!r}") from None
    create_note(session, NoteInput(
        body=row["body"], call_date=call_date, title=row.get("title", ""),
        customer_id=_find_customer(session, row), topics=_split(row.get("topics", "")),
        attendees=_split(row.get("attendees", ""))))
    return True


def import_csv_text(session: Session, text: str) -> ImportReport:
    """Import the text of a customers or notes CSV (see the module docstring). Does not commit."""
    header, rows = _rows(text)
    kind: str
    handler: Callable[[Session, dict[str, str]], bool]
    if "body" in header:
        kind, handler, known = "notes", _note_row, NOTE_COLUMNS
        if "call_date" not in header:
            raise ImportFileError("line 1: a notes CSV needs a 'call_date' column")
    elif "name" in header:
        kind, handler, known = "customers", _customer_row, CUSTOMER_COLUMNS
    else:
        raise ImportFileError(
            "line 1: expected a 'name' column (customers) or 'body' and 'call_date' columns (notes)")
    unknown = [h for h in header if h not in known]
    if unknown:
        raise ImportFileError(
            f"line 1: unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    report = ImportReport()
    for line, row in rows:
        savepoint = session.begin_nested()
        try:
            if "__error__" in row:
                raise _BadRow(row["__error__"])
            created = handler(session, row)
        except (_BadRow, StoreError, ValueError, sa_exc.IntegrityError) as exc:
            savepoint.rollback()
            message = "conflicts with a stored record" if isinstance(exc, sa_exc.IntegrityError) else str(exc)
            report.errors.append(RowError(line, message))
            continue
        savepoint.commit()
        report.count(kind, created)
    return report
