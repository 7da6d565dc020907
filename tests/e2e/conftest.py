"""Browser fixtures: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against
the app served by real uvicorn on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.services import services_required

CHROMIUM = os.environ.get("CALLNOTES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running on this thread while it is open, which would break other tests' ``asyncio.run``."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if services_required():
            pytest.fail(message, pytrace=False)
        warnings.warn(f"SKIPPING browser tests: {message}", stacklevel=2)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
