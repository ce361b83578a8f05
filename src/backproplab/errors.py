"""The package's own exception classes.

Each subclasses the built-in error a caller would otherwise catch, so
``except ValueError`` keeps working while ``except BackproplabError`` catches
only ours.
"""

from __future__ import annotations


class BackproplabError(Exception):
    """Base class of every error raised on purpose by backproplab."""


class DivergenceError(BackproplabError, ArithmeticError):
    """The training loss became NaN or infinite.

    Attributes
    ----------
    epoch : int
        The 1-based epoch in which the loss stopped being finite.
    runs : tuple of int
        The runs (indices along the runs axis) whose loss diverged; ``(0,)``
        for a network without a runs axis.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], output="identity", seed=0)  # regression: nothing bounds the output
    >>> try:
    ...     bp.fit(net, X, y, optimizer=bp.SGD(1e10), epochs=50, batch_size=4, progress=False)
    ... except bp.DivergenceError as exc:
    ...     print(exc.epoch >= 1, exc.runs)
    True (0,)
    """

    def __init__(self, message: str, *, epoch: int, runs: tuple[int, ...]) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.runs = runs


class ModelFileError(BackproplabError, ValueError):
    """A file is not a readable backproplab model file (the message names the path and why)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM after saving a checkpoint.

    A ``KeyboardInterrupt`` (not a ``BackproplabError``): it is a user's request
    to stop, not a failure, and ``except Exception`` must not swallow it.

    Attributes
    ----------
    signum : int
        The signal received (2 for SIGINT, 15 for SIGTERM).
    checkpoint : pathlib.Path
        The checkpoint written; ``fit(..., resume=checkpoint)`` continues the run.
    epoch : int
        The 1-based epoch in progress (the first one a resumed run trains on).
    """

    def __init__(self, message: str, *, signum: int, checkpoint: object, epoch: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.checkpoint = checkpoint
        self.epoch = epoch
