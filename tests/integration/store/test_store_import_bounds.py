"""Issue 14: imports obey the same rules as the app, and reading an import file is bounded.

Before: a deeply nested JSON file or one holding a 10,000-digit number ended ``callnotes import-file``
in a traceback (a 500 on the settings page); a 120 MB note body, a 100,000-character customer name,
a ``javascript:`` MSX link and 200,000 topics imported fine. Now each is refused with one line (the
whole file) or as a rejected row (the item), and nothing stored changes. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callnotes.cli import build_app
from callnotes.store import Customer, CustomerInput, Note, Topic, create_customer
from callnotes.store.backup import export_store, import_store
from callnotes.store.csv_import import import_csv_text
from callnotes.store.errors import ImportFileError
from callnotes.store.import_files import parse_json, read_import
from callnotes.store.limits import (
    CUSTOMER_NAME_MAX,
    IMPORT_FILE_MAX_BYTES,
    IMPORT_JSON_MAX_DEPTH,
    NOTE_BODY_MAX,
    TOPICS_MAX,
)
from callnotes.store.repo.topics import get_or_create_topics

_DEEP = "[" * 100_000 + "]" * 100_000
_BAD_FILES = {
    "deep.json": (_DEEP, "nest deeper than"),
    "deep-but-parsable.json": ('{"customers": ' + "[" * 200 + "]" * 200 + "}", "nest deeper than"),
    "huge-number.json": ('{"customers": [{"name": "X", "status": ' + "9" * 10_000 + "}]}", "10,000 digits"),
    "huge-float.json": ('{"milestones": [{"name": "M", "monthly_use": 1e999}]}', "too large"),
    "nan.json": ('{"milestones": [{"name": "M", "monthly_use": NaN}]}', "NaN is not a number"),
    "not-utf8.json": ("\udcff", "not UTF-8"),
}


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                 for m in (Customer, Note, Topic))


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    return path


@pytest.mark.parametrize("name", sorted(_BAD_FILES))
def test_cli_refuses_unbounded_json_in_one_line(database_url: str, tmp_path: Path, name: str) -> None:
    text, message = _BAD_FILES[name]
    env = {"CALLNOTES_DATABASE_URL": database_url, "CALLNOTES_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(build_app(), ["import-file", str(_write(tmp_path / name, text))], env=env)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_parse_json_bounds() -> None:
    parse_json("[" * IMPORT_JSON_MAX_DEPTH + "]" * IMPORT_JSON_MAX_DEPTH, "ok.json")
    too_deep = IMPORT_JSON_MAX_DEPTH + 1
    with pytest.raises(ImportFileError, match="nest deeper"):
        parse_json("[" * too_deep + "]" * too_deep, "x.json")
    assert parse_json('{"a": -12345, "b": 1.5e3}', "x.json") == {"a": -12345, "b": 1500.0}
    for text in ('{"a": Infinity}', '{"a": -Infinity}', '{"a": 1' + "0" * 40 + "}"):
        with pytest.raises(ImportFileError):
            parse_json(text, "x.json")
    with pytest.raises(ImportFileError, match="larger than"):
        read_import(b" " * (IMPORT_FILE_MAX_BYTES + 1), "big.json", ".json")


def _rejected(session: Session, document: dict[str, Any]) -> list[str]:
    report = import_store(session, document)
    session.commit()
    return [str(error) for error in report.errors]


def test_json_import_obeys_the_limits(session: Session) -> None:
    create_customer(session, CustomerInput(name="Kept", website="https://kept.example"))
    session.commit()
    before = _counts(session)
    errors = _rejected(session, {
        "customers": [
            {"name": "N" * (CUSTOMER_NAME_MAX + 1)},
            {"name": "N" * 100_000},
            {"name": "Evil", "msx_url": "javascript:alert(document.cookie)"},
            {"name": "Evil 2", "website": "http://evil.example/"},
            {"name": "Long uid", "uid": "u" * 1000},
            {"name": "Bad notes", "account_notes": 42},
        ],
        "notes": [
            {"call_date": "2026-11-20", "body": "x" * (NOTE_BODY_MAX + 1)},
            {"call_date": "2026-11-20", "body": "ok", "title": "t" * 301},
            {"call_date": "2026-11-20", "body": "ok", "topics": [f"t{i}" for i in range(101)]},
        ],
        "sellers": [{"name": "S" * 201, "seller_type": "growth"}],
    })
    assert len(errors) == 10, errors
    for expected in ("customers #1: name is longer than 300", "customers #3: msx_url must be an https://",
                     "customers #4: website must be an https://", "customers #5: uid is longer than 36",
                     "notes #1: body is longer than", "notes #3: a note has at most 100 topics",
                     "sellers #1: name is longer than 200"):
        assert any(e.startswith(expected) for e in errors), (expected, errors)
    assert _counts(session) == before


def test_csv_import_obeys_the_limits(session: Session) -> None:
    before = _counts(session)
    long_name = "N" * 100_000
    report = import_csv_text(session, "name,website,msx_url\n"
                                      f"{long_name},,\n"
                                      "Evil,javascript:alert(1),\n"
                                      "Evil 2,,http://evil.example/x\n"
                                      "Good,contoso.example,https://crm.example/main.aspx\n")
    session.commit()
    assert [(e.line, e.message.split(" ", 2)[:2]) for e in report.errors] == [
        (2, ["name", "is"]), (3, ["website", "must"]), (4, ["msx_url", "must"])]
    good = session.scalars(select(Customer).where(Customer.name == "Good")).one()
    assert good.website == "https://contoso.example" and good.msx_url == "https://crm.example/main.aspx"
    assert _counts(session)[0] == before[0] + 1


def test_topics_are_bounded_on_every_way_in(session: Session) -> None:
    get_or_create_topics(session, [f"topic {i}" for i in range(TOPICS_MAX - 1)])
    session.commit()
    report = import_store(session, {"topics": [{"name": "one more"}, {"name": "one too many"}],
                                    "notes": [{"call_date": "2026-11-20", "body": "x", "topics": ["new"]}]})
    session.commit()
    assert [str(e) for e in report.errors] == [
        f"topics #2: at most {TOPICS_MAX:,} topics can be stored ({TOPICS_MAX:,} already are); "
        "reuse or delete some",
        f"notes #1: at most {TOPICS_MAX:,} topics can be stored ({TOPICS_MAX:,} already are); "
        "reuse or delete some"]
    assert session.scalar(select(func.count()).select_from(Topic)) == TOPICS_MAX


def test_round_trip_still_lossless_with_the_new_rules(session: Session) -> None:
    create_customer(session, CustomerInput(name="Contoso", website="contoso.example",
                                           msx_url="https://crm.example/main.aspx?id=1"))
    session.commit()
    document = export_store(session)
    assert _rejected(session, json.loads(json.dumps(document))) == []
    again = export_store(session)
    for name in ("customers", "notes", "topics"):
        assert again[name] == document[name]
