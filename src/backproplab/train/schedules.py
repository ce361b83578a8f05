"""Learning-rate schedules: step, exponential, cosine and inverse-scaling decay, and reduce-on-plateau.

A schedule is a ``Callback`` for ``fit``::

    fit(net, X, y, optimizer=Adam(0.01), epochs=100, callbacks=[CosineDecay(100)])

It remembers the optimizer's learning rate when training begins (the *base*
rate ``lr0``) and sets ``optimizer.lr = lr_at(epoch)`` before every epoch, the
first epoch (``epoch = 0``) running at ``lr0``. Per epoch, not per step: an
epoch count means the same thing whatever the batch size and data size, which
is how schedules are written in papers and how PyTorch's ``lr_scheduler`` and
Keras' ``LearningRateScheduler`` are usually driven. ``lr_at`` is a pure
function of the epoch, so a schedule can be plotted or tested without training.

``ReduceOnPlateau`` is the one schedule that watches training instead: it divides
the rate when a metric stops improving (scikit-learn's ``learning_rate="adaptive"``),
counting with ``Plateau``, scikit-learn's no-improvement counter.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_choice, check_positive_float, check_positive_int
from .callbacks import Callback, FitState


class Schedule(Callback):
    """Base class: subclasses implement ``factor(epoch)``, the multiplier of the base rate."""

    def __init__(self) -> None:
        self.base_lr: float | None = None

    def factor(self, epoch: int) -> float:
        """Multiplier of the base rate in the 0-based ``epoch``."""
        raise NotImplementedError

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        """Learning rate of the 0-based ``epoch`` (base: ``base_lr`` or the one seen at fit begin)."""
        base = self.base_lr if base_lr is None else base_lr
        if base is None:
            raise ValueError("lr_at needs base_lr until the schedule has been used in fit")
        return base * self.factor(epoch)

    def on_fit_begin(self, state: FitState) -> None:
        self.base_lr = state.optimizer.lr
        state.optimizer.lr = self.lr_at(0)

    def on_epoch_end(self, state: FitState) -> None:
        # state.epoch is the number of completed epochs: the 0-based index of the next one.
        state.optimizer.lr = self.lr_at(state.epoch)

    def on_fit_end(self, state: FitState) -> None:
        # Leave the optimizer as it was given, so the next fit call starts from the same rate.
        state.optimizer.lr = self.base_lr


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    ``lr = lr0 * gamma ** (epoch // step_size)``

    Examples
    --------
    >>> import backproplab as bp
    >>> schedule = bp.StepDecay(10, gamma=0.5)
    >>> [schedule.lr_at(epoch, 0.1) for epoch in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]

    In training, a schedule is a callback: ``bp.fit(..., optimizer=bp.SGD(0.1), callbacks=[schedule])``.
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        super().__init__()
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = check_positive_float("gamma", gamma)

    def factor(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)

    def __repr__(self) -> str:
        return f"StepDecay(step_size={self.step_size}, gamma={self.gamma})"


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch.

    ``lr = lr0 * gamma ** epoch``

    Examples
    --------
    >>> import backproplab as bp
    >>> [round(bp.ExponentialDecay(0.9).lr_at(epoch, 1.0), 3) for epoch in range(4)]
    [1.0, 0.9, 0.81, 0.729]
    """

    def __init__(self, gamma: float) -> None:
        super().__init__()
        self.gamma = check_positive_float("gamma", gamma)

    def factor(self, epoch: int) -> float:
        return self.gamma**epoch

    def __repr__(self) -> str:
        return f"ExponentialDecay(gamma={self.gamma})"


