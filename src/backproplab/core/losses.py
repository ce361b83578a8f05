"""Losses computed from logits, each paired with its output activation.

Pairing the output activation with the loss (sigmoid + binary cross-entropy,
softmax + cross-entropy, identity + squared error) gives the gradient w.r.t. the
logits in its simplest and most stable form, ``(p - y) / n``, and lets the loss
be evaluated without ever taking ``log(0)`` or overflowing ``exp`` — for logits
of any size.

Shapes: logits ``z`` are ``(B, K)`` or ``(R, B, K)``; prepared targets ``y`` are
``(B, K)`` (shared by all runs) or ``(R, B, K)``. Each loss returns one value per
run, the mean over the batch: a float for a network without a runs axis, an
``(R,)`` array with one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_float_array, check_choice
from ._kernels import RowEntries
from .layers import OUTPUTS, sigmoid  # the output activations, each paired here with a loss


class Loss:
    """Base class. Subclasses implement ``value`` and ``gradient`` for their output.

    Attributes
    ----------
    name : str
        Registry key.
    output : str
        The output activation this loss is paired with (a key of ``OUTPUTS``).
    classifier : bool
        Whether accuracy is a meaningful metric.

    Examples
    --------
    Cross-entropy pairs with softmax: labels become one-hot rows, and the
    gradient w.r.t. the logits is ``(p - y) / B``.

    >>> import numpy as np
    >>> import backproplab as bp
    >>> loss = bp.CrossEntropy()
    >>> loss.name, loss.output, loss.classifier
    ('cross_entropy', 'softmax', True)
    >>> y = loss.prepare_targets([2, 0], n_outputs=3)
    >>> y
    array([[0., 0., 1.],
           [1., 0., 0.]])
    >>> z = np.zeros((2, 3))  # equal logits: p = 1/3 for every class
    >>> value, dz = loss.value_and_gradient(z, y)
    >>> round(float(value), 6), bool(np.allclose(dz, (loss.activate(z) - y) / 2))  # log 3
    (1.098612, True)
    """

    name = ""
    output = ""
    classifier = True

    def value(self, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        """Mean loss over the batch, per run."""
        raise NotImplementedError

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Gradient of ``value`` w.r.t. the logits, same shape as ``z``."""
        raise NotImplementedError

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray | float, np.ndarray]:
        """``(value(z, y), gradient(z, y))`` in one call, as training needs both.

        A loss whose value and gradient share work (cross-entropy's exponentials)
        computes it once here; the results are those of the two methods.
        """
        return self.value(z, y), self.gradient(z, y)

    def activate(self, z: np.ndarray) -> np.ndarray:
        """Apply the paired output activation to logits."""
        return OUTPUTS[self.output](z)

    def prepare_targets(
        self, y: Any, n_outputs: int, dtype: np.dtype | str = "float64", x_ndim: int = 2
    ) -> np.ndarray:
        """Validate ``y`` and return it as a float array ``(B, K)`` or ``(R, B, K)``.

        ``x_ndim`` is the number of axes of the inputs (2, or 3 with a runs
        axis): ``y`` has one axis fewer (one value per sample) or as many (one row
        of ``K`` values per sample).
        """
        y = _sample_targets(y, dtype, x_ndim)
        if y.ndim == x_ndim - 1:
            y = y[..., None]
        if y.shape[-1] != n_outputs:
            raise ValueError(f"y has {y.shape[-1]} columns but the network has {n_outputs} outputs")
        return y

    def correct(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Number of correctly classified samples in the batch, per run."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _sample_targets(y: Any, dtype: np.dtype | str, x_ndim: int) -> np.ndarray:
    """``y`` as a finite float array with one value or one row per sample of ``X``."""
    y = as_float_array("y", y, dtype)
    if y.ndim not in (x_ndim - 1, x_ndim):
        raise ValueError(
            f"y has shape {y.shape}; for inputs with {x_ndim} axes it needs {x_ndim - 1} (one value per sample) "
            f"or {x_ndim} (one row per sample)"
        )
    return y


def _batch_mean(values: np.ndarray) -> np.ndarray | float:
    """Mean over the batch and output axes, keeping the runs axis if present."""
    if values.ndim == 3:  # pragma: no mutate (a choice of loop: both branches take the same mean)
        # NumPy's reductions over the short trailing axes of (R, B, K) run one tiny
        # inner loop per run; einsum sums them 3-5x faster for R in the thousands.
        return np.einsum("rbk->r", values) / (values.shape[1] * values.shape[2])
    # The sum over all entries divided by their number is what `values.mean()` computes,
    # without its Python wrapper (a tenth of a tiny network's step).
    return np.add.reduce(values, axis=None) / values.size


def _count(hits: np.ndarray) -> np.ndarray:
    """Number of true entries over the batch axis: ``(R, B) -> (R,)`` or ``(B,) -> ()``."""
    if hits.ndim == 2:
        return np.einsum("rb->r", hits, dtype=np.intp)  # see _batch_mean
    return np.count_nonzero(hits)


class BinaryCrossEntropy(Loss):
    """``L = mean(-y log p - (1 - y) log(1 - p))`` with ``p = sigmoid(z)``.

    Computed as ``max(z, 0) - z * y + log1p(exp(-|z|))``, which equals the above
    for every ``z`` and never overflows. The mean runs over the batch and the
    outputs; the gradient is ``(p - y) / (B * K)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import BinaryCrossEntropy
    >>> loss, z, y = BinaryCrossEntropy(), np.array([[0.0], [800.0]]), np.array([[1.0], [1.0]])
    >>> round(float(loss.value(z, y)), 6)  # (log 2 + 0) / 2; a logit of 800 does not overflow
    0.346574
    >>> loss.gradient(z, y)  # (p - y) / B
    array([[-0.25],
           [ 0.  ]])
    """

    name = "binary_cross_entropy"
    output = "sigmoid"

    def value(self, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        return _batch_mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        dz = sigmoid(z)  # a new array: finish in place
        dz -= y
        dz /= z.shape[-2] * z.shape[-1]
        return dz

    def prepare_targets(
        self, y: Any, n_outputs: int, dtype: np.dtype | str = "float64", x_ndim: int = 2
    ) -> np.ndarray:
        y = super().prepare_targets(y, n_outputs, dtype, x_ndim)
        bad = (y != 0) & (y != 1)
        if bad.any():
            values = np.unique(y[bad])[:5]
            raise ValueError(f"binary cross-entropy needs labels in {{0, 1}}; y contains {values.tolist()}")
        return y

    def correct(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        # z >= 0 <=> p >= 0.5, the class Network.predict gives (so an output of exactly 0, as from zero weights, is
        # class 1 in the history too); a sample counts as correct when all its outputs are.
        hits = (z >= 0) == (y == 1)  # y is 0 or 1 (prepare_targets)
        # One output needs no reduction (a tenth of a tiny network's step); both give the same booleans.
        return _count(hits[..., 0] if hits.shape[-1] == 1 else hits.all(axis=-1))  # pragma: no mutate


class CrossEntropy(Loss):
    """Softmax cross-entropy ``L = mean_b(-sum_k y_bk log softmax(z)_bk)``.

    ``log softmax`` is computed as ``z - logsumexp(z)`` with the row maximum
    subtracted first, so no ``exp`` overflows and no ``log(0)`` occurs, and with
    ``log1p`` of the other classes' sum, so a confident row keeps its precision. The
    gradient is ``(softmax(z) - y) / B``. Targets may be integer class labels
    ``(B,)`` or one-hot rows ``(B, K)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import CrossEntropy
    >>> loss = CrossEntropy()
    >>> y = loss.prepare_targets([2], n_outputs=3)  # label 2 -> one-hot row
    >>> y
    array([[0., 0., 1.]])
    >>> z = np.zeros((1, 3))
    >>> bool(np.isclose(loss.value(z, y), np.log(3)))  # uniform softmax: -log(1/3)
    True
    >>> loss.gradient(z, y).round(4)  # softmax(z) - y
    array([[ 0.3333,  0.3333, -0.6667]])
    """

    name = "cross_entropy"
    output = "softmax"

    def value(self, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        _, shifted, e = _shifted_exp(z)
        return _mean_nll(shifted, e, y)

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        top, _, e = _shifted_exp(z)
        return _softmax_minus(top, e, y)

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray | float, np.ndarray]:
        top, shifted, e = _shifted_exp(z)  # one exp for both
        return _mean_nll(shifted, e, y), _softmax_minus(top, e, y)

    def prepare_targets(
        self, y: Any, n_outputs: int, dtype: np.dtype | str = "float64", x_ndim: int = 2
    ) -> np.ndarray:
        if n_outputs < 2:
            raise ValueError("cross_entropy needs a softmax output with at least 2 units")
        y = _sample_targets(y, dtype, x_ndim)
        if y.ndim == x_ndim:  # one row per sample: must be one-hot
            if y.shape[-1] != n_outputs or not _is_one_hot(y):
                raise ValueError(
                    f"cross_entropy targets with one row per sample must be one-hot rows of width {n_outputs}; "
                    f"got shape {y.shape}"
                )
            return y
        labels = y
        if not np.all(labels == np.round(labels)) or labels.min() < 0 or labels.max() >= n_outputs:
            values = np.unique(labels[(labels != np.round(labels)) | (labels < 0) | (labels >= n_outputs)])[:5]
            raise ValueError(
                f"cross_entropy needs integer labels in 0..{n_outputs - 1} or one-hot rows of width "
                f"{n_outputs}; y contains {values.tolist()}"
            )
        return np.eye(n_outputs, dtype=y.dtype)[labels.astype(np.intp)]

    def correct(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _count(z.argmax(axis=-1) == y.argmax(axis=-1))


def _shifted_exp(z: np.ndarray) -> tuple[RowEntries, np.ndarray, np.ndarray]:
    """What log softmax and softmax share: ``(top, shifted, e)``.

    ``top``: each row's arg max (``RowEntries``, read and written in place);
    ``shifted = z - max``, ``<= 0``; ``e = exp(shifted)`` with the top entries
    (``exp(0) = 1``) set to 0, so that a row's sum is the sum of the *other* classes.
    """
    top = RowEntries(z.argmax(axis=-1)[..., None], z.shape)
    shifted = z - top.take(z)  # z - z.max(axis=-1, keepdims=True): the maxima are the entries at `top`
    e = np.exp(shifted)
    top.put(e, 0.0)
    return top, shifted, e


def _mean_nll(shifted: np.ndarray, e: np.ndarray, y: np.ndarray) -> np.ndarray | float:
    """Mean over the batch of ``-sum_k y_k log softmax_k``; overwrites ``shifted``."""
    # logsumexp(shifted) = log(1 + sum of the others); summing the others apart and using
    # log1p keeps full precision when one class dominates (a loss of 1e-6 stays exact).
    shifted -= np.log1p(np.add.reduce(e, axis=-1, keepdims=True))  # now log softmax
    shifted *= y
    # Without a runs axis the sum is a NumPy scalar (not a float), which keeps a long double's precision.
    return -np.add.reduce(np.add.reduce(shifted, axis=-1), axis=-1) / shifted.shape[-2]


def _softmax_minus(top: RowEntries, e: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(softmax - y) / B``, written over ``e``: the values of ``softmax(z)``, bit for bit."""
    top.put(e, 1.0)  # exp(0) back in place: e is now exp(z - max)
    e /= np.add.reduce(e, axis=-1, keepdims=True)
    e -= y
    e /= e.shape[-2]
    return e


def _is_one_hot(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=-1) == 1))


class MeanSquaredError(Loss):
    """``L = mean((z - y)**2)`` over the batch and outputs; gradient ``2 (z - y) / (B * K)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import MeanSquaredError
    >>> z, y = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    >>> float(MeanSquaredError().value(z, y))  # (1 + 4) / 2
    2.5
    >>> MeanSquaredError().gradient(z, y)  # 2 (z - y) / B
    array([[1.],
           [2.]])
    """

    name = "mse"
    output = "identity"
    classifier = False

    def value(self, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        d = z - y
        return _batch_mean(d * d)

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 2.0 * (z - y) / (z.shape[-2] * z.shape[-1])


#: Losses by name, for ``fit(loss=...)`` and config files.
LOSSES: dict[str, type[Loss]] = {
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
    "mse": MeanSquaredError,
}

#: The loss each output activation is paired with.
DEFAULT_LOSS = {"sigmoid": "binary_cross_entropy", "softmax": "cross_entropy", "identity": "mse"}


def get_loss(loss: str | Loss | None, output: str) -> Loss:
    """Resolve ``loss`` (a name, an instance, or None for the output's default).

    Raises
    ------
    ValueError
        If the name is unknown or the loss does not pair with ``output``.
    """
    if loss is None:
        loss = DEFAULT_LOSS[output]
    if isinstance(loss, str):
        loss = LOSSES[check_choice("loss", loss, LOSSES)]()
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a name or a Loss instance, got {loss!r}")
    if loss.output != output:
        raise ValueError(
            f"loss {loss.name!r} pairs with a {loss.output!r} output, but the network's output is "
            f"{output!r}; use loss={DEFAULT_LOSS[output]!r} or build the network with output={loss.output!r}"
        )
    return loss
