"""Every code block of the tutorial, the worked examples, the exercises and the user guide runs as written.

The blocks are read from the ``.rst`` sources and run in page order, one namespace and one fresh working
directory per page, as a reader would paste them: ``python`` blocks by ``exec``; ``bash`` blocks line by
line, each ``backproplab ...`` line through ``backproplab.cli.main`` (exit code 0 expected), ``pip install``
lines skipped (they would need the network). A block followed by ``.. code-block:: text`` with
``:class: bp-output`` must print exactly that text (trailing spaces aside).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
from backproplab_reference import CODE_WIDTH  # noqa: E402  (what fits the content column at 1280 px)

PAGES = ["tutorial.rst", "worked_examples.rst", "exercises.rst",
         *sorted(str(p.relative_to(DOCS)) for p in (DOCS / "user_guide").glob("*.rst"))]
_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: (?P<lang>\w+)\s*$")


@dataclass
class Block:
    lang: str
    code: str
    classes: list[str]
    line: int


def code_blocks(text: str) -> list[Block]:
    """The ``code-block`` directives of an rst text, in order: language, dedented body, ``:class:`` values."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if not match:
            continue
        indent, classes, body, start = len(match["indent"]) + 3, [], [], i
        while i < len(lines) and lines[i].strip().startswith(":") and lines[i].startswith(" " * indent):
            option = lines[i].strip()
            if option.startswith(":class:"):
                classes += option.split(":", 2)[2].split()
            i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" " * indent)):
            body.append(lines[i][indent:])
            i += 1
        blocks.append(Block(match["lang"], "\n".join(body).strip("\n"), classes, start))
    return blocks


def _commands(code: str) -> list[str]:
    """A bash block's commands: ``\\`` continuations joined, comments and blank lines dropped."""
    joined = re.sub(r"\s*\\\n\s*", " ", code)
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def _run(block: Block, namespace: dict) -> str:
    from backproplab.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if block.lang == "python":
            exec(compile(block.code, f"<block at line {block.line}>", "exec"), namespace)
        else:
            for command in _commands(block.code):
                if command.startswith("pip install"):
                    continue
                argv = shlex.split(command)
                assert argv[0] == "backproplab", f"line {block.line}: no runner for {command!r}"
                assert main(argv[1:]) == 0, f"line {block.line}: {command!r} failed"
    return out.getvalue()


def _same(printed: str, shown: str) -> bool:
    return [line.rstrip() for line in printed.strip("\n").splitlines()] == [
        line.rstrip() for line in shown.strip("\n").splitlines()]


@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch, request):
    pytest.importorskip("sklearn")  # the user guide's estimator page imports it (the test extra has it)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = code_blocks((DOCS / page).read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    # A page may set NumPy's print options as a reader would; they must not leak into the tests that follow
    # (the doctests of src/ print arrays at NumPy's defaults).
    options = np.get_printoptions()
    request.addfinalizer(lambda: np.set_printoptions(**options))
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if block.lang not in ("python", "bash"):
            continue
        printed = _run(block, namespace)
        ran += 1
        if following is not None and "bp-output" in following.classes:
            assert _same(printed, following.code), (
                f"{page} line {block.line} printed\n{printed}\nbut the page shows\n{following.code}")
    assert ran or page.startswith("user_guide/"), f"{page} has no code block"


def test_the_runner_reads_blocks_options_and_outputs():
    text = """Intro

.. code-block:: python

   x = 1
   print(x + 1)

.. code-block:: text
   :class: bp-output

   2

.. code-block:: bash

   pip install .          # the engine
   backproplab trace xor \\
       --input 1,0
"""
    blocks = code_blocks(text)
    assert [(b.lang, b.classes) for b in blocks] == [("python", []), ("text", ["bp-output"]), ("bash", [])]
    assert blocks[0].code == "x = 1\nprint(x + 1)"
    assert _commands(blocks[2].code) == ["pip install .", "backproplab trace xor --input 1,0"]
    assert _run(blocks[0], {}) == "2\n"
    assert not _same("3\n", blocks[1].code)


@pytest.mark.parametrize("page", [*PAGES, "getting_started.rst", "index.rst", "development.rst"])
def test_no_code_line_is_wider_than_the_column(page):
    wide = [f"line {block.line}: {line}" for block in code_blocks((DOCS / page).read_text(encoding="utf-8"))
            for line in block.code.splitlines() if len(line) > CODE_WIDTH]
    assert wide == []
