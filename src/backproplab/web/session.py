"""One playground training session: settings, data, network, and its frames as JSON.

Kept apart from the server so it can be tested, and reasoned about, without
one: the server only decides *when* to call ``advance`` and whom to send the
frames to. Training is the engine's own ``fit``, a few epochs at a time, with
one optimizer object carried across calls (so its momentum and moments persist).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import data as _data
from ..core.gradcheck import gradcheck
from ..core.layers import ACTIVATIONS
from ..core.network import check_data, mlp
from ..core.optim import OPTIMIZER_NAMES, get_optimizer
from ..train.loop import fit
from ..train.recording import FrameProbe, health_flags, run_params
from .explorer import pack, quantize

#: Logic functions (four rows, the report's data).
LOGIC = tuple(_data.GATES)
#: 2-D toy sets of 200 noisy points, two classes (``toy_data``).
TOY = tuple(_data.TOY)
DATASETS = (*LOGIC, *TOY)
MAX_HIDDEN_LAYERS, MAX_UNITS = 4, 64
MAX_EPOCHS = 100_000


def toy_data(name: str, n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D two-class toy set from ``backproplab.data``: ``X (n, 2)``, ``y (n,)`` in {0, 1}."""
    maker = _data.TOY[name]
    options = {k: 2 for k in ("n_classes", "centers") if k in inspect.signature(maker).parameters}
    X, y = maker(n_samples=n, seed=seed, **options)  # the playground's output is one sigmoid unit
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)


@dataclass
class Settings:
    """What the page lets one choose; ``parse_settings`` validates a request into one."""

    dataset: str = "xor"
    hidden: list[int] = field(default_factory=lambda: [4])  # units per hidden layer
    activation: str = "tanh"
    optimizer: str = "sgd"
    lr: float = 0.5
    batch_size: int = 4
    seed: int = 0


def parse_settings(raw: Any) -> Settings:
    """Validate the page's request; raise ``ValueError`` naming the field and the value (cut short if long).

    Every field is checked for its type before it is used: numbers may come as
    JSON numbers or as the page's form strings, names only as strings.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"settings must be a JSON object, got {type(raw).__name__}")
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(_short(k) for k in set(raw) - known)
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown[:5])}; known: {', '.join(sorted(known))}")
    s = Settings(**{**asdict(Settings()), **raw})
    s.dataset = _name("dataset (data set)", s.dataset, DATASETS)
    s.hidden = _parse_hidden(s.hidden)
    s.activation = _name("activation", s.activation, ACTIVATIONS)
    s.optimizer = _name("optimizer", s.optimizer, OPTIMIZER_NAMES)
    s.lr = _number("lr (learning rate)", s.lr)
    if not 0 < s.lr <= 10:
        raise ValueError(f"lr (learning rate) must be > 0 and <= 10, got {_short(s.lr)}")
    s.batch_size = _integer("batch_size (batch size)", s.batch_size, 1, 10_000)
    s.seed = _integer("seed", s.seed, 0, 2**31 - 1)
    return s


def _short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: an answer never echoes a 20 MB value back."""
    if isinstance(value, int) and value.bit_length() > 128:  # repr of a 5000-digit int is refused by Python
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(field: str, value: Any, allowed: Any) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{field} must be one of {', '.join(allowed)}; got {_short(value)}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, got {_short(value)}")
    if (isinstance(value, int) and value.bit_length() > 128) or (isinstance(value, str) and len(value) > 40):
        raise ValueError(f"{name} must be a number of a sensible size, got {_short(value)}")
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {_short(value)}") from None
    except OverflowError:  # an integer of 400 digits
        raise ValueError(f"{name} must be a number of a sensible size, got {_short(value)}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {_short(value)}")
    return x


def _integer(name: str, value: Any, lo: int, hi: int) -> int:
    x = _number(name, value)
    if x != int(x) or not lo <= x <= hi:
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {_short(value)}")
    return int(x)


def _parse_hidden(value: Any) -> list[int]:
    if isinstance(value, str) and len(value) <= 100:
        parts: Any = value.replace(",", " ").split()
    else:
        parts = value
    if not isinstance(parts, (list, tuple)):
        raise ValueError(f"hidden must be layer sizes like '8' or '8, 8', got {_short(value)}")
    if len(parts) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"hidden: at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(parts)}")
    sizes = []
    for part in parts:
        text = str(part).strip() if isinstance(part, (int, str)) and not isinstance(part, bool) else "?"
        digits = text.lstrip("-")
        if not (digits.isdigit() and len(digits) <= 6 and str(int(text)) == text):
            raise ValueError(f"hidden layer sizes must be whole numbers, got {_short(part)} in {_short(value)}")
        if not 1 <= int(text) <= MAX_UNITS:
            raise ValueError(f"hidden: each hidden layer needs 1 to {MAX_UNITS} units, got {_short(part)}")
        sizes.append(int(text))
    return sizes


