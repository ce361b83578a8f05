"""What a user sweep is: a base config, a grid (or a sample of ranges) of overrides, and a range of seeds.

A cell is one set of overrides, each naming a config key as in the TOML file
(``section.key``, e.g. ``training.lr``). A grid's cells are the product of its
axes, the first axis varying slowest; a sample draws its cells from ranges,
reproducibly from ``sample_seed`` (uniform ``random`` draws or a Latin hypercube,
``lhs``). Every cell is validated as a whole config before any work starts, so a
value the config refuses fails with the config's own one-line message, naming
the ``--grid``/``--range`` that set it.

Each cell is trained from the seeds ``seed .. seed + seeds - 1`` (``seed``: the
base config's ``training.seed``) on the runs axis. Its key, which names its result
file and makes a rerun skip it, is a hash of the cell's canonical config (with its
runs and first seed), the loss threshold and the package version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._version import __version__
from ..experiments.config import SECTIONS, ConfigError, ExperimentConfig, _toml_value, from_dict, to_dict

#: Keys a sweep sets itself: the runs axis holds the seeds.
RESERVED = {"training.seed": "--seed", "training.runs": "--seeds"}
SAMPLERS = ("random", "lhs")


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
    seeds : int
        Seeds per cell.
    threshold : float
        Loss threshold of the ``epochs_to_loss_<threshold>`` column.
    """

    base: ExperimentConfig
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    sampler: str | None = None
    samples: int = 0
    ranges: tuple[Range, ...] = ()
    sample_seed: int = 0
    seeds: int = 100
    threshold: float = 0.1

    @property
    def keys(self) -> list[str]:
        """The swept config keys: one column each in the results."""
        return [key for key, _ in self.grid] if self.sampler is None else [r.key for r in self.ranges]

    @property
    def first_seed(self) -> int:
        return self.base.training.seed

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
            flags[(section, name)] = f"--{'grid' if self.sampler is None else 'range'} {key}"
        raw["training"]["runs"] = self.seeds
        return from_dict(raw, source="sweep", flags=flags)

    def to_toml(self) -> str:
        """The spec as TOML (``sweep.toml``): the sweep, then the base config under ``[config]``."""
        lines = ["# backproplab sweep: rerunning the same spec in this directory computes only missing cells.",
                 f"version = {_toml_value(__version__)}", f"seeds = {self.seeds}", f"first_seed = {self.first_seed}",
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
def _toml_array(text: str, flag: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"{flag} expects KEY=VALUES like 'training.lr=[0.1, 1.0]', got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {values.strip()}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{flag} {key}: values must be a TOML array like [0.1, 1.0] or [[2], [4]] ({exc})") from None
    if not isinstance(parsed, list):
        raise ConfigError(f"{flag} {key}: values must be a TOML array like [0.1, 1.0], got {values.strip()!r}")
    return check_key(key, flag), parsed


def check_key(key: str, flag: str) -> str:
    """``key`` if it names a config value a sweep may vary (``section.key``), else ``ConfigError``."""
    section, dot, name = key.partition(".")
    if not dot or section not in SECTIONS:
        raise ConfigError(f"{flag} {key}: a key is section.key with section one of {', '.join(SECTIONS)} "
                          "(e.g. training.lr)")
    fields = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if name not in fields:
        import difflib

        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {section}.{close[0]}? " if close else ""
        raise ConfigError(f"{flag} {key}: unknown key; {hint}[{section}] has {', '.join(fields)}")
    if key in RESERVED:
        raise ConfigError(f"{flag} {key}: a sweep sets this itself; use {RESERVED[key]}")
    return key


def parse_grid(text: str) -> tuple[str, tuple[Any, ...]]:
    """``'training.lr=[0.1, 1.0]'`` -> ``("training.lr", (0.1, 1.0))``."""
    return check_axis(*_toml_array(text, "--grid"))


def check_axis(key: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """A grid axis checked (a known key, at least one value, none repeated); lists become tuples."""
    check_key(key, "--grid")
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ConfigError(f"--grid {key}: no values; give at least one, e.g. {key}=[0.1, 1.0]")
    try:
        tagged = [json.dumps(v, sort_keys=True) for v in values]
    except TypeError as exc:
        raise ConfigError(f"--grid {key}: values must be numbers, strings, booleans or lists of them ({exc})") \
            from None
    if len(set(tagged)) < len(tagged):
        repeated = next(v for v in values if tagged.count(json.dumps(v, sort_keys=True)) > 1)
        raise ConfigError(f"--grid {key}: the value {repeated!r} is given twice")
    return key, tuple(tuple(v) if isinstance(v, list) else v for v in values)


def parse_range(text: str) -> Range:
    """``'training.lr=[1e-3, 1.0, "log"]'`` -> ``Range("training.lr", 0.001, 1.0, log=True)``."""
    key, values = _toml_array(text, "--range")
    scale = values[2] if len(values) == 3 else "linear"
    numbers = values[:2]
    if len(values) not in (2, 3) or scale not in ("linear", "log") or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
        raise ConfigError(f"--range {key}: expected [low, high] or [low, high, \"log\"] with numbers, got "
                          f"{text.partition('=')[2].strip()}")
    low, high = numbers
    if not low < high:
        raise ConfigError(f"--range {key}: low must be below high, got [{low}, {high}]")
    if scale == "log" and low <= 0:
        raise ConfigError(f"--range {key}: a log range needs low > 0, got {low}")
    tp = _field_type(key)
    if tp not in (int, float):
        raise ConfigError(f"--range {key}: only numeric keys can be sampled from a range; use --grid for it")
    return Range(key, float(low), float(high), scale == "log")


def parse_sample(text: str) -> tuple[str, int]:
    """``'lhs:40'`` -> ``("lhs", 40)``."""
    method, _, count = text.partition(":")
    if method not in SAMPLERS or not count.isdigit() or int(count) < 1:
        raise ConfigError(f"--sample expects random:N or lhs:N with N >= 1, got {text!r}")
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
              ranges: Sequence[Range] = (), sample_seed: int = 0, seeds: int = 100,
              threshold: float = 0.1) -> SweepSpec:
    """A validated ``SweepSpec``: every cell's config is built (and so checked) here, before any work.

    Raises
    ------
    ConfigError
        Naming the flag and key of the first problem.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds must be an integer >= 1, got {seeds!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise ConfigError(f"--threshold must be a number > 0, got {threshold!r}")
    keys = [key for key, _ in grid] + [r.key for r in ranges]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"{repeated[0]} is swept twice; give each key once")
    if sample is None and ranges:
        raise ConfigError("--range needs --sample random:N or lhs:N (how many cells to draw)")
    if sample is not None and grid:
        raise ConfigError("--grid and --sample cannot be combined; sweep a grid or draw a sample")
    if sample is not None and not ranges:
        raise ConfigError("--sample needs at least one --range KEY=[low, high] to draw from")
    if sample is None and not grid:
        raise ConfigError("nothing to sweep: give at least one --grid KEY=VALUES (or --sample with --range)")
    method, count = parse_sample(sample) if sample is not None else (None, 0)
    spec = SweepSpec(base, tuple(check_axis(k, v) for k, v in grid), method, count, tuple(ranges), sample_seed,
                     seeds, float(threshold))
    for cell in spec.cells():
        spec.cell_config(cell)
    return spec