class CosineDecay(Schedule):
    """Half a cosine from ``lr0`` down to ``lr0 * min_factor`` over ``t_max`` epochs (Loshchilov & Hutter 2017).

    ``lr = lr0 * (min_factor + (1 - min_factor) * (1 + cos(pi * min(epoch, t_max) / t_max)) / 2)``

    After ``t_max`` epochs the rate stays at its minimum.

    Examples
    --------
    >>> import backproplab as bp
    >>> schedule = bp.CosineDecay(100)
    >>> [round(schedule.lr_at(epoch, 0.01), 6) for epoch in (0, 50, 100, 150)]
    [0.01, 0.005, 0.0, 0.0]
    """

    def __init__(self, t_max: int, min_factor: float = 0.0) -> None:
        super().__init__()
        self.t_max = check_positive_int("t_max", t_max)
        self.min_factor = check_positive_float("min_factor", min_factor, allow_zero=True)
        if self.min_factor > 1:
            raise ValueError(f"min_factor must be in [0, 1], got {min_factor}")

    def factor(self, epoch: int) -> float:
        progress = min(epoch, self.t_max) / self.t_max
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return f"CosineDecay(t_max={self.t_max}, min_factor={self.min_factor})"


class InverseScaling(Schedule):
    """Divide the rate by a power of the time (scikit-learn's ``learning_rate="invscaling"``).

    ``lr = lr0 / (1 + scale * epoch) ** power_t``

    scikit-learn counts time in samples seen: after ``e`` epochs of ``n`` samples its
    rate is ``lr0 / (e * n + 1) ** power_t``, which is ``scale=n``; ``factor(t)`` with
    the default ``scale=1`` takes its sample count ``t`` directly.

    Examples
    --------
    >>> import backproplab as bp
    >>> schedule = bp.InverseScaling(power_t=0.5)
    >>> [schedule.lr_at(epoch, 1.0) for epoch in (0, 3, 8)]  # 1 / sqrt(1 + epoch)
    [1.0, 0.5, 0.3333333333333333]
    >>> import math
    >>> math.isclose(bp.InverseScaling(0.5, scale=100).lr_at(1, 0.1), 0.1 / math.sqrt(101))  # 100 samples an epoch
    True
    """

    def __init__(self, power_t: float = 0.5, scale: float = 1.0) -> None:
        super().__init__()
        self.power_t = check_positive_float("power_t", power_t, allow_zero=True)
        self.scale = check_positive_float("scale", scale)

    def factor(self, epoch: int) -> float:
        return float((1.0 + self.scale * epoch) ** -self.power_t)

    def __repr__(self) -> str:
        return f"InverseScaling(power_t={self.power_t}, scale={self.scale})"


def _check_patience(patience: float) -> float:
    """An integer >= 1, or ``inf`` (never run out of patience), as scikit-learn's ``n_iter_no_change``."""
    if isinstance(patience, (float, np.floating)) and math.isinf(patience):
        if patience > 0:
            return math.inf
        raise ValueError(f"patience must be an integer >= 1 or inf, got {patience}")
    return check_positive_int("patience", patience)


class Plateau:
    """Counts the epochs in a row whose value did not improve on the best by ``min_delta``.

    scikit-learn's no-improvement count: for ``mode="min"`` (a loss) an epoch counts
    when ``value > best - min_delta``, for ``"max"`` (a score) when
    ``value < best + min_delta``; any other epoch resets the count. ``best`` is the
    best value seen (taken even when it improves by less than ``min_delta``).
    ``update`` returns True once the count exceeds ``patience``.
    """

    def __init__(self, patience: float = 10, min_delta: float = 1e-4, mode: str = "min") -> None:
        self.patience = _check_patience(patience)
        self.min_delta = check_positive_float("min_delta", min_delta, allow_zero=True)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.best = math.inf if mode == "min" else -math.inf
        self.count = 0

    def update(self, value: float) -> bool:
        """Take one epoch's value; True when more than ``patience`` epochs in a row did not improve."""
        if self.mode == "min":
            stalled, better = value > self.best - self.min_delta, value < self.best
        else:
            stalled, better = value < self.best + self.min_delta, value > self.best
        self.count = self.count + 1 if stalled else 0
        if better:
            self.best = float(value)
        return self.count > self.patience

    def reset(self) -> None:
        """Start counting again (the best value is kept)."""
        self.count = 0


