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
    """

    def __init__(self, message: str, *, epoch: int, runs: tuple[int, ...]) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.runs = runs


class ModelFileError(BackproplabError, ValueError):
    """A file is not a readable backproplab model file (the message names the path and why)."""
