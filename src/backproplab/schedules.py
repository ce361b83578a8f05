"""Learning-rate schedules: step, exponential and cosine decay, applied once per epoch.

A schedule is a ``Callback`` for ``fit``::

    fit(net, X, y, optimizer=Adam(0.01), epochs=100, callbacks=[CosineDecay(100)])

It remembers the optimizer's learning rate when training begins (the *base*
rate ``lr0``) and sets ``optimizer.lr = lr_at(epoch)`` before every epoch, the
first epoch (``epoch = 0``) running at ``lr0``. Per epoch, not per step: an
epoch count means the same thing whatever the batch size and data size, which
is how schedules are written in papers and how PyTorch's ``lr_scheduler`` and
Keras' ``LearningRateScheduler`` are usually driven. ``lr_at`` is a pure
function of the epoch, so a schedule can be plotted or tested without training.
"""

from __future__ import annotations

import math

from ._checks import check_positive_float, check_positive_int
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


#: Schedules by name, for config files and the command line.
SCHEDULES: dict[str, type[Schedule]] = {"step": StepDecay, "exponential": ExponentialDecay, "cosine": CosineDecay}
