"""What every browser test checks of its pages: no console error (a CSP violation, a script error)
beyond the noise a test expects, and no page wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import BrowserContext, Page

#: Console lines Chromium writes for HTTP error answers (4xx pages and fragments are part of the tests).
HTTP_ERRORS = ("status of 4", "status of 5")


class ConsoleErrors:
    """The console errors and uncaught exceptions of ``page``, from now on."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console",
                lambda message: self.messages.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: self.messages.append(str(exc)))

    def unexpected(self, noise: tuple[str, ...] = ()) -> list[str]:
        """The messages containing none of ``noise``."""
        return [m for m in self.messages if not any(n in m for n in noise)]


@contextmanager
def watched_page(context: BrowserContext, noise: tuple[str, ...] = HTTP_ERRORS) -> Iterator[Page]:
    """A new page of ``context`` that fails the test on a console error other than ``noise``."""
    page = context.new_page()
    errors = ConsoleErrors(page)
    yield page
    assert not errors.unexpected(noise), errors.messages


def assert_fits(page: Page) -> None:
    """The page is no wider than the screen (tables scroll or stack inside their panels)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen"