class ReduceOnPlateau(Callback):
    """Divide the rate by ``divisor`` when ``monitor`` stops improving; stop once it is at most ``min_lr``.

    scikit-learn's ``learning_rate="adaptive"`` with its defaults: when more than
    ``patience`` epochs in a row did not improve by ``min_delta`` (see ``Plateau``),
    ``lr = lr / divisor`` and the count starts again, unless ``lr <= min_lr``:
    then training stops. The base rate is restored when ``fit`` ends.

    Examples
    --------
    ``observe`` is what ``fit`` calls after every epoch; fed by hand, the rate
    drops after more than ``patience`` epochs without improvement, and training
    stops once it has reached ``min_lr``:

    >>> import backproplab as bp
    >>> opt, plateau = bp.SGD(0.1), bp.ReduceOnPlateau(patience=2, divisor=10, min_lr=0.001)
    >>> for epoch, loss in enumerate([1.0, 0.5] + [0.5] * 9, start=1):  # no improvement after epoch 2
    ...     stop = plateau.observe(loss, opt)
    ...     print(f"epoch {epoch}: loss {loss}, lr {opt.lr:.4g}" + (", stop" if stop else ""))
    epoch 1: loss 1.0, lr 0.1
    epoch 2: loss 0.5, lr 0.1
    epoch 3: loss 0.5, lr 0.1
    epoch 4: loss 0.5, lr 0.1
    epoch 5: loss 0.5, lr 0.01
    epoch 6: loss 0.5, lr 0.01
    epoch 7: loss 0.5, lr 0.01
    epoch 8: loss 0.5, lr 0.001
    epoch 9: loss 0.5, lr 0.001
    epoch 10: loss 0.5, lr 0.001
    epoch 11: loss 0.5, lr 0.001, stop
    """

    def __init__(
        self, patience: float = 10, min_delta: float = 1e-4, divisor: float = 5.0, min_lr: float = 1e-6,
        monitor: str = "loss", mode: str = "min",
    ) -> None:
        self.plateau = Plateau(patience, min_delta, mode)
        self.divisor = check_positive_float("divisor", divisor)
        if self.divisor <= 1:
            raise ValueError(f"divisor must be > 1 (it lowers the rate), got {divisor}")
        self.min_lr = check_positive_float("min_lr", min_lr, allow_zero=True)
        self.monitor = monitor
        self.base_lr: float | None = None

    def observe(self, value: float, optimizer: object) -> bool:
        """Take one epoch's ``value``, lowering ``optimizer.lr`` on a plateau; True when training should stop."""
        return self.plateau.update(value) and self.reduce(optimizer)

    def reduce(self, optimizer: object) -> bool:
        """On a plateau: divide the rate and count again; True (stop) if it is already at most ``min_lr``."""
        if optimizer.lr <= self.min_lr:
            return True
        optimizer.lr = optimizer.lr / self.divisor
        self.plateau.reset()
        return False

    def on_fit_begin(self, state: FitState) -> None:
        self.base_lr = state.optimizer.lr

    def on_epoch_end(self, state: FitState) -> None:
        if self.observe(float(state.history[self.monitor][-1]), state.optimizer):
            state.stop = True

    def on_fit_end(self, state: FitState) -> None:
        state.optimizer.lr = self.base_lr

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"best": np.array(self.plateau.best), "count": np.array(self.plateau.count)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.plateau.best, self.plateau.count = float(state["best"]), int(state["count"])

    def __repr__(self) -> str:
        p = self.plateau
        return (f"ReduceOnPlateau(patience={p.patience}, min_delta={p.min_delta}, divisor={self.divisor}, "
                f"min_lr={self.min_lr}, monitor={self.monitor!r}, mode={p.mode!r})")


#: Schedules by name, for config files and the command line.
#: (InverseScaling and ReduceOnPlateau take other arguments than the epoch count config files pass.)
SCHEDULES: dict[str, type[Schedule]] = {"step": StepDecay, "exponential": ExponentialDecay, "cosine": CosineDecay}
