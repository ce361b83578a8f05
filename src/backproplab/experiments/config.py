"""Experiment configuration: TOML files and command-line flags, validated into dataclasses.

An experiment is one TOML file with a few top-level keys and one table per
section (nanoGPT's dataclass config, without ``exec``)::

    name = "xor"
    title = "XOR"

    [data]
    name = "xor"

    [model]
    hidden = [8]
    activation = "sigmoid"

    [training]
    lr = 0.1
    epochs = 2000
    batch_size = 4

Every section is a frozen dataclass whose fields carry their own rule (type,
allowed names, range) in ``metadata``, so adding an option is adding one field.
Validation happens before any work and fails with one line that names the key
(or the command-line flag that set it) and what is allowed::

    xor.toml: [training] lr must be a number > 0, got -1
    xor.toml: unknown key [training] learning_rate; did you mean lr? allowed: batch_size, clip_norm, ...
    --epochs must be an integer >= 1, got 0

The report's three experiments ship with the package (``configs/*.toml``) and
are loaded by name: ``load_config("xor")``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .._checks import FLOAT_DTYPES
from ..core.init import INITIALIZERS
from ..core.layers import ACTIVATIONS
from ..core.losses import OUTPUTS
from ..core.optim import OPTIMIZER_NAMES, Optimizer
from ..data import DATASETS, GATES, MULTICLASS
from ..errors import ConfigError
from ..train.schedules import SCHEDULES

#: Optimizers by the name a config gives them (``momentum`` and ``nesterov`` are SGD with momentum 0.9).
OPTIMIZERS: dict[str, type[Optimizer]] = OPTIMIZER_NAMES



def option(
    default: Any,
    doc: str,
    *,
    choices: Callable[[], Iterable[str]] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    file_name: bool = False,
) -> Any:
    """A dataclass field with its rule: ``doc`` (written as a comment into saved configs), allowed names, range.

    ``choices`` is a callable so registries are read when a value is checked, after
    other modules have added to them. ``file_name`` marks a string that names a
    file or folder inside an output folder: one name, never a path.
    """
    meta = {"doc": doc, "choices": choices, "minimum": minimum, "maximum": maximum, "exclusive": exclusive_minimum,
            "file_name": file_name}
    return field(default=default, metadata=meta)


def _names(registry: Iterable[str]) -> Callable[[], list[str]]:
    return lambda: sorted(registry)


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: what to train on."""

    name: str = option("xor", "data set: a logic function, a 2-D toy set, iris, digits, mnist1d or mnist",
                       choices=lambda: DATASETS)
    n_samples: int = option(300, "points generated (toy sets moons, circles, spirals, blobs)", minimum=2,
                            maximum=10_000_000)
    noise: float | None = option(None, "noise of a toy set (default: the generator's)", minimum=0)
    val: float = option(0.15, "share held out for validation (not for logic tables)", minimum=0, maximum=0.9)
    test: float = option(0.15, "share held out for testing (iris, digits, toy sets)", minimum=0, maximum=0.9)


@dataclass(frozen=True)
class ModelConfig:
    """``[model]``: the network. Input and output widths follow from the data."""

    hidden: tuple[int, ...] = option((8,), "units of each hidden layer", minimum=1, maximum=100_000)
    activation: str = option("sigmoid", "hidden-layer activation", choices=_names(ACTIVATIONS))
    output: str = option("sigmoid", "output activation (its loss is paired with it)", choices=_names(OUTPUTS))
    init: str = option("he_normal", "weight initialisation", choices=_names(INITIALIZERS))
    dtype: str = option("float64", "floating-point precision", choices=lambda: FLOAT_DTYPES)
    dropout: float = option(0.0, "dropout rate after every hidden activation (0: none)", minimum=0, maximum=0.99)
    batch_norm: bool = option(False, "batch normalisation before every hidden activation")