class Session:
    """A network being trained on one data set, and the frames the page draws."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = s = settings or Settings()
        if s.dataset in LOGIC:
            X, y = _data.logic_table(s.dataset)
        else:
            X, y = toy_data(s.dataset, seed=s.seed)
        self.X, self.y = X, y
        self.net = mlp([2, *s.hidden, 1], activation=s.activation, seed=s.seed)
        self.optimizer = get_optimizer(s.optimizer, s.lr)
        X, Y, self.loss = check_data(self.net, X, y)
        self.probe = FrameProbe(self.net.single_run_copy(), X, Y, self.loss, n_probes=8, grid=32)
        self.epoch = 0
        self.losses: list[float] = []
        self._previous: dict[str, np.ndarray] | None = None

    def advance(self, epochs: int) -> None:
        """Train ``epochs`` more epochs (stops at ``MAX_EPOCHS``); raises ``DivergenceError`` if the loss blows up."""
        epochs = min(epochs, MAX_EPOCHS - self.epoch)
        if epochs <= 0:
            return
        s = self.settings
        for n in (epochs - 1, 1):  # the last epoch alone, so the frame can show one epoch's update ratio
            if n == 0:
                continue
            if n == 1:
                self._previous = run_params(self.net, None)
            # A fresh shuffling seed per call, derived from the epoch: the same settings replay the same run.
            history = fit(self.net, self.X, self.y, optimizer=self.optimizer, epochs=n, batch_size=s.batch_size,
                          shuffle_seed=s.seed * 1_000_003 + self.epoch, progress=False)
            self.losses.extend(float(v) for v in history.loss)
            self.epoch += n

    @property
    def done(self) -> bool:
        return self.epoch >= MAX_EPOCHS

    def frame(self) -> dict[str, Any]:
        """What the page redraws after each advance (JSON-ready)."""
        f = self.probe.measure(run_params(self.net, None), self._previous)
        flags = health_flags(f["grad_norm"][None], f["update_ratio"][None])[0]
        dense = self.probe.dense
        return {
            "epoch": self.epoch,
            "loss": self.losses[-1] if self.losses else f["loss"],
            "weights": [f["params"][f"{i}.W"].ravel().tolist() for i in dense],
            "grad_norm": f["grad_norm"].tolist(),
            "update_ratio": [None if math.isnan(v) else float(v) for v in f["update_ratio"]],
            "health": [None if math.isnan(v) else float(v) for v in f["health"]],
            "flags": flags.tolist(),
            "activations": [a.tolist() for a in f["a"]],
            "outputs": f["a"][-1][:, 0].tolist(),
            "grid": pack(quantize(f["grid"]), "u1"),
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything a (re)opened page needs: settings, data, the loss so far and the current frame."""
        return {
            "settings": asdict(self.settings),
            "sizes": [2, *self.settings.hidden, 1],
            "kinds": self.probe.activation_kinds(),
            "extent": list(self.probe.extent),
            "points": self.X.tolist(),
            "labels": self.y.astype(int).tolist(),
            "probe_x": self.probe.probe_x.tolist(),
            "probe_y": self.probe.probe_y[:, 0].tolist(),
            "losses": self.losses,
            "frame": self.frame(),
            "max_epochs": MAX_EPOCHS,
        }

    def check_gradients(self) -> dict[str, Any]:
        """``gradcheck`` of the current network on (up to 64 rows of) the data."""
        rows = np.linspace(0, len(self.X) - 1, min(len(self.X), 64)).round().astype(int)
        result = gradcheck(self.net, self.X[rows], self.y[rows], max_checks=25, sample_seed=self.epoch)
        return {
            "passed": bool(result.passed),
            "max_error": result.max_error,
            "rtol": result.rtol,
            "atol": result.atol,
            "errors": result.errors,
            "checked": result.checked,
            "epoch": self.epoch,
            "text": str(result),
        }


def choices() -> dict[str, list[str]]:
    """The options the page's menus offer."""
    return {
        "dataset": list(DATASETS),
        "activation": list(ACTIVATIONS),
        "optimizer": list(OPTIMIZER_NAMES),
    }
