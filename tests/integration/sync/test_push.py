"""``callnotes push`` against the emulator over HTTP: one phone call per note, nothing sent twice, edits
update, lost answers and 30 % faults change none of that, blanks never overwrite, alternate-key upserts,
refused records kept with their reason, OptionSet by label, pulled fields, scheduled pushes with backoff."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update

from callnotes.store import NoteUpdate, session_scope, update_note
from callnotes.store.column_types import utcnow
from callnotes.store.models import PushRecord, RunKind, RunState
from callnotes.store.repo import sync_runs
from callnotes.sync.push_job import run_scheduled_push
from tests.fixtures.push import CUSTOMERS_AS_ACCOUNTS


def _bed_with_notes(bed, count: int = 6) -> tuple[int, list[int]]:
    number = bed.account_numbers()[0]
    customer = bed.add_customer("Contoso", number)
    return customer, bed.add_notes(count, customer)


def _account_id(bed, number: str) -> str:
    return next(k for k, v in bed.rows("account").items() if v.get("accountnumber") == number)


def test_pushing_notes_creates_one_phonecall_each_and_pushing_again_sends_nothing(push_bed) -> None:
    bed = push_bed
    _, notes = _bed_with_notes(bed)
    account = _account_id(bed, bed.account_numbers()[0])
    bed.server.reset_stats()
    report = bed.push()
    assert (report.created, report.updated, report.failed, report.errors) == (6, 0, 0, [])
    assert bed.server.stats()["requests"] == report.http_requests == 2  # one keyed query + one $batch
    calls, uids = bed.phonecalls(), bed.note_uids()
    assert set(calls) == {uids[n] for n in notes}
    first = calls[uids[notes[0]]]
    assert (first["subject"], first["description"]) == ("Call 0", "Discussed item 0\n\nNext steps for 0.")
    assert first["actualend"] == "2026-11-02T12:00:00Z" and first["category"] == "callnotes"
    assert (first["regardingobjectid"], first["regardingobjectid@type"]) == (account, "account")

    bed.server.reset_stats()
    again = bed.push()
    assert (again.created, again.updated, again.unchanged, again.http_requests) == (0, 0, 6, 0)
    assert bed.server.stats()["requests"] == 0 and len(bed.phonecalls()) == 6


def test_an_edited_note_updates_its_phonecall_and_keeps_edits_of_create_only_fields(push_bed) -> None:
    bed = push_bed
    _, notes = _bed_with_notes(bed, 3)
    bed.push()
    uid = bed.note_uids()[notes[1]]
    call_id = bed.phonecalls()[uid]["activityid"]
    bed.server.service.database.table("phonecall").rows[call_id]["category"] = "edited in Dynamics"
    with session_scope(bed.runtime.session_factory) as session:
        update_note(session, notes[1], NoteUpdate(title="Call 1, revised", body="New body"))
    report = bed.push()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    calls = bed.phonecalls()
    assert len(calls) == 3 and calls[uid]["activityid"] == call_id
    assert (calls[uid]["subject"], calls[uid]["description"]) == ("Call 1, revised", "New body")
    assert calls[uid]["category"] == "edited in Dynamics"  # direction = "create": sent once only


def test_lost_answers_and_thirty_percent_faults_never_duplicate(sqlite_push_bed) -> None:
    bed = sqlite_push_bed
    customer, notes = _bed_with_notes(bed, 4)
    lost = {"fault": "drop_after_commit", "method": "POST", "path_contains": "$batch", "times": 2}
    bed.server.configure(fail_next=[lost])  # the keyed query's answer and the writes' answer
    bed.server.reset_stats()
    report = bed.push()
    assert report.errors == [] and len(bed.phonecalls()) == 4
    assert bed.server.stats()["by_outcome"].get("dropped") == 2  # both answers were lost after the commit
    more = bed.add_notes(20, customer, start=10)
    with session_scope(bed.runtime.session_factory) as session:
        update_note(session, notes[0], NoteUpdate(title="Call 0, after the faults"))
    bed.server.configure(fault_rate=0.3)
    try:
        for _ in range(10):
            if bed.push().ok:
                break
    finally:
        bed.server.configure(fault_rate=0)
    calls, uids = bed.phonecalls(), bed.note_uids()
    assert set(calls) == {uids[n] for n in (*notes, *more)}  # 24 notes, 24 calls, none twice
    assert calls[uids[notes[0]]]["subject"] == "Call 0, after the faults"
    assert bed.push().http_requests == 0


def test_a_blank_local_value_leaves_the_remote_one_alone(push_bed) -> None:
    bed = push_bed
    number = bed.account_numbers()[1]
    customer = bed.add_customer("Fabrikam", number, website="https://fabrikam.example")
    account = _account_id(bed, number)
    table = bed.server.service.database.table("account")
    table.rows[account]["description"] = "Kept in Dynamics"
    bed.push(CUSTOMERS_AS_ACCOUNTS)
    assert table.rows[account]["websiteurl"] == "https://fabrikam.example"
    assert table.rows[account]["description"] == "Kept in Dynamics"  # account_notes is blank here
    with bed.runtime.session_factory.begin() as session:
        session.execute(update(type(bed.customer(customer))).values(website=None))
    report = bed.push(CUSTOMERS_AS_ACCOUNTS)
    assert report.updated == 1 and table.rows[account]["websiteurl"] == "https://fabrikam.example"


def test_customers_upsert_by_alternate_key_and_those_without_a_tpid_are_skipped(push_bed) -> None:
    bed = push_bed
    existing = bed.account_numbers()[0]
    bed.add_customer("Existing one", existing)
    bed.add_customer("New one", "TP-900123")
    bed.add_customer("No TPID", None)
    before = len(bed.rows("account"))
    report = bed.push(CUSTOMERS_AS_ACCOUNTS)
    assert (report.created, report.updated, report.skipped, report.errors) == (1, 1, 1, [])
    accounts = {v["accountnumber"]: v for v in bed.rows("account").values()}
    assert len(accounts) == before + 1 and accounts["TP-900123"]["name"] == "New one"
    assert accounts[existing]["name"] == "Existing one"
    assert any("No TPID" in line and "no value for the key" in line for line in report.notes)
    assert bed.push(CUSTOMERS_AS_ACCOUNTS).http_requests == 0


def test_a_refused_record_is_kept_with_its_reason_and_the_others_land(push_bed) -> None:
    bed = push_bed
    good = bed.add_customer("Contoso", bed.account_numbers()[0])
    ghost = bed.add_customer("Ghost", "NO-SUCH-ACCOUNT")
    notes = bed.add_notes(2, good) + bed.add_notes(1, ghost, start=5)
    report = bed.push()
    assert (report.created, report.failed) == (2, 1) and len(bed.phonecalls()) == 2
    assert "does not exist" in report.errors[0] and "note" in report.errors[0]
    failed = [r for r in bed.push_records() if r.last_error]
    assert [r.source_uid for r in failed] == [bed.note_uids()[notes[2]]] and failed[0].error_kind == "refused"
    again = bed.push()  # tried again (the user asks), still refused, nothing else sent
    assert (again.failed, again.unchanged) == (1, 2)


def test_optionset_by_label_and_an_unknown_label(push_bed, tmp_path: Path) -> None:
    bed = push_bed
    customer = bed.add_customer("Contoso", bed.account_numbers()[0])
    bed.add_notes(1, customer)
    mapping = tmp_path / "priority.toml"
    base = (Path(__file__).parents[3] / "examples" / "notes-as-phonecalls.toml").read_text()
    priority = '[[mapping.field]]\ntarget = "prioritycode"\nvalue = "High"\ntype = "OptionSet"\n'
    mapping.write_text(base + priority)
    assert bed.push(mapping).created == 1
    assert next(iter(bed.phonecalls().values()))["prioritycode"] == 2  # phonecall.md: 2 = High
    mapping.write_text(mapping.read_text().replace('value = "High"', 'value = "Urgent"'))
    report = bed.push(mapping)
    assert report.failed == 1 and "no option labelled 'Urgent'" in report.errors[0]
    assert "High" in report.errors[0]  # the options are listed


def test_a_pulled_field_fills_the_local_record(push_bed, tmp_path: Path) -> None:
    bed = push_bed
    number = bed.account_numbers()[0]
    customer = bed.add_customer("Contoso", number)
    bed.server.service.database.table("account").rows[_account_id(bed, number)]["websiteurl"] = "https://c.example"
    mapping = tmp_path / "pull.toml"
    mapping.write_text("""
