"""Demo seeding and the store CLI commands (run as the real ``callnotes`` entry point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callnotes.cli import build_app
from callnotes.store import Customer, Note, NoteTemplate, seed_demo
from callnotes.store.backup import SECTION_NAMES
from callnotes.store.search import search


def test_seed_demo_is_idempotent_and_searchable(session: Session) -> None:
    assert seed_demo(session) is True
    session.commit()
    counts = [session.scalar(select(func.count()).select_from(m)) for m in (Customer, Note, NoteTemplate)]
    assert seed_demo(session) is False
    assert [
        session.scalar(select(func.count()).select_from(m)) for m in (Customer, Note, NoteTemplate)
    ] == counts
    assert counts[0] >= 3 and counts[1] >= 3 and counts[2] >= 1
    assert any(h.kind == "note" for h in search(session, "fabric"))


def _cli(database_url: str, *args: str) -> Any:
    """Run a command in-process through the real Typer app (all areas' commands registered)."""
    env = {"CALLNOTES_DATABASE_URL": database_url, "CALLNOTES_LOG_LEVEL": "WARNING"}
    return CliRunner().invoke(build_app(), list(args), env=env)


def test_entry_point_runs_db_upgrade(database_url: str) -> None:
    env = {**os.environ, "CALLNOTES_DATABASE_URL": database_url, "CALLNOTES_LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-c", "from callnotes.cli import main; main()", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_cli_export_import_and_bad_rows(database_url: str, tmp_path: Path, engine) -> None:
    assert _cli(database_url, "db", "seed-demo").exit_code == 0
    exported = _cli(database_url, "export", "-")
    assert exported.exit_code == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert set(SECTION_NAMES) <= set(document) and document["customers"] and document["notes"]

    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    result = _cli(database_url, "import-file", str(bad))
    assert result.exit_code == 1 and "not valid JSON" in result.stderr and "Traceback" not in result.stderr

    csv_path = tmp_path / "customers.csv"
    csv_path.write_text("name,tpid\nNew Customer,9\n,10\n", encoding="utf-8")
    result = _cli(database_url, "import-file", str(csv_path))
    assert result.exit_code == 2, result.stderr
    assert "line 3: name is required" in result.stderr
    with Session(engine) as session:
        assert (
            session.scalar(select(func.count()).select_from(Customer).where(Customer.name == "New Customer"))
            == 1
        )
