"""The server refuses to listen on a non-loopback address unless told explicitly."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from callnotes.cli import build_app
from callnotes.web.server import RemoteBindRefused, check_bind_host, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert is_loopback(host)
    check_bind_host(host, allow_remote=False)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "", "localhost.evil.com"]
)
def test_other_hosts_are_refused_without_allow_remote(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(RemoteBindRefused, match="--allow-remote"):
        check_bind_host(host, allow_remote=False)


def test_allow_remote_lifts_the_refusal() -> None:
    check_bind_host("0.0.0.0", allow_remote=True)


def test_cli_serve_refuses_a_remote_host_before_starting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CALLNOTES_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(build_app(), ["serve", "--host", "0.0.0.0", "--port", "5999"])
    assert result.exit_code == 2
    assert "refusing to listen on '0.0.0.0'" in result.output
    assert not (tmp_path / "callnotes.db").exists(), "nothing should have been started or created"


def test_cli_serve_refuses_the_host_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CALLNOTES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLNOTES_HOST", "0.0.0.0")
    result = CliRunner().invoke(build_app(), ["serve"])
    assert result.exit_code == 2


def test_trusted_hosts_follow_the_bind_address() -> None:
    from callnotes.web.server import trusted_hosts

    local = trusted_hosts("127.0.0.1", allow_remote=False)
    assert {"127.0.0.1", "localhost", "[::1]"} <= set(local) and "*" not in local
    assert trusted_hosts("0.0.0.0", allow_remote=True) == ["*"]


# What `callnotes run` prepares in demo mode is asserted on the running process, whatever module
# provides it: tests/integration/web/test_web_run.py.
