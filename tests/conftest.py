"""Root test configuration: fixtures live in tests/fixtures/, one module per concern."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.emulator",
    "tests.fixtures.database",
    "tests.fixtures.msx",
    "tests.fixtures.writeback",
    "tests.fixtures.push",
]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory, monkeypatch):
    """No test touches the real user data dir (database, token cache, job queue): each gets its own."""
    monkeypatch.setenv("CALLNOTES_DATA_DIR", str(tmp_path_factory.mktemp("data-dir")))
