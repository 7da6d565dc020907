"""``callnotes emulator`` in the foreground, as a user runs it (DESIGN.md §Contracts): it prints the
service URL and a ready bearer token that Dataverse requests accept
(powerapps-docs/developer/data-platform/authenticate-oauth.md: bearer access tokens).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

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
