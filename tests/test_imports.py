"""Imports point down: no cycles, and no module imports from a floor above its own.

The floors are those of DESIGN.md's table ("Floors of the package"); ``FLOORS``
below is that table. The test parses every module of ``src/backproplab`` with
``ast`` (nothing is imported), collects each import of the package's own modules
— at the top and inside functions alike: a lazy import that dodges a cycle is
still a cycle in the design; only imports under ``if TYPE_CHECKING:`` (read by
type checkers, never run) are left out — and fails

- on a module that no floor lists (add it to ``FLOORS`` and to DESIGN.md's table),
- on an import that goes up (a module may import its own floor and those below),
- on any cycle between modules.

Imports of other packages (matplotlib, scikit-learn, Dask, ...) are not judged here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "backproplab"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: DESIGN.md's floors, lowest first: the folders of ``src/backproplab`` (a folder's every module is on its floor)
#: and the few modules that stay at the top level (the base, plus the package's own ``__init__``/``__main__``).
FLOORS: dict[str, tuple[str, ...]] = {
    "base": ("errors", "_checks", "interrupt", "_version"),
    "core": ("core",),
    "learning": ("files", "train", "data"),
    "analysis": ("experiments", "sweeps", "present", "viz", "explain", "landscape"),
    "faces": ("cli", "web", "sklearn", "notebook", "__init__", "__main__"),
}
#: At most this many modules at the package's top level: everything else lives in the folder of its floor.
TOP_LEVEL_LIMIT = 6
LEVEL = {name: level for level, names in enumerate(FLOORS.values()) for name in names}
FLOOR_NAME = dict(enumerate(FLOORS))


def module_name(path: Path, root: Path) -> str:
    """``backproplab.cli.train`` for ``<root>/cli/train.py``; a package is named by its ``__init__.py``."""
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` (the module at ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for block in ast.walk(tree):  # blocks that only type checkers run are not imports
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test):
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            # `from P import n` imports the module P.n when there is one, else the name n from P.
            subs = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(subs)
            if len(subs) < len(node.names):
                found.add(target)
    return {m for m in found if m in known and m != name}


def graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    mods = modules(root)
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def floor_key(module: str) -> str:
    """The ``FLOORS`` entry of a module: its first name under the package (``__init__`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def unplaced(g: dict[str, set[str]]) -> list[str]:
    return sorted(m for m in g if floor_key(m) not in LEVEL)


def upward(g: dict[str, set[str]]) -> list[str]:
    """Every import from a module to one on a higher floor, in words."""
    bad = []
    for module, targets in sorted(g.items()):
        for target in sorted(targets):
            here, there = LEVEL.get(floor_key(module)), LEVEL.get(floor_key(target))
            if here is not None and there is not None and there > here:
                bad.append(
                    f"{module} ({FLOOR_NAME[here]}) imports {target} ({FLOOR_NAME[there]}): "
                    "move the name it needs down a floor, or the importer up"
                )
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(g):
        if v not in index:
            visit(v)
    return [_one_cycle(g, set(c)) for c in components]


def _one_cycle(g: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete cycle inside a strongly connected component, as a path that returns to its start."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first from start, inside the component, until an edge returns to start
        nxt = []
        for v in frontier:
            for w in sorted(g[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("not a strongly connected component")


# --- the package -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def package_graph() -> dict[str, set[str]]:
    return graph()


def test_every_module_has_a_floor(package_graph):
    missing = unplaced(package_graph)
    assert not missing, (
        f"modules on no floor: {missing}; add each to FLOORS in tests/test_imports.py "
        "and to the floors table of DESIGN.md"
    )


def test_no_import_goes_up_a_floor(package_graph):
    bad = upward(package_graph)
    assert not bad, "imports that go up:\n" + "\n".join(bad)


def test_the_package_has_no_import_cycle(package_graph):
    found = cycles(package_graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_graph_sees_the_imports_it_must():
    g = graph()
    assert "backproplab.core.network" in g["backproplab.train.loop"]
    assert "backproplab.core.layers" in g["backproplab.core.regularization"]  # `from .layers import Layer`
    assert "backproplab.present.classify" in g["backproplab.cli.train"]  # `from ..present import classify`
    assert "backproplab.data" in g["backproplab.web.session"]  # `from .. import data as _data`


# --- the checker itself: it must be able to fail --------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_the_checker_finds_a_cycle_hidden_in_a_function_and_an_import_going_up(tmp_path):
    root = write(tmp_path / PACKAGE, {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/layers.py": "from .network import Network\n",  # core -> core, part of the cycle
        "core/network.py": "def save():\n    from . import layers\n",  # the lazy half of the cycle
        "core/optim.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..train.loop import fit\n",
        "errors.py": "from .train.loop import fit\n",  # base -> learning: up
        "train/__init__.py": "",
        "train/loop.py": "import numpy\nfrom ..errors import E\n",
        "cli/__init__.py": "from ..train.loop import fit\n",  # faces -> learning: down
    })
    g = graph(root)
    assert g["backproplab.errors"] == {"backproplab.train.loop"}
    assert g["backproplab.core.optim"] == set()  # for type checkers only: never run
    assert sorted(cycles(g)) == [
        ["backproplab.core.layers", "backproplab.core.network", "backproplab.core.layers"],
        ["backproplab.errors", "backproplab.train.loop", "backproplab.errors"],
    ]
    (bad,) = upward(g)
    assert bad.startswith("backproplab.errors (base) imports backproplab.train.loop (learning)")
    assert unplaced(g) == []


def test_the_checker_passes_a_clean_package_and_names_a_module_or_folder_on_no_floor(tmp_path):
    root = write(tmp_path / PACKAGE, {
        "__init__.py": "from .train.loop import fit\n",
        "train/__init__.py": "", "train/loop.py": "from ..core.network import Network\nfrom .. import errors\n",
        "core/__init__.py": "", "core/network.py": "from .._checks import check\n",
        "_checks.py": "", "errors.py": "", "lbfgs_new.py": "from .core.network import Network\n",
        "misc/__init__.py": "", "misc/tools.py": "",
    })
    g = graph(root)
    assert cycles(g) == [] and upward(g) == []
    assert unplaced(g) == ["backproplab.lbfgs_new", "backproplab.misc", "backproplab.misc.tools"]


def test_the_top_level_holds_only_the_base_and_the_package_files():
    top = sorted(p.stem for p in SRC.glob("*.py"))
    assert len(top) <= TOP_LEVEL_LIMIT, f"{len(top)} top-level modules: {top}; move them into their floor's folder"
    assert set(top) <= set(FLOORS["base"]) | {"__init__", "__main__"}, top


def test_every_folder_of_the_package_is_on_a_floor():
    folders = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
    assert folders and all(f in LEVEL for f in folders), [f for f in folders if f not in LEVEL]