@dataclass(frozen=True)
class TrainingConfig:
    """``[training]``: the optimizer and the loop."""

    optimizer: str = option("sgd", "optimizer", choices=_names(OPTIMIZERS))
    lr: float = option(0.1, "learning rate", minimum=0, exclusive_minimum=True)
    clip_norm: float | None = option(None, "clip the global gradient norm (per run) to this", minimum=0,
                                     exclusive_minimum=True)
    epochs: int = option(1000, "number of passes over the data", minimum=1, maximum=10_000_000)
    batch_size: int = option(4, "rows per mini-batch", minimum=1)
    shuffle: bool = option(True, "reshuffle the rows every epoch (no effect when one batch holds all)")
    seed: int = option(0, "seed of the initial weights (run r uses seed + r) and of the shuffling", minimum=0)
    runs: int = option(1, "networks trained at once on the runs axis, seeds seed .. seed + runs - 1",
                       minimum=1, maximum=1_000_000)
    momentum: float | None = option(None, "momentum of sgd/momentum/nesterov (default 0 for sgd, else 0.9)",
                                    minimum=0, maximum=0.999)
    weight_decay: float = option(0.0, "L2 weight decay (decoupled for adamw)", minimum=0)
    schedule: str = option("constant", "learning-rate schedule, applied per epoch",
                           choices=lambda: ["constant", *SCHEDULES])
    lr_gamma: float = option(0.1, "decay factor of the step and exponential schedules", minimum=0,
                             exclusive_minimum=True, maximum=1)
    lr_step: int = option(100, "epochs between decays of the step schedule", minimum=1)
    patience: int | None = option(None, "early stopping: epochs without a better validation loss (default: off)",
                                  minimum=1)


@dataclass(frozen=True)
class ReferenceConfig:
    """``[reference]``: a published result to compare with (the report's Tables 1-3)."""

    predicted: tuple[float, ...] | None = option(None, "the reference's predicted probability per data row",
                                                 minimum=0, maximum=1)
    source: str = option("", "where the reference numbers come from")


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: top-level keys plus one table per section."""

    name: str = option("experiment", "short name, used for file names (a name, not a path)", file_name=True)
    title: str = option("", "title for tables and figures")
    description: str = option("", "one sentence on what the experiment shows")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    reference: ReferenceConfig = field(default_factory=ReferenceConfig)

    def replace(self, section: str, **changes: Any) -> ExperimentConfig:
        """A copy with ``changes`` applied to one section (validated)."""
        raw = to_dict(self)
        raw[section].update(changes)
        return from_dict(raw)


#: Sections of an experiment file, by table name.
SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "training": TrainingConfig,
    "reference": ReferenceConfig,
}

Where = tuple[str, str]  # (section, key); section "" for top-level keys


# --- reading ----------------------------------------------------------------------------
def from_dict(
    raw: Mapping[str, Any], *, source: str = "config", flags: Mapping[Where, str] | None = None
) -> ExperimentConfig:
    """Validate plain data (as parsed from TOML) into an ``ExperimentConfig``.

    Parameters
    ----------
    raw : mapping
        Top-level keys and one mapping per section.
    source : str
        Named at the start of every error message (a file name).
    flags : mapping of (section, key) to str, optional
        Values that came from command-line flags: their errors name the flag instead.

    Raises
    ------
    ConfigError
        On the first unknown key, wrong type or out-of-range value.
    """
    flags = dict(flags or {})

    def where(section: str, key: str) -> str:
        if (section, key) in flags:
            return flags[(section, key)]
        return f"{source}: " + (f"[{section}] {key}" if section else key)

    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {type(raw).__name__}")
    top = {f.name for f in dataclasses.fields(ExperimentConfig)} - set(SECTIONS)
    _unknown_keys(raw, top | set(SECTIONS), lambda key: f"{source}: unknown key {key}")
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(ExperimentConfig)
    for f in dataclasses.fields(ExperimentConfig):
        if f.name in SECTIONS:
            table = raw.get(f.name, {})
            if not isinstance(table, Mapping):
                raise ConfigError(f"{where('', f.name)} must be a table [{f.name}], got {table!r}")
            values[f.name] = _section(SECTIONS[f.name], table, f.name, source, where)
        elif f.name in raw:
            values[f.name] = _value(raw[f.name], hints[f.name], f.metadata, where("", f.name))
    config = ExperimentConfig(**values)
    model = raw.get("model", {})
    if config.data.name in MULTICLASS and "output" not in model and ("model", "output") not in flags:
        # Unless the config names an output, a data set of more than two classes gets softmax.
        config = dataclasses.replace(config, model=dataclasses.replace(config.model, output="softmax"))
    _cross_check(config, where)
    return config


def _section(cls: type, table: Mapping[str, Any], section: str, source: str, where: Callable[[str, str], str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _unknown_keys(table, fields, lambda key: f"{source}: unknown key [{section}] {key}")
    hints = typing.get_type_hints(cls)
    return cls(**{key: _value(value, hints[key], fields[key].metadata, where(section, key))
                  for key, value in table.items()})


def _unknown_keys(table: Mapping[str, Any], allowed: Iterable[str], label: Callable[[str], str]) -> None:
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(f"{label(str(key))}; {hint}allowed: {', '.join(allowed)}")


def _value(value: Any, hint: Any, meta: Mapping[str, Any], where: str) -> Any:
    """Check one value against its type hint and rule; return it in the field's type."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        (hint,) = [a for a in args if a is not type(None)]  # TOML has no null: absent means None
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, (list, tuple)) or not value:
            raise ConfigError(f"{where} must be a non-empty list of {_type_name(item)}s, got {value!r}")
        return tuple(_scalar(v, item, meta, f"{where}[{i}]") for i, v in enumerate(value))
    return _scalar(value, hint, meta, where)


