"""Mapping files: the shipped examples read as documented; every bad file names its line."""

from __future__ import annotations

import pytest

from callnotes.sync.mapping_lines import LineIndex
from callnotes.sync.mappings import Direction, FieldType, MappingError, load_mappings, parse_mappings
from tests.fixtures.push import CUSTOMERS_AS_ACCOUNTS, NOTES_AS_PHONECALLS

HEAD = """version = 1
[[mapping]]
name = "m"
source = "notes"
table = "phonecalls"
key = { column = "cn_callnotesid", source = "uid" }
"""
FIELD = """[[mapping.field]]
target = "subject"
source = "title"
type = "String"
"""


def test_the_shipped_examples() -> None:
    [notes] = load_mappings(NOTES_AS_PHONECALLS).mappings
    assert (notes.name, notes.source.value, notes.table) == ("notes-as-phonecalls", "notes", "phonecalls")
    assert (notes.key.column, notes.key.source, notes.key.alternate) == ("cn_callnotesid", "uid", False)
    fields = {f.target: f for f in notes.fields}
    assert fields["subject"].source == "title" and fields["subject"].max_length == 200
    assert fields["actualend"].type is FieldType.DATETIME and fields["actualend"].source == "call_date"
    regarding = fields["regardingobjectid_account_phonecall"]
    assert (regarding.type, regarding.lookup_table, regarding.lookup_key) == (
        FieldType.LOOKUP,
        "accounts",
        "accountnumber",
    )
    assert fields["category"].direction is Direction.CREATE and fields["category"].value == "callnotes"
    [customers] = load_mappings(CUSTOMERS_AS_ACCOUNTS).mappings
    assert (
        customers.key.alternate and customers.key.column == "accountnumber" and customers.key.source == "tpid"
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (HEAD + FIELD.replace('"title"', '"titel"'), 9, "'titel' is not a field of notes"),
        (HEAD + FIELD.replace('"String"', '"Strng"'), 10, "type must be one of String, Memo"),
        (HEAD + FIELD + 'colour = "red"\n', 11, "unknown key 'colour' in a field"),
        (HEAD.replace('"notes"', '"contacts"'), 4, "source must be one of customers, notes"),
        (HEAD.replace('"phonecalls"', '"phone calls"'), 5, "table must be a name"),
        (HEAD.replace('source = "uid"', 'source = "call_date"') + FIELD, 6, "must be text or an integer"),
        (
            HEAD.replace('source = "uid" }', 'source = "uid", alternative = true }') + FIELD,
            6,
            "unknown key 'alternative'",
        ),
        (
            HEAD + FIELD.replace('source = "title"', 'source = "call_date"').replace('"String"', '"Integer"'),
            10,
            "cannot be sent as Integer",
        ),
        (HEAD + FIELD + FIELD, 12, "'subject' is mapped twice"),
        (HEAD + FIELD.replace('"subject"', '"cn_callnotesid"'), 8, "is the key column"),
        (HEAD + FIELD + 'value = "x"\n', 7, "either source"),
        (HEAD + FIELD + "max_length = 1\n", 11, "max_length is a whole number"),
        (HEAD + FIELD + 'direction = "both"\n', 11, "direction must be push, create or pull"),
        (HEAD + FIELD.replace('"String"', '"Lookup"'), 7, "lookup = { table"),
        (
            HEAD + FIELD + 'lookup = { table = "accounts", key = "accountnumber" }\n',
            11,
            'only for type = "Lookup"',
        ),
        (
            HEAD + FIELD.replace('"title"', '"body"') + 'direction = "pull"\n',
            9,
            "pull writes text into notes fields: title",
        ),
        (HEAD, 2, "declares no [[mapping.field]]"),
        (HEAD + FIELD + HEAD.replace("version = 1\n", "") + FIELD, 12, "two mappings are named 'm'"),
        ("version = 2\n" + HEAD[12:] + FIELD, 1, "only version = 1"),
        ("mappings = []\n", 1, "unknown top-level key 'mappings'"),
        ("", None, "declares no [[mapping]]"),
        (HEAD + FIELD + 'type = "Memo"\n', 11, "not valid TOML"),
        (HEAD + '[[mapping.field]]\ntarget = "subject\n', 8, "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_line_of_the_problem(text: str, line: int | None, says: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mappings(text, "bad.toml")
    assert caught.value.line == line, str(caught.value)
    assert says in caught.value.message and str(caught.value).startswith(
        f"bad.toml:{line}: " if line else "bad.toml: "
    )


def test_an_unreadable_file_is_a_mapping_error(tmp_path) -> None:
    with pytest.raises(MappingError, match="cannot read the mapping file"):
        load_mappings(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(MappingError, match="cannot read"):
        load_mappings(binary)


def test_lines_of_tables_keys_and_inline_tables() -> None:
    text = (
        'a = 1\n[[mapping]]\nx = """\nfake = 2\n"""\n[mapping.key]\ncolumn = "c"\n[[mapping.field]]\n'
        'lookup = { table = "t" }\n[[mapping]]\n[[mapping.field]]\n[[mapping.field]]\nsource.deep = 3\n'
    )
    lines = LineIndex(text)
    assert lines.line_of(("a",)) == 1 and lines.line_of(("mapping", 0, "x")) == 3
    assert lines.line_of(("mapping", 0, "fake")) == 2  # inside a multi-line string: not a key
    assert lines.line_of(("mapping", 0, "key", "column")) == 7
    assert lines.line_of(("mapping", 0, "field", 0, "lookup", "table")) == 9  # the inline table's line
    assert lines.line_of(("mapping", 1, "field", 1, "source", "deep")) == 13
    assert lines.line_of(("mapping", 1, "field", 1)) == 12 and lines.line_of(()) is None
