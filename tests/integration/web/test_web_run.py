"""``callnotes run`` as ``make run`` starts it, in a real process: with no CRM configured it imports the
MSX demo from its embedded emulator (not the small local seed), adds the starter templates, serves
on 127.0.0.1, and stops cleanly on Ctrl+C. Whatever module prepares the demo, this is what the user sees.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

_STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"callnotes run exited early:\n{process.communicate()[0]}"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"callnotes run did not answer on {base} within {_STARTUP_SECONDS} s")


def test_run_without_a_crm_serves_the_msx_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLNOTES_")}
    env |= {"CALLNOTES_DATA_DIR": str(tmp_path), "CALLNOTES_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from callnotes.cli import main; main()", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base)
        customers = httpx.get(f"{base}/api/customers").json()
        assert customers, "demo mode should open on a populated store"
        assert all(c["msx_id"] for c in customers), "the demo comes from the emulator's MSX import"
        assert httpx.get(f"{base}/api/milestones").json(), "the import brings milestones too"
        assert "Discovery call" in httpx.get(f"{base}/templates").text  # the starter templates
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            raise AssertionError(f"callnotes run did not stop on Ctrl+C:\n{output}") from None
    assert process.returncode == 0, output
    assert "demo mode" in output and "Traceback" not in output
    assert (tmp_path / "callnotes.db").exists()
