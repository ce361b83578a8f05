"""The package's own exception classes.

Each subclasses the built-in error a caller would otherwise catch, so
``except ValueError`` keeps working while ``except BackproplabError`` catches
only ours.
"""

from __future__ import annotations


class BackproplabError(Exception):
    """Base class of every error raised on purpose by backproplab.

    Examples
    --------
    A file that is not a model: the error is ours, and also the ``ValueError`` a
    caller that never heard of backproplab would catch.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import backproplab as bp
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "notes.txt"
    ...     _ = path.write_text("not a model")
    ...     try:
    ...         bp.load(path)
    ...     except bp.BackproplabError as exc:
    ...         print(type(exc).__name__, isinstance(exc, ValueError))
    ModelFileError True
    >>> issubclass(bp.DivergenceError, bp.BackproplabError), issubclass(bp.TrainingInterrupted, bp.BackproplabError)
    (True, False)
    """


class DivergenceError(BackproplabError, ArithmeticError, ValueError):
    """The training loss became NaN or infinite.

    An ``ArithmeticError``, and a ``ValueError`` as scikit-learn code expects of
    an estimator's ``fit`` (``backproplab.sklearn`` raises this same class).

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
    """A file is not a readable backproplab model file (the message names the path and why).

    Examples
    --------
    A model file cut short, as by a full disk:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import backproplab as bp
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = bp.mlp([2, 8, 1]).save(Path(tmp) / "xor.npz")
    ...     _ = path.write_bytes(path.read_bytes()[:100])
    ...     try:
    ...         bp.load(path)
    ...     except bp.ModelFileError as exc:
    ...         print(str(exc).replace(str(path), "xor.npz"))
    xor.npz is not a readable backproplab model file (BadZipFile: File is not a zip file)
    """


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

    Examples
    --------
    A callback presses Ctrl-C after epoch 3 (``os.kill`` sends this process a
    SIGINT); ``fit`` saves the state and stops. Resumed from that checkpoint, the
    run ends with the weights of one that was never interrupted.

    >>> import os, signal, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> class CtrlC(bp.Callback):
    ...     def on_epoch_end(self, state):
    ...         if state.epoch == 3:
    ...             os.kill(os.getpid(), signal.SIGINT)
    >>> def train(net, **options):
    ...     return bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=10, batch_size=2, progress=False, **options)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     checkpoint = Path(tmp) / "run.ckpt"
    ...     try:
    ...         train(bp.mlp([2, 8, 1]), checkpoint=checkpoint, callbacks=[CtrlC()])
    ...     except bp.TrainingInterrupted as exc:
    ...         print(signal.Signals(exc.signum).name, exc.epoch, exc.checkpoint == checkpoint)
    ...     resumed = bp.mlp([2, 8, 1])
    ...     history = train(resumed, resume=checkpoint)
    SIGINT 4 True
    >>> straight = bp.mlp([2, 8, 1])
    >>> _ = train(straight)
    >>> history.epochs, all(np.array_equal(resumed.params[k], straight.params[k]) for k in straight.params)
    (10, True)
    """

    def __init__(self, message: str, *, signum: int, checkpoint: object, epoch: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.checkpoint = checkpoint
        self.epoch = epoch


class RunMismatchError(BackproplabError, RuntimeError):
    """The re-trained network differs from the run directory's ``model.npz``."""


class ConfigError(BackproplabError, ValueError):
    """A configuration is unreadable, or a value is unknown, of the wrong type or out of range.

    The message is one line naming the file (or flag) and the key.
    """


class RunDirError(BackproplabError, ValueError):
    """The target of a run directory cannot be used (not ours, not a directory)."""


class DataFileError(BackproplabError, ValueError):
    """A data file is missing, damaged or not what it claims to be (the message names the path).

    Examples
    --------
    An IDX file that lost its last 5 bytes:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from backproplab.data import DataFileError, read_idx, write_idx
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_idx(Path(tmp) / "labels.idx", np.arange(10, dtype=np.uint8))
    ...     _ = path.write_bytes(path.read_bytes()[:-5])
    ...     try:
    ...         read_idx(path)
    ...     except DataFileError as exc:
    ...         print(str(exc).replace(str(path), "labels.idx"))
    labels.idx holds 13 bytes but its header (10,) of uint8 needs 18
    """


class EngineError(BackproplabError, ValueError):
    """An engine cannot start: Dask is missing, or the scheduler cannot be reached."""


class SweepDirError(BackproplabError, ValueError):
    """The output directory cannot hold this sweep (another spec, not a sweep directory, not writable)."""