[[mapping]]
name = "customers-pull"
source = "customers"
table = "accounts"
key = { column = "accountnumber", source = "tpid", alternate = true }
[[mapping.field]]
target = "name"
source = "name"
type = "String"
[[mapping.field]]
target = "websiteurl"
source = "website"
type = "String"
direction = "pull"
""")
    report = bed.push(mapping)
    assert report.updated == 1 and bed.customer(customer).website == "https://c.example"


def test_scheduled_pushes_wait_out_their_backoff_then_send(sqlite_push_bed) -> None:
    bed = sqlite_push_bed
    _bed_with_notes(bed, 3)
    bed.settings.push_mappings = str(Path(__file__).parents[3] / "examples" / "notes-as-phonecalls.toml")
    bed.server.configure(vpn_blocked=True)
    run_id = run_scheduled_push(bed.context)
    with bed.runtime.session_factory() as session:
        run = sync_runs.get_run(session, run_id)
        assert run.kind is RunKind.PUSH and run.state is RunState.FAILED and "VPN" in (run.error or "")
    records = bed.push_records()
    assert bed.phonecalls() == {} and len(records) == 3 and all(r.error_kind == "transient" for r in records)
    bed.server.configure(vpn_blocked=False)
    bed.server.reset_stats()
    run_scheduled_push(bed.context)  # the records wait out their backoff: nothing is sent
    assert bed.server.stats()["requests"] == 0 and bed.phonecalls() == {}
    with bed.runtime.session_factory.begin() as session:
        session.execute(update(PushRecord).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    run_id = run_scheduled_push(bed.context)
    with bed.runtime.session_factory() as session:
        run = sync_runs.get_run(session, run_id)
        assert run.state is RunState.DONE and run.changed == 3 and run.http_requests == 2
    assert len(bed.phonecalls()) == 3 and all(r.last_error is None for r in bed.push_records())
