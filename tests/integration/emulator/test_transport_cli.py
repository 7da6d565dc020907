"""``callnotes emulator`` in the foreground, as a user runs it (DESIGN.md §Contracts): it prints the
service URL and a ready bearer token that Dataverse requests accept
(powerapps-docs/developer/data-platform/authenticate-oauth.md: bearer access tokens).
"""

from __future__ import annotations

import inspect
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callnotes.emulator import EmulatorServer
from callnotes.emulator.cli import emulator_command
from callnotes.emulator.config import RUNTIME_KEYS
from callnotes.emulator.control import control_routes
from callnotes.emulator.limits import ThrottleLimits

OPTIONS = (
    "--port",
    "--host",
    "--accounts",
    "--seed",
    "--latency-ms",
    "--jitter-ms",
    "--fault-rate",
    "--throttle",
    "--vpn-blocked",
    "--no-msx-quirks",
    "--allow-remote",
    "--token-hours",
    "--tls",
)
CLI = [sys.executable, "-c", "from callnotes.cli import main; main()", "emulator"]


def test_foreground_emulator_prints_url_and_a_working_token() -> None:
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--accounts", "5", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(line.startswith("Try:") for line in lines):
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                break
            lines.append(line.rstrip())
        text = "\n".join(lines)
        url = re.search(r"emulator on (http://127\.0\.0\.1:\d+)", text)
        assert url, text
        token = lines[lines.index(next(line for line in lines if line.startswith("Bearer token"))) + 1]
        for _ in range(100):  # the banner comes just before uvicorn starts serving
            try:
                answer = httpx.get(
                    f"{url.group(1)}/api/data/v9.2/WhoAmI", headers={"Authorization": f"Bearer {token}"}
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert answer.status_code == 200 and answer.json()["UserId"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--host", "0.0.0.0"], "not a loopback address"),
        (["--fault-rate", "2"], "fault_rate"),
        (["--accounts", "0"], "accounts"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(arguments: list[str], message: str) -> None:
    result = subprocess.run([*CLI, *arguments], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert message in result.stderr


def _documented_surface(emulator: EmulatorServer) -> list[str]:
    """Every control endpoint, run-time setting and fail_next key/fault the emulator accepts."""
    paths = [route.path for route in control_routes(emulator.app.state) if route.path != "/"]
    faults = [str(f) for f in (429, 500, 502, 503, 504)] + ["drop", "truncate", "drop_after_commit"]
    script_keys = ["method", "path_contains", "fault", "times", "retry_after"]
    throttle_keys = list(ThrottleLimits().as_dict())
    return [*paths, *RUNTIME_KEYS, *faults, *script_keys, *throttle_keys]


def test_help_names_every_option_endpoint_and_setting(emulator: EmulatorServer) -> None:
    output = subprocess.run(
        [*CLI, "--help"], capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "200"}
    ).stdout
    assert len(inspect.signature(emulator_command).parameters) == len(OPTIONS)  # OPTIONS is complete
    assert all(option in output for option in OPTIONS)
    missing = [name for name in _documented_surface(emulator) if name not in output]
    assert not missing, f"callnotes emulator --help does not mention {missing}"
    assert "CALLNOTES_CRM_URL" in output and "Authorization: Bearer" in output


def test_docs_name_every_option_endpoint_and_setting(emulator: EmulatorServer) -> None:
    docs = (Path(__file__).parents[3] / "docs" / "emulator.md").read_text(encoding="utf-8")
    missing = [name for name in [*OPTIONS, *_documented_surface(emulator)] if f"{name}" not in docs]
    assert not missing, f"docs/emulator.md does not mention {missing}"
