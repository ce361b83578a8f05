"""The reference pages' text, generated from the code: the API index and the command-line reference.

Plain Python (argparse, no Sphinx), so tests can call it: ``api_rst()`` lists every public name of the
modules in ``backproplab_api.API_MODULES``, grouped by the module that defines it; ``cli_rst()`` every
sub-command and flag of ``backproplab.cli.build_parser()``. Code lines are kept to ``CODE_WIDTH``
characters, what fits the content column of a 1280 px window (``fit_lines`` wraps program output too).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import signal
import textwrap

from backproplab_api import API_MODULES, public_names


def _title(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def api_rst() -> str:
    out = [_title("API reference", "="),
           "Generated from the docstrings: every public name of the package, grouped by the module that "
           "defines it. Shapes use ``R`` (runs), ``B`` (batch), ``D_in``/``D_out`` (features).\n"]
    documented: dict[int, str] = {}  # id of each object already given a page -> its full name
    for name, title in API_MODULES.items():
        module = importlib.import_module(name)
        out += [_title(title, "-"), f".. currentmodule:: {name}\n"]
        if not all(callable(getattr(module, attr)) for attr in public_names(module)):
            # Constants have no docstring of their own: the module's Examples show them, so the module's shown.
            out += [f".. automodule:: {name}", "   :no-members:", "   :no-index:", ""]
        groups: dict[str, list[str]] = {}
        for attr in public_names(module):
            obj = getattr(module, attr)
            if callable(obj) and id(obj) in documented:  # re-exported (sklearn's DivergenceError): one page
                out.append(f"``{attr}`` is :class:`{documented[id(obj)]}`, re-exported here.\n")
                continue
            if callable(obj):
                documented[id(obj)] = f"{name}.{attr}"
            home = getattr(getattr(module, attr), "__module__", None) or name
            # A name defined in a private module (``sklearn._base``) is documented where the user imports it.
            private = any(part.startswith("_") for part in home.split("."))
            groups.setdefault(home if home.startswith("backproplab") and not private else name, []).append(attr)
        for home, attrs in groups.items():
            if name == "backproplab" or len(groups) > 1:
                doc = (inspect.getdoc(importlib.import_module(home)) or home).splitlines()[0].rstrip(".")
                out.append(_title(f"{doc.split(':')[0]} (``{home}``)", "~"))  # "Layers: a dense ..." -> "Layers"
            out += [".. autosummary::", "   :toctree: api", "   :nosignatures:", ""]
            out += [f"   {attr}" for attr in sorted(attrs, key=str.lower)]
            out.append("")
    return "\n".join(out)


_RST_SPECIAL = re.compile(r"([\\`*|_])")


def _escape(text: str) -> str:
    return _RST_SPECIAL.sub(r"\\\1", text)


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return action.metavar or action.dest
    metavar = ""
    if action.nargs != 0:
        metavar = " " + (action.metavar or action.dest.upper()) if isinstance(action.metavar, str | None) else ""
    return ", ".join(f"{flag}{metavar}" for flag in action.option_strings)


#: Characters of a code line that fit the content column at 1280 px (tests/docs/test_docs_browser.py measures it).
CODE_WIDTH = 68


def _words(line: str) -> list[str]:
    """``line`` split at spaces outside quotes and brackets (``[--json | --markdown]`` stays one word)."""
    words, current, depth, quote = [], "", 0, ""
    for char in line.strip():
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == " " and depth == 0:
            words += [current] if current else []
            current = ""
            continue
        current += char
    words = [*words, current] if current else words
    paired: list[str] = []  # a flag stays on one line with its value: "--seeds 1000"
    for word in words:
        if paired and paired[-1].startswith("-") and " " not in paired[-1] and not word.startswith(("-", "[")):
            paired[-1] += " " + word
        else:
            paired.append(word)
    return paired


def _wrap(line: str, indent: int, end: str = "") -> list[str]:
    """``line`` broken into lines of at most ``CODE_WIDTH`` characters (when its words allow), each but the
    last ending in ``end`` (`` \\`` for a shell command), the others indented by ``indent`` spaces more."""
    if len(line) <= CODE_WIDTH:
        return [line]
    lead = line[:len(line) - len(line.lstrip())]
    out, current = [], lead
    for word in _words(line):
        if current.strip() and len(current) + 1 + len(word) + len(end) > CODE_WIDTH:
            out.append(current + end)
            current = lead + " " * indent + word
        else:
            current = f"{current} {word}" if current.strip() else current + word
    return [*out, current]


def _usage(parser: argparse.ArgumentParser) -> list[str]:
    """``parser``'s usage lines, long ones (a hand-written ``usage=``) wrapped as argparse wraps its own."""
    lines = parser.format_usage().splitlines()
    indent = len(f"usage: {parser.prog} ")
    return [part for line in lines for part in _wrap(line, indent if line.startswith("usage:") else 0)]


