"""``callnotes push --mapping FILE [--dry-run]`` as a user runs it: output, exit codes, a bad file."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callnotes.config import Settings
from callnotes.store import CustomerInput, NoteInput, create_customer, create_note, session_scope
from callnotes.store.models import PushRecord
from callnotes.sync.runtime import open_runtime
from tests.fixtures.push import CUSTOMERS_AS_ACCOUNTS, NOTES_AS_PHONECALLS


def _callnotes(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env.update(env_extra)
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture()
def cli_env(push_emulator, tmp_path: Path) -> dict[str, str]:
    """A data dir whose store holds one customer (with an account in the emulator) and two notes."""
    env = {"CALLNOTES_CRM_URL": push_emulator.url, "CALLNOTES_AUTH": "emulator",
           "CALLNOTES_DATA_DIR": str(tmp_path / "data")}
    rows = push_emulator.service.database.table("account").rows.values()
    number = sorted(r["accountnumber"] for r in rows)[0]
    with open_runtime(Settings(data_dir=tmp_path / "data", crm_url=push_emulator.url)) as runtime:
        with session_scope(runtime.session_factory) as session:
            customer = create_customer(session, CustomerInput(name="Contoso", tpid=number))
            create_customer(session, CustomerInput(name="Northwind", tpid="NW-1"))
            for i in range(2):
                create_note(session, NoteInput(body=f"Body {i}", title=f"Call {i}",
                                               call_date=dt.date(2026, 11, 3), customer_id=customer.id))
    return env


def _push_records(env: dict[str, str]) -> int:
    settings = Settings(data_dir=Path(env["CALLNOTES_DATA_DIR"]), crm_url=env["CALLNOTES_CRM_URL"])
    with open_runtime(settings) as rt:
        with rt.session_factory() as session:
            return session.query(PushRecord).count()


def test_dry_run_lists_what_it_would_do_and_changes_nothing(push_emulator, cli_env) -> None:
    accounts = len(push_emulator.service.database.table("account").rows)
    done = _callnotes(["push", "--mapping", str(CUSTOMERS_AS_ACCOUNTS), "--dry-run"], cli_env)
    assert done.returncode == 0, done.stderr
    assert "customers-as-accounts → accounts: 1 to create, 1 to update, 0 unchanged, 0 skipped" in done.stdout
    assert "create customer 2 'Northwind'" in done.stdout and "update customer 1 'Contoso'" in done.stdout
    assert len(push_emulator.service.database.table("account").rows) == accounts
    assert _push_records(cli_env) == 0


def test_push_then_again_exits_zero_and_sends_nothing_the_second_time(push_emulator, cli_env) -> None:
    args = ["push", "--mapping", str(CUSTOMERS_AS_ACCOUNTS), "--mapping", str(NOTES_AS_PHONECALLS)]
    first = _callnotes(args, cli_env)
    assert first.returncode == 0, first.stderr
    assert "1 created, 1 updated" in first.stdout
    assert "notes-as-phonecalls → phonecalls: 2 created" in first.stdout
    push_emulator.reset_stats()
    second = _callnotes(args, cli_env)
    assert second.returncode == 0 and "2 unchanged" in second.stdout
    assert push_emulator.stats()["requests"] == 0


def test_errors_are_listed_and_exit_one(push_emulator, cli_env, tmp_path: Path) -> None:
    push_emulator.configure(vpn_blocked=True)
    try:
        done = _callnotes(["push", "--mapping", str(NOTES_AS_PHONECALLS)], cli_env)
    finally:
        push_emulator.configure(vpn_blocked=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "error: notes-as-phonecalls: stopped:" in done.stderr and "VPN" in done.stderr


BAD_FILES = [
    ("version = 1\n[[mapping]]\nname = 'x'\nsource = 'notes'\ntable = 'phonecalls'\n"
     "key = { column = 'cn_callnotesid', source = 'uid' }\n[[mapping.field]]\ntarget = 'subject'\n"
     "source = 'titel'\ntype = 'String'\n", 9, "'titel' is not a field of notes"),
    ("[[mapping]]\nname = 'x'\nsource = 'notes'\ntable = 'phonecalls'\n"
     "key = { column = 'cn_callnotesid', source = 'uid' }\n[[mapping.field]]\ntarget = 'subject'\n"
     "source = 'title'\ntype = 'Text'\n", 9, "type must be one of"),
    ("[[mapping]]\nname = 'x'\nsource = 'notes'\ntable = 'phonecalls'\n"
     "key = { column = 'cn_callnotesid', source = 'uid' }\n[[mapping.field]]\ntarget = 'subject'\n"
     "source = 'title'\ntype = 'String\n", 9, "not valid TOML"),
]


@pytest.mark.parametrize(("text", "line", "says"), BAD_FILES)
def test_a_bad_mapping_file_names_its_line_and_changes_nothing(push_emulator, cli_env, tmp_path: Path,
                                                               text: str, line: int, says: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    push_emulator.reset_stats()
    done = _callnotes(["push", "--mapping", str(NOTES_AS_PHONECALLS), "--mapping", str(bad)], cli_env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [error] = [entry for entry in done.stderr.splitlines() if entry.startswith("error:")]
    assert error.startswith(f"error: {bad}:{line}: ") and says in error
    assert push_emulator.stats()["requests"] == 0 and _push_records(cli_env) == 0  # not even the good file