def _type_name(tp: type) -> str:
    return {int: "integer", float: "number", str: "string", bool: "boolean"}[tp]


def _scalar(value: Any, tp: type, meta: Mapping[str, Any], where: str) -> Any:
    choices = meta.get("choices")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        if choices is not None and value not in (allowed := list(choices())):
            raise ConfigError(f"{where} must be one of {', '.join(allowed)}; got {value!r}")
        if meta.get("file_name"):
            _check_file_name(value, where)
        return value
    numeric = (int,) if tp is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, numeric) or (tp is float and not math.isfinite(value)):
        raise ConfigError(f"{where} must be {_range(tp, meta)}, got {value!r}")
    lo, hi, exclusive = meta.get("minimum"), meta.get("maximum"), meta.get("exclusive")
    if (lo is not None and (value < lo or (exclusive and value == lo))) or (hi is not None and value > hi):
        raise ConfigError(f"{where} must be {_range(tp, meta)}, got {value!r}")
    return tp(value)


def _check_file_name(value: str, where: str) -> None:
    """Refuse a name that would lead a default output path elsewhere (``/tmp/x``, ``../../x``) or be no name at all.

    The default output folders are ``runs/<name>`` and ``sweeps/<name>`` under the
    working directory; a separator, ``..`` or an absolute path would let a config
    file write anywhere the user can.
    """
    shown = value if len(value) <= 60 else value[:57] + "..."
    if value in ("", ".", "..") or any(c in value for c in "/\\") or not value.isprintable():
        raise ConfigError(f"{where} must be a name, not a path (no / or \\, not . or .., "
                          f"no control characters); got {shown!r}")


def _range(tp: type, meta: Mapping[str, Any]) -> str:
    lo, hi, exclusive = meta.get("minimum"), meta.get("maximum"), meta.get("exclusive")
    text = "an integer" if tp is int else "a number"
    lo, hi = (None if v is None else (f"{int(v)}" if tp is int else f"{v:g}") for v in (lo, hi))
    if lo is not None and hi is not None and not exclusive:
        return f"{text} from {lo} to {hi}"
    if lo is not None:
        text += f" {'>' if exclusive else '>='} {lo}"
    if hi is not None:
        text += f" <= {hi}"
    return text