def cli_rst() -> str:
    import os

    from backproplab.cli import build_parser

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(CODE_WIDTH + 2)  # argparse wraps usage lines at the terminal's width less 2
    try:
        return _cli_rst(build_parser())
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def _cli_rst(parser: argparse.ArgumentParser) -> str:
    from backproplab.interrupt import EXIT_CODES

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = [_title("Command-line reference", "="),
           "Generated from ``backproplab.cli.build_parser()`` when these pages were built: every sub-command "
           "and every flag, as ``backproplab COMMAND --help`` prints them. Exit codes: 0 ok, 1 the work failed, "
           f"2 bad usage, {EXIT_CODES[signal.SIGINT]} interrupted (Ctrl-C, SIGINT), {EXIT_CODES[signal.SIGTERM]} "
           "terminated (SIGTERM); an interrupted "
           "``train`` leaves a checkpoint and prints the command that resumes it.\n",
           ".. code-block:: text\n", *(f"   {line}" for line in _usage(parser)), ""]
    helps = {a.dest: a.help for a in sub._choices_actions}
    for name, command in sub.choices.items():
        out += [_title(f"backproplab {name}", "-"), _escape(helps.get(name) or "").capitalize() + ".\n"]
        if command.description:
            out.append(_escape(command.description) + "\n")
        out += [".. code-block:: text\n", *(f"   {line}" for line in _usage(command)), ""]
        for group in command._action_groups:
            actions = [a for a in group._group_actions if a.help is not argparse.SUPPRESS]
            if not actions:
                continue
            out.append(f"**{_escape(group.title.capitalize())}**\n")
            for action in actions:
                help_text = _escape(action.help or "")
                if action.default not in (None, False, argparse.SUPPRESS) and "default" not in (action.help or ""):
                    help_text += f" (default: ``{action.default}``)"
                out += [f"``{_flags(action)}``", f"   {help_text}", ""]
        if command.epilog:
            lines = [part for line in command.epilog.splitlines() for part in _wrap(line, 4, " \\")]
            out += [".. code-block:: text\n", *(f"   {line}" for line in lines), ""]
    return "\n".join(out)


def fit_lines(text: str) -> str:
    """``text`` with every line longer than ``CODE_WIDTH`` wrapped at spaces: a long label's vector moves to
    the next line, and a vector too long for one line continues under its first value."""
    out = []
    for line in text.splitlines():
        if len(line) <= CODE_WIDTH:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip())
        start = line.find("[")
        if start > lead + 24:  # "     z = a_prev @ W + b     [ 0.12 ...]": the label alone, then the vector
            out.append(line[:start].rstrip())
            line, start = " " * (lead + 4) + line[start:], lead + 4
        indent = " " * (start + line[start:].count("[", 0, 3) if start >= 0 else lead + 4)
        for parts in range(2, len(line)):  # the fewest lines of even length: 4 + 4 values, not 7 + 1
            width = min(CODE_WIDTH, -(-len(line) // parts) + len(indent) + 1)
            wrapped = textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
            if len(wrapped) <= parts:
                break
        out += wrapped
    return "\n".join(out)
