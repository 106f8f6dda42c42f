"""Headless Chromium for the browser tests: Debian's (/usr/bin/chromium, or $SDESK_CHROMIUM) through playwright.

Importing this module skips the importing test module, saying why, when the playwright package or
Chromium is missing. A tab records what a page complained about (console errors, uncaught exceptions,
dialogs) and every request it made; a request for anything but the tab's own places (file: and data: for
an exported site, the portal's address on 127.0.0.1 for `sdesk serve`) is aborted before it leaves the
machine, so a test never touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("SDESK_CHROMIUM") or "/usr/bin/chromium"
LOCAL = ("file:", "data:")

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    pytest.skip(
        "the playwright package is not installed: pip install -e '.[test]' (it uses Debian's Chromium, "
        "no `playwright install` needed)",
        allow_module_level=True,
    )
if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
        "(apt-get install chromium, as .ci/run does when run as root) "
        "or point SDESK_CHROMIUM at a Chromium executable",
        allow_module_level=True,
    )


@contextmanager
def launched() -> Iterator[Browser]:
    """One headless Chromium, closed when the block ends (a module's tests share it)."""
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@dataclass
class Tab:
    """A page with everything it complained about, asked for or tried to say."""

    page: Page
    allowed: tuple[str, ...] = LOCAL  # where the page may fetch from: URL prefixes
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    dialogs: list[str] = field(default_factory=list)  # alert(), confirm(), prompt()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())

    def external(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.allowed)]

    def problems(self) -> list[str]:
        """What went wrong since the last call, and start afresh."""
        found = [*self.errors, *(f"request {url}" for url in self.external()), *(f"dialog {d}" for d in self.dialogs)]
        self.errors.clear()
        self.requests.clear()
        self.dialogs.clear()
        return found

    def js(self, expression: str, argument: Any = None) -> Any:
        return self.page.evaluate(expression, argument)


def open_tab(browser: Browser, allowed: tuple[str, ...] = LOCAL, **options: Any) -> Tab:
    """A new page, in a browser context of its own (its own cookies), that records what happens on it."""
    page = browser.new_page(**options)
    tab = Tab(page, allowed)

    def console(message: Any) -> None:
        if message.type == "error":
            tab.errors.append(f"console error at {message.location.get('url')}: {message.text}")

    def dialog(shown: Any) -> None:
        tab.dialogs.append(f"{shown.type}: {shown.message}")
        shown.dismiss()

    page.on("console", console)
    page.on("pageerror", lambda error: tab.errors.append(f"page error: {error}"))
    page.on("request", lambda request: tab.requests.append(request.url))
    page.on("dialog", dialog)
    # Nothing but the allowed places leaves the browser: a request elsewhere is recorded above and aborted here.
    elsewhere = re.compile("^(?!" + "|".join(re.escape(prefix) for prefix in (*allowed, "about:")) + ")")
    page.route(elsewhere, lambda route: route.abort())
    return tab