def _cross_check(config: ExperimentConfig, where: Callable[[str, str], str]) -> None:
    """Rules that involve two sections."""
    if config.data.name not in GATES and config.data.name != "parity" and config.data.val == 0 and (
            config.training.patience is not None):
        raise ConfigError(f"{where('training', 'patience')} needs a validation part: [data] val > 0")
    if config.training.momentum is not None and config.training.optimizer not in ("sgd", "momentum", "nesterov"):
        raise ConfigError(f"{where('training', 'momentum')} applies to sgd, momentum and nesterov, not to "
                          f"optimizer {config.training.optimizer!r}")
    if config.data.name in MULTICLASS and config.model.output != "softmax":
        raise ConfigError(f"{where('model', 'output')} must be \"softmax\" for {config.data.name}, which has more "
                          f"than two classes; got {config.model.output!r}")
    if config.data.val + config.data.test >= 1:
        raise ConfigError(f"{where('data', 'test')}: val + test must be below 1, got "
                          f"{config.data.val} + {config.data.test}")
    predicted = config.reference.predicted
    if predicted is not None and config.data.name in GATES and len(predicted) != 4:
        raise ConfigError(f"{where('reference', 'predicted')} needs one value per row of the truth table (4), "
                          f"got {len(predicted)}")


def parse_toml(text: str, source: str = "config") -> ExperimentConfig:
    """Validate the TOML document ``text``; ``source`` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from exc
    return from_dict(raw, source=source)


def shipped_configs() -> list[str]:
    """Names of the experiment configs shipped with the package (``and``, ``or``, ``xor``)."""
    folder = resources.files("backproplab") / "configs"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_config(path_or_name: str | Path) -> ExperimentConfig:
    """Read an experiment config from a TOML file, or a shipped one by name (``"xor"``).

    A path that exists wins over a shipped name.

    Raises
    ------
    ConfigError
        If there is no such file or shipped config, or the file is not a valid config.
    """
    path = Path(path_or_name)
    if path.is_dir():
        inside = path / "config.toml"
        hint = f"; did you mean {inside}?" if inside.is_file() else "; give a TOML file (or a shipped config's name)"
        raise ConfigError(f"{path} is a directory, not a config file{hint}")
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc})") from exc
        return parse_toml(text, source=str(path))
    name = str(path_or_name)
    if name in shipped_configs():
        resource = resources.files("backproplab") / "configs" / f"{name}.toml"
        return parse_toml(resource.read_text(encoding="utf-8"), source=f"{name}.toml")
    raise ConfigError(f"no config file {name!r} (and no shipped config of that name; shipped: "
                      f"{', '.join(shipped_configs())})")


# --- writing ----------------------------------------------------------------------------
def to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """Plain data (lists for tuples, ``None`` values left out), the inverse of ``from_dict``."""
    def plain(obj: Any) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                out[f.name] = plain(value)
            elif value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    return plain(config)


def to_toml(config: ExperimentConfig) -> str:
    """The config as a TOML document, one comment per key; ``parse_toml(to_toml(c)) == c``."""
    lines: list[str] = []

    def emit(obj: Any) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.name in SECTIONS or value is None:
                continue
            lines.append(f"{f.name} = {_toml_value(value)}  # {f.metadata['doc']}")

    emit(config)
    for section in SECTIONS:
        lines.append(f"\n[{section}]")
        emit(getattr(config, section))
    return "\n".join(lines) + "\n"


# TOML basic strings: backslash, quote and control characters (U+0000-U+001F, U+007F) must be escaped.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # repr round-trips floats exactly
    if isinstance(value, str):
        return '"' + "".join(_ESCAPES.get(c, c if c.isprintable() or c == " " else f"\\U{ord(c):08x}")
                             for c in value) + '"'
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"
