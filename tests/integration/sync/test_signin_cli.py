"""``callnotes whoami`` / ``login`` / ``logout`` against the emulator over HTTP, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _callnotes(args: list[str], env_extra: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env.update({"CALLNOTES_DATA_DIR": str(tmp_path), **env_extra})
    command = [sys.executable, "-c", "from callnotes.cli import main; main()", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_whoami_names_the_demo_user_and_the_token_expiry(writable_emulator, tmp_path):
    env = {"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "emulator"}
    done = _callnotes(["whoami"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert writable_emulator.demo_user_id in done.stdout
    assert "token valid until" in done.stdout and "UTC" in done.stdout


def test_whoami_says_the_vpn_seems_down_when_msx_blocks_the_address(writable_emulator, tmp_path):
    env = {"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "emulator"}
    writable_emulator.configure(vpn_blocked=True)
    try:
        done = _callnotes(["whoami"], env, tmp_path)
    finally:
        writable_emulator.configure(vpn_blocked=False)
    assert "VPN seems down" in _one_error_line(done)


def test_whoami_without_a_crm_says_how_to_configure_one(tmp_path):
    assert "CALLNOTES_CRM_URL" in _one_error_line(_callnotes(["whoami"], {}, tmp_path))


@pytest.mark.parametrize("command", ["login", "logout"])
def test_login_outside_device_code_mode_explains_what_to_do(command, writable_emulator, tmp_path):
    env = {"CALLNOTES_CRM_URL": writable_emulator.api_url, "CALLNOTES_AUTH": "azcli"}
    line = _one_error_line(_callnotes([command], env, tmp_path))
    assert "az login" in line and "CALLNOTES_AUTH=device-code" in line


def test_login_in_device_code_mode_needs_an_app_registration(tmp_path):
    env = {"CALLNOTES_CRM_URL": "https://example.invalid", "CALLNOTES_AUTH": "device-code"}
    assert "CALLNOTES_CLIENT_ID" in _one_error_line(_callnotes(["login"], env, tmp_path))


def test_logout_clears_the_device_code_token_cache_offline(tmp_path):
    # example.invalid never resolves: signing out must not need the sign-in service (VPN down).
    env = {"CALLNOTES_CRM_URL": "https://example.invalid", "CALLNOTES_AUTH": "device-code",
           "CALLNOTES_CLIENT_ID": "00000000-0000-0000-0000-000000000001"}
    from callnotes.sync.connection import TOKEN_CACHE_FILE

    cache = tmp_path / TOKEN_CACHE_FILE
    cache.write_text("{}", encoding="utf-8")
    done = _callnotes(["logout"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Signed out" in done.stdout
    assert not cache.exists()
