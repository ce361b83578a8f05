"""Sphinx configuration: pydata-sphinx-theme, numpydoc, sphinx-gallery; fully offline.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``. Nothing is
fetched: no intersphinx, MathJax served from the build (sphinx-mathjax-offline),
the gallery's data generated locally. What could drift is generated at build time
by ``_ext/backproplab_docs.py``: the API pages from each module's public names, the
CLI reference from ``backproplab.cli.build_parser()``, the tutorial's numbers from
``backproplab trace``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# One BLAS thread: the gallery's matrices are tiny, and a multi-threaded BLAS on a busy 2-core machine
# spent most of its time waiting (MNIST-1D example: 116 s with the default threads, 10 s with one).
# Set before NumPy is first imported (below, by backproplab), which is when BLAS reads them.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))  # the worktree's package, as the tests use it

import backproplab  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")

project = "backproplab"
author = "the backproplab authors"
copyright = "backproplab authors, MIT licence"
version = release = backproplab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax copied into the build: no request leaves the machine
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "backproplab_docs",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "generated/*.txt"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_extra_path = ["generated/extra"]  # the explorer page, written by _ext/backproplab_docs.py at build time
html_theme = "pydata_sphinx_theme"
html_title = f"backproplab {version}"
html_favicon = "_static/favicon.svg"  # without one, the browser asks the server for /favicon.ico (a 404)
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": True,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
# Without a default the theme's script logs "Got invalid theme mode" to the console on every page.
html_context = {"default_mode": "auto"}
html_show_sourcelink = False

# Flags are written with two hyphens: keep them (and "p - y") as typed, not turned into dashes.
smartquotes = False

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types, with shapes
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "reference_url": {"backproplab": None},  # code names link to these pages; nothing over the network
    # "Examples using X" on every API page (the autosummary templates' minigallery reads these files).
    "doc_module": ("backproplab",),
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    # The computation-times pages load jQuery and DataTables from CDNs: not written, so no page fetches anything.
    "write_computation_times": False,
}
