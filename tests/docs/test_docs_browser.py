"""The built documentation in a real browser: no console error, no request leaving the machine.

The docs are built after the test suite (``.ci/run``: the README's test command, then Sphinx), so this
file skips while ``docs/_build/html`` does not exist, unless ``BACKPROPLAB_DOCS_BUILT=1`` says it must
(``.ci/run`` sets it and runs ``python -m pytest -q tests/docs`` after the build). The pages are served
from 127.0.0.1 by the standard library's HTTP server, as a reader's web server would; every request the
browser makes is recorded and must go to that server. Chromium is Debian's, from the ``browser`` fixture of
``tests/conftest.py`` (never ``playwright install``): missing, the test skips, except under CI or after
the build (``BACKPROPLAB_DOCS_BUILT=1``).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HTML = Path(__file__).resolve().parents[2] / "docs" / "_build" / "html"
PAGES = ["index.html", "tutorial.html", "auto_examples/plot_report_xor.html", "user_guide/explorer.html",
         "report_results.html", "worked_examples.html", "exercises.html"]
BUILT = os.environ.get("BACKPROPLAB_DOCS_BUILT") == "1"

# After the build (BACKPROPLAB_DOCS_BUILT=1) a missing browser fails these tests even outside CI.
pytestmark = pytest.mark.browser(required=BUILT)


def _require_build() -> None:
    """Skip while the docs are not built (also under CI), unless ``BACKPROPLAB_DOCS_BUILT=1`` (then fail)."""
    if not (HTML / "index.html").is_file():
        if BUILT:
            pytest.fail(f"BACKPROPLAB_DOCS_BUILT=1 but {HTML / 'index.html'} does not exist")
        pytest.skip(f"the docs are not built ({HTML} is missing; python -m sphinx -b html docs docs/_build/html)")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no access log on stderr
        pass


@pytest.fixture(scope="module")
def site(request):
    """The built HTML's base URL, served on an ephemeral port of 127.0.0.1 (after checking the build exists)."""
    _require_build()
    request.getfixturevalue("browser")  # Chromium next: skipped or failed as tests/conftest.py says
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


_REMOTE = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)


def test_no_built_page_loads_anything_from_elsewhere():
    """Every page, not only the three opened below: no script, style sheet or image comes from another host."""
    _require_build()
    pages = sorted(HTML.rglob("*.html"))
    assert len(pages) > 20
    remote = {str(p.relative_to(HTML)): _REMOTE.findall(p.read_text(encoding="utf-8")) for p in pages}
    assert {page: tags for page, tags in remote.items() if tags} == {}
    styles = [p for p in HTML.rglob("*.css") if re.search(r"url\((['\"]?)(https?:)?//", p.read_text(encoding="utf-8"))]
    assert styles == []


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_without_errors(site, open_page, path):
    base, page = site, open_page()
    errors: list[str] = page.errors
    requests: list[str] = []
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
        if path == "user_guide/explorer.html":  # the explorer runs live in its frame: the network is drawn
            frame = page.frame_locator("iframe.bp-explorer")
            frame.locator("svg circle").first.wait_for(state="visible", timeout=10_000)
        if path in ("tutorial.html", "worked_examples.html", "report_results.html"):  # build-time figures load
            for image in page.locator("article img").all():
                assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        if path.startswith("auto_examples/"):  # the example's figure was drawn at build time and loads
            image = page.locator("img.sphx-glr-single-img, img.sphx-glr-multi-img").first
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        page.wait_for_load_state("networkidle")
    finally:
        page.context.close()
    assert errors == []
    foreign = [url for url in requests if not url.startswith((base, "data:", "blob:", "about:"))]
    assert foreign == [], f"requests leaving the machine: {foreign}"
    assert any(url.endswith(".css") for url in requests)  # the theme's styles came from the build


# The teaching pages and the references whose blocks a reader scrolls through; each code block and display
# equation must fit the content column of a 1280 px wide window (a cut-off line hides its end behind a scrollbar).
WIDE_PAGES = ["tutorial.html", "worked_examples.html", "exercises.html", "report_results.html",
              "getting_started.html", "development.html", "generated/cli.html",
              *(f"user_guide/{p.stem}.html" for p in sorted((HTML.parents[1] / "user_guide").glob("*.rst")))]

_OVERFLOWING = """() => {
  const out = [];
  for (const el of document.querySelectorAll("article pre, article mjx-container[display='true']")) {
    const box = el.tagName === "PRE" ? el : el.parentElement;
    const width = el.tagName === "PRE" ? el.scrollWidth : el.getBoundingClientRect().width;
    if (width > box.clientWidth + 1) out.push(`${width} > ${box.clientWidth}: ${el.textContent.slice(0, 60)}`);
  }
  return out;
}"""


@pytest.mark.parametrize("path", WIDE_PAGES)
def test_no_code_block_or_equation_overflows_at_1280px(site, open_page, path):
    page = open_page(viewport={"width": 1280, "height": 900})
    try:
        assert page.goto(site + path, wait_until="networkidle").ok
        if page.locator("div.math").count():  # display equations: wait for MathJax to typeset them
            page.wait_for_selector("mjx-container[display='true']", state="attached")
        overflowing = page.evaluate(_OVERFLOWING)
    finally:
        page.context.close()
    assert overflowing == []
