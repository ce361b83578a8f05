"""What the docs generate at build time covers everything: every sub-command and flag, every public name.

Runs without building the docs (it calls ``docs/_ext/backproplab_docs.py`` directly), but needs Sphinx,
which the ``docs`` extra installs: without it, skipped (``.ci/run`` runs ``tests/docs`` after installing
that extra).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
docs = importlib.import_module("backproplab_docs")
ref = importlib.import_module("backproplab_reference")


def test_the_cli_reference_has_every_command_and_flag():
    from backproplab.cli import COMMANDS, build_parser

    text = ref.cli_rst()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    for name, parser in sub.choices.items():
        assert f"backproplab {name}\n" in text
        for action in parser._actions:
            if action.help is argparse.SUPPRESS:  # an old name kept working, hidden on purpose (--seeds, --train)
                continue
            for flag in action.option_strings:
                assert f"``{flag}" in text or f", {flag}" in text, f"{name} {flag} is missing"


def test_the_api_reference_has_every_public_name():
    text = ref.api_rst()
    for module in ref.API_MODULES:
        names = ref.public_names(importlib.import_module(module))
        assert names, module
        for name in names:
            assert f"\n   {name}\n" in text or f"``{name}`` is :class:" in text, f"{module}.{name} is missing"


def test_the_tutorial_numbers_are_the_traces():
    import backproplab as bp
    from backproplab.data import logic_table

    t = docs.xor_trace()
    X, y = logic_table("xor")
    _, grads = bp.loss_and_gradients(bp.mlp([2, 8, 1], seed=0), X[2:3], y[2:3])  # the row (1, 0)
    assert t.input.tolist() == [1.0, 0.0]
    assert (abs(t.layers[0].grad_W - grads["0.W"]) < 1e-12).all()


def test_the_api_reference_names_no_private_module():
    """A public name defined in a private module (``sklearn._base``) is listed under the module users import."""
    text = ref.api_rst()
    assert re.findall(r"backproplab(?:\.\w+)*\._\w+", text) == []
    sklearn = text.split("backproplab.sklearn: ")[1]
    assert "\n   DivergenceError\n" in sklearn or "``DivergenceError`` is :class:" in sklearn


def test_the_cli_reference_names_every_exit_code():
    from backproplab.interrupt import EXIT_CODES

    head = ref.cli_rst().split("backproplab ", 2)[1]
    for code in (0, 1, 2, *EXIT_CODES.values()):
        assert f" {code} " in head, code


def test_mazurs_published_numbers_are_the_traces():
    """His total error and his eight updated weights (9 digits), independently computed by ``trace``."""
    rows = docs.mazur_rows()
    assert [name for name, _, _ in rows] == ["E_total", "w5", "w6", "w7", "w8", "w1", "w2", "w3", "w4"]
    for name, his, ours in rows:
        assert abs(ours - his) < 6e-9, name
    t = docs.mazur_trace()
    assert abs(t.layers[1].grad_W[0, 0] - 0.082167041) < 1e-9  # his dE/dw5


def test_long_lines_are_wrapped_to_the_page_without_changing_a_number():
    import contextlib
    import io

    from backproplab.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["trace", "xor", "--input", "1,0"])
    text = buffer.getvalue().rstrip()
    fitted = ref.fit_lines(text)
    assert max(map(len, text.splitlines())) > ref.CODE_WIDTH  # there was something to wrap
    assert max(map(len, fitted.splitlines())) <= ref.CODE_WIDTH
    assert fitted.split() == text.split()
