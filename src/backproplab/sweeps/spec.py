"""What a user sweep is: a base config, a grid (or a sample of ranges) of overrides, and a range of seeds.

A cell is one set of overrides, each naming a config key as in the TOML file
(``section.key``, e.g. ``training.lr``). A grid's cells are the product of its
axes, the first axis varying slowest; a sample draws its cells from ranges,
reproducibly from ``sample_seed`` (uniform ``random`` draws or a Latin hypercube,
``lhs``). Every cell is validated as a whole config before any work starts, so a
value the config refuses fails with the config's own one-line message, naming
the ``--grid``/``--range`` that set it.

Each cell is trained as ``runs`` networks on the runs axis, from the seeds
``seed .. seed + runs - 1`` (``seed``: the base config's ``training.seed``). Its
key, which names its result file and makes a rerun skip it, is a hash of the
cell's canonical config (with its runs and first seed), the loss threshold and
the package version. (``sweep.toml`` and the results call that count ``seeds``:
the number of seeds each cell is trained from, which is its runs.)

Errors name the Python parameter in backticks (```runs`` must be ...``); in
Python the backticks go (``refuse``), and the command line puts its flag there
instead (``for_flags``), so each front end speaks its own words.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import re
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import is_int, is_number
from .._version import __version__
from ..experiments.config import SECTIONS, ConfigError, ExperimentConfig, _toml_value, from_dict, to_dict

#: Keys a sweep sets itself: the runs axis holds the seeds (the parameter that sets each instead).
RESERVED = {"training.seed": "the base config's training.seed", "training.runs": "`runs`"}
SAMPLERS = ("random", "lhs")
_PARAM = re.compile(r"`(\w+)`")


def refuse(text: str, cls: type[Exception] = ConfigError) -> Exception:
    """An error of ``cls`` saying ``text``, whose ```param``` names read plain here and as flags in ``for_flags``."""
    exc = cls(_PARAM.sub(r"\1", text))
    exc.raw = text  # type: ignore[attr-defined]
    return exc


def for_flags(exc: BaseException, flags: Mapping[str, str]) -> str:
    """The message of ``exc`` with each ```param``` it names replaced by its flag in ``flags``."""
    raw = getattr(exc, "raw", None)
    return str(exc) if raw is None else _PARAM.sub(lambda m: flags.get(m[1], m[1]), raw)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error message never echoes a huge value back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Range:
    """A numeric range a sample draws one key from: ``[low, high]``, on a log scale if ``log``."""

    key: str
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """Everything that decides a sweep's numbers (not how it is run).

    Attributes
    ----------
    base : ExperimentConfig
    grid : tuple of (key, values)
        Axes of a grid, in the order given; empty for a sample.
    sampler : str or None
        ``"random"`` or ``"lhs"``, with ``samples`` cells drawn from ``ranges``.
    runs : int
        Networks per cell on the runs axis (the seeds ``first_seed .. first_seed + runs - 1``).
    threshold : float
        Loss threshold of the ``epochs_to_loss_<threshold>`` column.
    """

    base: ExperimentConfig
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    sampler: str | None = None
    samples: int = 0
    ranges: tuple[Range, ...] = ()
    sample_seed: int = 0
    runs: int = 100
    threshold: float = 0.1

    @property
    def keys(self) -> list[str]:
        """The swept config keys: one column each in the results."""
        return [key for key, _ in self.grid] if self.sampler is None else [r.key for r in self.ranges]

    @property
    def first_seed(self) -> int:
        return self.base.training.seed

    @property
    def n_cells(self) -> int:
        """How many cells, counted without listing them (a grid of 10^9 cells is refused in a moment)."""
        return math.prod(len(values) for _, values in self.grid) if self.sampler is None else self.samples

    def cell(self, index: int) -> dict[str, Any]:
        """The overrides of grid cell ``index`` (``0 <= index < n_cells``), the last axis varying fastest."""
        cell = {}
        for key, values in reversed(self.grid):
            index, i = divmod(index, len(values))
            cell[key] = values[i]
        return {key: cell[key] for key in self.keys}

    def cells(self) -> list[dict[str, Any]]:
        """The overrides of every cell, in grid (or draw) order."""
        if self.sampler is None:
            product = itertools.product(*(values for _, values in self.grid))
            return [dict(zip(self.keys, values, strict=True)) for values in product]
        return _draw(self)

    def cell_config(self, overrides: Mapping[str, Any]) -> ExperimentConfig:
        """The base config with ``overrides`` applied and the seeds on the runs axis, validated."""
        raw = to_dict(self.base)
        flags = {}
        for key, value in overrides.items():
            section, name = key.split(".")
            raw.setdefault(section, {})[name] = value
            flags[(section, name)] = f"`{'grid' if self.sampler is None else 'ranges'}` {key}"
        raw["training"]["runs"] = self.runs
        try:
            shown = ", ".join(f"{k} = {short(v, 30)}" for k, v in overrides.items())
            return from_dict(raw, source=f"the cell {{{shown}}}", flags=flags)
        except ConfigError as exc:
            raise refuse(str(exc)) from None

    def to_toml(self) -> str:
        """The spec as TOML (``sweep.toml``): the sweep, then the base config under ``[config]``."""
        lines = ["# backproplab sweep: rerunning the same spec in this directory computes only missing cells.",
                 f"version = {_toml_value(__version__)}", f"seeds = {self.runs}", f"first_seed = {self.first_seed}",
                 f"threshold = {_toml_value(self.threshold)}"]
        if self.sampler is None:
            lines.append("\n[grid]")
            lines += [f"{_toml_value(key)} = {_toml_value(list(values))}" for key, values in self.grid]
        else:
            lines += ["\n[sample]", f"method = {_toml_value(self.sampler)}", f"cells = {self.samples}",
                      f"seed = {self.sample_seed}", "\n[sample.ranges]"]
            lines += [f"{_toml_value(r.key)} = {_toml_value([r.low, r.high, 'log' if r.log else 'linear'])}"
                      for r in self.ranges]
        lines += _config_tables(to_dict(self.base))
        return "\n".join(lines) + "\n"


def cell_key(config: ExperimentConfig, threshold: float) -> str:
    """A cell's key: hash of its canonical config (runs and first seed included), the threshold and the version."""
    canonical = json.dumps({"config": to_dict(config), "threshold": threshold, "version": __version__},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _config_tables(raw: dict[str, Any]) -> list[str]:
    lines = ["\n[config]"] + [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for section, table in raw.items():
        if isinstance(table, dict):
            lines.append(f"\n[config.{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return lines


# --- parsing "KEY=VALUES" ------------------------------------------------------------------
def _toml_array(text: str, param: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise refuse(f"`{param}` expects KEY=VALUES like 'training.lr=[0.1, 1.0]', got {short(text)}")
    try:
        document = tomllib.loads(f"v = {values.strip()}")
    except tomllib.TOMLDecodeError as exc:
        raise refuse(f"`{param}` {key}: values must be a TOML array like [0.1, 1.0] or [[2], [4]] ({exc})") from None
    parsed = document["v"]
    if not isinstance(parsed, list) or len(document) > 1:  # text after the array (a newline, a table) is an error
        raise refuse(f"`{param}` {key}: values must be one TOML array like [0.1, 1.0] and nothing after it, "
                     f"got {short(values.strip())}")
    return check_key(key, param), parsed


def check_key(key: str, param: str = "grid") -> str:
    """``key`` if it names a config value a sweep may vary (``section.key``), else ``ConfigError``."""
    section, dot, name = key.partition(".")
    if not dot or section not in SECTIONS:
        raise refuse(f"`{param}` {short(key)}: a key is section.key with section one of {', '.join(SECTIONS)} "
                     "(e.g. training.lr)")
    fields = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if name not in fields:
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {section}.{close[0]}? " if close else ""
        raise refuse(f"`{param}` {short(key)}: unknown key; {hint}[{section}] has {', '.join(fields)}")
    if key in RESERVED:
        raise refuse(f"`{param}` {key}: a sweep sets this itself; use {RESERVED[key]}")
    return key


def parse_grid(text: str) -> tuple[str, tuple[Any, ...]]:
    """``'training.lr=[0.1, 1.0]'`` -> ``("training.lr", (0.1, 1.0))``."""
    return check_axis(*_toml_array(text, "grid"))


def check_axis(key: Any, values: Any) -> tuple[str, tuple[Any, ...]]:
    """A grid axis checked (a known key, at least one value, none repeated); lists become tuples."""
    if not isinstance(key, str):
        raise refuse(f"`grid` keys must be strings like 'training.lr', got {short(key)}", TypeError)
    check_key(key, "grid")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise refuse(f"`grid` {key}: no values; give a non-empty list, e.g. {key}=[0.1, 1.0]; got {short(values)}")
    try:
        tagged = [json.dumps(v, sort_keys=True) for v in values]
    except (TypeError, ValueError) as exc:
        raise refuse(f"`grid` {key}: values must be numbers, strings, booleans or lists of them ({exc})") \
            from None
    seen: dict[str, Any] = {}
    for tag, value in zip(tagged, values, strict=True):
        if tag in seen:
            raise refuse(f"`grid` {key}: the value {short(value)} is given twice")
        seen[tag] = value
    return key, tuple(tuple(v) if isinstance(v, list) else v for v in values)


def parse_range(text: str) -> Range:
    """``'training.lr=[1e-3, 1.0, "log"]'`` -> ``Range("training.lr", 0.001, 1.0, log=True)``."""
    key, values = _toml_array(text, "ranges")
    return check_range(key, values)


def check_range(key: str, values: Sequence[Any]) -> Range:
    """A sampled key and its ``[low, high]`` or ``[low, high, "log"]``, checked."""
    check_key(key, "ranges")
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    scale = values[2] if len(values) == 3 else "linear"
    numbers = values[:2]
    if len(values) not in (2, 3) or scale not in ("linear", "log") or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
        raise refuse(f"`ranges` {key}: expected [low, high] or [low, high, \"log\"] with numbers, got {short(values)}")
    low, high = numbers
    if not low < high:
        raise refuse(f"`ranges` {key}: low must be below high, got [{low}, {high}]")
    if scale == "log" and low <= 0:
        raise refuse(f"`ranges` {key}: a log range needs low > 0, got {low}")
    tp = _field_type(key)
    if tp not in (int, float):
        raise refuse(f"`ranges` {key}: only numeric keys can be sampled from a range; use `grid` for it")
    return Range(key, float(low), float(high), scale == "log")


def parse_sample(text: Any) -> tuple[str, int]:
    """``'lhs:40'`` -> ``("lhs", 40)``."""
    method, _, count = text.partition(":") if isinstance(text, str) else ("", "", "")
    if method not in SAMPLERS or not count.isdigit() or int(count) < 1:
        raise refuse(f"`sample` expects random:N or lhs:N with N >= 1, got {short(text)}")
    return method, int(count)


def _field_type(key: str) -> type:
    section, name = key.split(".")
    hint = typing.get_type_hints(SECTIONS[section])[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args and typing.get_origin(hint) is not tuple else hint


def _draw(spec: SweepSpec) -> list[dict[str, Any]]:
    """``spec.samples`` cells from ``spec.ranges``: uniform draws or a Latin hypercube in ``[0, 1)^d``, mapped."""
    d = len(spec.ranges)
    if spec.sampler == "lhs":
        try:
            from scipy.stats import qmc
        except ImportError:
            raise ConfigError("--sample lhs needs SciPy: pip install 'backproplab[sweep]'") from None
        u = qmc.LatinHypercube(d=d, seed=np.random.default_rng(spec.sample_seed)).random(spec.samples)  # (N, d)
    else:
        u = np.random.default_rng(spec.sample_seed).random((spec.samples, d))  # (N, d)
    cells = []
    for row in u:
        cell = {}
        for r, x in zip(spec.ranges, row, strict=True):
            value = math.exp(math.log(r.low) + x * math.log(r.high / r.low)) if r.log else r.low + x * (r.high - r.low)
            # Integers round; floats keep 6 significant digits, so tables stay readable and TOML round-trips.
            cell[r.key] = round(value) if _field_type(r.key) is int else float(f"{value:.6g}")
        cells.append(cell)
    return cells


def make_spec(base: ExperimentConfig, *, grid: Sequence[tuple[str, Sequence[Any]]] = (), sample: str | None = None,
              ranges: Sequence[Range] = (), sample_seed: int = 0, runs: int = 100,
              threshold: float = 0.1) -> SweepSpec:
    """A ``SweepSpec`` whose shape is checked (keys, values, runs); its cells are checked by ``checks.check_cells``.

    Raises
    ------
    ConfigError
        Naming the parameter and key of the first problem.
    """
    if not is_int(runs) or runs < 1:
        raise refuse(f"`runs` must be an integer >= 1, got {short(runs)}")
    if not is_int(sample_seed) or sample_seed < 0:
        raise refuse(f"`sample_seed` must be an integer >= 0, got {short(sample_seed)}")
    if not (is_number(threshold) and math.isfinite(threshold) and threshold > 0):
        raise refuse(f"`threshold` must be a number > 0, got {short(threshold)}")
    keys = [key for key, _ in grid] + [r.key for r in ranges]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise refuse(f"{repeated[0]} is swept twice; give each key once")
    if sample is None and ranges:
        raise refuse("`ranges` needs `sample` random:N or lhs:N (how many cells to draw)")
    if sample is not None and grid:
        raise refuse("`grid` and `sample` cannot be combined; sweep a grid or draw a sample")
    if sample is not None and not ranges:
        raise refuse("`sample` needs at least one `ranges` KEY=[low, high] to draw from")
    if sample is None and not grid:
        raise refuse("nothing to sweep: give at least one `grid` KEY=VALUES (or `sample` with `ranges`)")
    method, count = parse_sample(sample) if sample is not None else (None, 0)
    return SweepSpec(base, tuple(check_axis(k, v) for k, v in grid), method, count, tuple(ranges), int(sample_seed),
                     int(runs), float(threshold))
