"""Which names the API reference documents: the public names of the modules in ``API_MODULES``.

Plain Python (no Sphinx), so that the test suite can walk the same names without the ``docs`` extra:
``tests/docs/test_docstring_examples.py`` checks that each of them has a docstring ``Examples``
section, ``backproplab_docs.api_rst`` lists them.
"""

from __future__ import annotations

import inspect
from typing import Any

#: Modules whose public names the API reference lists, with a title each.
API_MODULES = {
    "backproplab": "backproplab",
    "backproplab.data": "backproplab.data: data sets",
    "backproplab.core.metrics": "backproplab.core.metrics: classification and regression metrics",
    "backproplab.sklearn": "backproplab.sklearn: scikit-learn estimators",
    "backproplab.explain.trace": "backproplab.explain.trace: one worked step of backpropagation",
    "backproplab.landscape": "backproplab.landscape: loss landscapes, exact Hessians, trajectories",
}


#: The guide page that teaches the names defined in each module (by the longest matching prefix); every API
#: page links back to it, and tests/docs checks that each page exists.
GUIDE_PAGES = {
    "backproplab.core.layers": "user_guide/networks",
    "backproplab.core.network": "user_guide/networks",
    "backproplab.core.regularization": "user_guide/training",
    "backproplab.core.losses": "worked_examples",
    "backproplab.core.optim": "user_guide/training",
    "backproplab.core.metrics": "user_guide/training",
    "backproplab.core.gradcheck": "user_guide/gradcheck",
    "backproplab.train": "user_guide/training",
    "backproplab.train.checkpoint": "user_guide/files",
    "backproplab.files": "user_guide/files",
    "backproplab.errors": "user_guide/files",
    "backproplab.data": "user_guide/data",
    "backproplab.sklearn": "user_guide/sklearn",
    "backproplab.sweeps": "user_guide/sweeps",
    "backproplab.explain": "tutorial",
    "backproplab.landscape": "user_guide/landscape",
}


def guide_page(module_name: str) -> str | None:
    """The guide page for a name defined in ``module_name`` (longest prefix of ``GUIDE_PAGES``), or None."""
    matches = [prefix for prefix in GUIDE_PAGES if module_name == prefix or module_name.startswith(prefix + ".")]
    return GUIDE_PAGES[max(matches, key=len)] if matches else None


def public_names(module: Any) -> list[str]:
    """``__all__``, or the functions and classes the module itself defines (no leading underscore)."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__")]
    return [n for n, obj in vars(module).items()
            if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__]
