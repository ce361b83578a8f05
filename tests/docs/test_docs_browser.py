"""The built documentation in a real browser: no console error, no request leaving the machine.

The docs are built after the test suite (``.ci/run``: the README's test command, then Sphinx), so this
file skips while ``docs/_build/html`` does not exist, unless ``BACKPROPLAB_DOCS_BUILT=1`` says it must
(``.ci/run`` sets it and runs ``python -m pytest -q tests/docs`` after the build). The pages are served
from 127.0.0.1 by the standard library's HTTP server, as a reader's web server would; every request the
browser makes is recorded and must go to that server. Chromium is Debian's (``/usr/bin/chromium`` or
``$BACKPROPLAB_CHROMIUM``, never ``playwright install``), as in ``tests/web/test_browser.py``: missing,
the test skips, except under CI.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

HTML = Path(__file__).resolve().parents[2] / "docs" / "_build" / "html"
CHROMIUM = os.environ.get("BACKPROPLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000
PAGES = ["index.html", "tutorial.html", "auto_examples/plot_report_xor.html"]


def _missing() -> str | None:
    """Why the browser cannot run (None: it can). Docs not built: a skip, also under CI (see the module)."""
    if not (HTML / "index.html").is_file():
        if os.environ.get("BACKPROPLAB_DOCS_BUILT") == "1":
            pytest.fail(f"BACKPROPLAB_DOCS_BUILT=1 but {HTML / 'index.html'} does not exist")
        pytest.skip(f"the docs are not built ({HTML} is missing; python -m sphinx -b html docs docs/_build/html)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; never 'playwright install')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BACKPROPLAB_CHROMIUM)"
    return None


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no access log on stderr
        pass


@pytest.fixture(scope="module")
def site():
    """``(browser, base URL)``: Chromium, and the built HTML served on an ephemeral port of 127.0.0.1."""
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true" or os.environ.get("BACKPROPLAB_DOCS_BUILT") == "1":
            pytest.fail(f"the docs browser test must run here, but: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=TIMEOUT_MS)
            yield browser, f"http://127.0.0.1:{server.server_address[1]}/"
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


_REMOTE = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)


def test_no_built_page_loads_anything_from_elsewhere():
    """Every page, not only the three opened below: no script, style sheet or image comes from another host."""
    if not (HTML / "index.html").is_file():
        _missing()  # skips (or fails under BACKPROPLAB_DOCS_BUILT=1)
    pages = sorted(HTML.rglob("*.html"))
    assert len(pages) > 20
    remote = {str(p.relative_to(HTML)): _REMOTE.findall(p.read_text(encoding="utf-8")) for p in pages}
    assert {page: tags for page, tags in remote.items() if tags} == {}
    styles = [p for p in HTML.rglob("*.css") if re.search(r"url\((['\"]?)(https?:)?//", p.read_text(encoding="utf-8"))]
    assert styles == []


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_without_errors(site, path):
    browser, base = site
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
    page.on("request", lambda req: requests.append(req.url))
    page.on("response", lambda res: errors.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None)
    try:
        response = page.goto(base + path, wait_until="networkidle")
        assert response is not None and response.ok
        if path == "tutorial.html":  # MathJax, served from the build, has typeset the equations
            page.wait_for_selector("mjx-container", state="attached")
            assert page.locator("mjx-container").count() > 10
            assert "p - y" in page.inner_text("body")  # the trace's output delta, printed at build time
        if path.startswith("auto_examples/"):  # the example's figure was drawn at build time and loads
            image = page.locator("img.sphx-glr-single-img, img.sphx-glr-multi-img").first
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert errors == []
    foreign = [url for url in requests if not url.startswith((base, "data:", "blob:", "about:"))]
    assert foreign == [], f"requests leaving the machine: {foreign}"
    assert any(url.endswith(".css") for url in requests)  # the theme's styles came from the build
