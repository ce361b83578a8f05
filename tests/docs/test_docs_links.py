"""Cross-links in the built HTML, as scikit-learn has them: the guide links the API it uses, every API page
links back to the guide that teaches it and lists the gallery's "Examples using X", and no cross-reference
on the teaching pages is left unresolved. Reads ``docs/_build/html``: skipped while the docs are not built,
unless ``BACKPROPLAB_DOCS_BUILT=1`` (``.ci/run`` after the build) says they must be.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
HTML = DOCS / "_build" / "html"
sys.path.insert(0, str(DOCS / "_ext"))
from backproplab_api import API_MODULES, guide_page, public_names  # noqa: E402

TEACHING = ["tutorial", "worked_examples", "exercises", "report_results", "getting_started",
            *(f"user_guide/{p.stem}" for p in sorted((DOCS / "user_guide").glob("*.rst")))]
# An xref whose target was not found is rendered as a bare <code class="xref ..."> with no <a> around it.
_UNRESOLVED = re.compile(r'(?<!">)<code class="xref py[^"]*"[^>]*><span class="pre">([^<]+)')


def _page(name: str) -> str:
    path = HTML / f"{name}.html"
    if not path.is_file():
        if os.environ.get("BACKPROPLAB_DOCS_BUILT") == "1":
            pytest.fail(f"BACKPROPLAB_DOCS_BUILT=1 but {path} does not exist")
        pytest.skip(f"the docs are not built ({path} is missing)")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("page", TEACHING)
def test_teaching_pages_leave_no_cross_reference_unresolved(page):
    assert _UNRESOLVED.findall(_page(page)) == []


@pytest.mark.parametrize("page", ["networks", "training", "gradcheck", "data", "files", "sklearn", "sweeps"])
def test_each_guide_page_links_the_api_it_uses(page):
    assert re.search(r'href="\.\./generated/api/backproplab\.[\w.]+\.html', _page(f"user_guide/{page}"))


def test_every_api_page_links_back_to_its_guide_and_lists_examples_using_it():
    import importlib

    linked, seen = 0, set()
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for attr in public_names(module):
            obj = getattr(module, attr)
            if not callable(obj) or id(obj) in seen:  # a re-export has its page under its first name
                continue
            seen.add(id(obj))
            html = _page(f"generated/api/{module_name}.{attr}")
            guide = guide_page(getattr(obj, "__module__", None) or module_name)
            if guide:
                assert f'href="../../{guide}.html' in html, f"{module_name}.{attr} does not link {guide}"
                linked += 1
    assert linked > 30
    fit = _page("generated/api/backproplab.fit")
    assert "Examples using" in fit and fit.count("sphx-glr-thumbcontainer") >= 3
