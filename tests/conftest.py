"""Fixtures the test directories share: Debian's Chromium driven by Playwright, for the browser tests.

Never ``playwright install`` (it downloads a browser): the browser tests
(``tests/web/test_browser.py``, ``tests/explain/test_trace_explorer.py``,
``tests/docs/test_docs_browser.py``) drive the ``chromium`` package at
``/usr/bin/chromium`` (or ``$BACKPROPLAB_CHROMIUM``), headless. Without it, or
without Playwright, a test that asks for the browser skips and says why, except
under CI (``CI=true``, set by ``.ci/run``) or in a module marked
``pytest.mark.browser(required=True)``: there a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("BACKPROPLAB_CHROMIUM", "/usr/bin/chromium")
# No background traffic of Chromium's own (updates, sync, QUIC probes): tests record every request a page makes.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000


def browser_unavailable() -> str | None:
    """Why Chromium cannot be driven here (None: it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; never 'playwright install')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BACKPROPLAB_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Headless Chromium (a Playwright ``Browser``), one per test module; skipped or failed as the module says."""
    reason = browser_unavailable()
    if reason:
        mark = request.node.get_closest_marker("browser")
        if os.environ.get("CI", "").lower() == "true" or (mark is not None and mark.kwargs.get("required")):
            pytest.fail(f"the browser tests must run here, but: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=TIMEOUT_MS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def open_page(browser: Any) -> Callable[..., Any]:
    """``open_page(**context_options)``: a page in a new browser context, its errors collected.

    ``page.errors`` lists the page's uncaught exceptions and console errors;
    every wait times out after ``TIMEOUT_MS``. Close it with ``page.context.close()``
    (the browser closes what is left at the end of the module).
    """

    def open_(**context_options: Any) -> Any:
        page = browser.new_context(**context_options).new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        return page

    return open_
