"""Regularisation and normalisation layers: inverted dropout and batch normalisation.

Both follow the core layer contract (``params``/``grads``, ``forward(x, *, train)``,
``backward(dout)``) and serve one network or ``R`` stacked runs with one code
path: statistics are reduced over the batch axis ``-2`` only, so runs never mix.

- ``Dropout`` (Srivastava et al. 2014), *inverted*: in training each unit is
  kept with probability ``1 - rate`` and scaled by ``1 / (1 - rate)``, so the
  expected activation is unchanged and evaluation is the identity.
- ``BatchNorm`` (Ioffe & Szegedy 2015): in training, normalise each feature by
  the batch mean and (biased) variance, then scale by ``gamma`` and shift by
  ``beta``; keep exponential running averages of the statistics (PyTorch's
  convention: ``running = (1 - momentum) * running + momentum * batch``, the
  variance unbiased) and normalise by those in evaluation. The running
  statistics are *buffers*: state that is saved with the model but not trained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import check_dtype, check_positive_float, check_positive_int, check_seed
from .layers import Layer, _arguments


class Dropout(Layer):
    """Inverted dropout: ``a = x * mask / (1 - rate)`` in training, ``a = x`` in evaluation.

    Parameters
    ----------
    rate : float, default 0.5
        Probability of dropping a unit, in ``[0, 1)``.
    seed : int or sequence of int, default 0
        Seed of the masks. A sequence gives one seed per run: run ``r``'s masks
        are then drawn from its own generator with the shape of one run, so a
        stacked network draws exactly the masks its runs would draw alone.
    stream : int, default 0
        Tells apart the dropout layers of one network built from one seed: the
        generator of a run is ``default_rng([seed, stream])``.
    reuse_mask : bool, default False
        Reuse the last mask in every later training forward of the same shape,
        instead of drawing a new one. Gradient checks need this: the loss must be
        the same function of the parameters on every evaluation. Set it after one
        training forward, or leave the first forward to draw the mask.

    Notes
    -----
    The backward pass multiplies by the same mask: ``dx = dout * mask / (1 - rate)``.
    With a single seed and an input shared by ``R`` runs (``(B, D)``), all runs
    see the same mask.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> drop = bp.Dropout(0.5, seed=0)
    >>> a = drop.forward(np.ones((2, 4)), train=True)  # kept units scaled by 1 / (1 - 0.5)
    >>> sorted(set(a.ravel().tolist()))
    [0.0, 2.0]
    >>> bool((drop.backward(np.ones((2, 4))) == a).all())  # the same mask, backwards
    True
    >>> drop.forward(np.ones((2, 4)), train=False)  # evaluation: the identity
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """

    formula = ("x * mask / (1 - rate)", "mask / (1 - rate)")
    formula_latex = (r"x \odot m / (1 - \text{rate})", r"m / (1 - \text{rate})")

    def __init__(
        self, rate: float = 0.5, *, seed: int | Sequence[int] = 0, stream: int = 0, reuse_mask: bool = False
    ) -> None:
        super().__init__()
        self.rate = check_positive_float("rate", rate, allow_zero=True)
        if self.rate >= 1:
            raise ValueError(f"rate must be in [0, 1), got {rate}")
        self.stream = check_positive_int("stream", stream, minimum=0)
        self.seed: int | list[int] = check_seed(seed)
        seeds = [self.seed] if isinstance(self.seed, int) else self.seed
        self._rngs = [np.random.default_rng([s, self.stream]) for s in seeds]
        self.reuse_mask = bool(reuse_mask)
        self._mask: np.ndarray | None = None  # (R, B, D) or (B, D): keep / (1 - rate), or None in evaluation

    def generators(self) -> list[np.random.Generator]:
        """The masks' generators: one, or one per run's seed."""
        return list(self._rngs)

    def _draw(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        keep = 1.0 - self.rate
        if len(self._rngs) == 1:
            u = self._rngs[0].random(shape)  # (R, B, D) or (B, D)
        else:
            u = np.stack([g.random(shape[-2:]) for g in self._rngs])  # (R, B, D), run r from its own generator
        return ((u < keep) / keep).astype(dtype)  # pragma: no mutate (u == keep has probability 2**-53)

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        """``x``: ``(B, D)`` or ``(R, B, D)``; same shape out (``(R, B, D)`` with per-run seeds)."""
        if not train or self.rate == 0:
            self._mask = None
            return x
        shape = x.shape if len(self._rngs) == 1 else (len(self._rngs), *x.shape[-2:])
        if not (self.reuse_mask and self._mask is not None and self._mask.shape == shape):
            self._mask = self._draw(shape, np.float64 if x.dtype == np.longdouble else x.dtype)
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._mask is None else dout * self._mask

    def to_config(self) -> dict:
        return {"type": "Dropout", "rate": self.rate, "seed": self.seed, "stream": self.stream}


class BatchNorm(Layer):
    """Batch normalisation of each feature over the batch axis.

    Training::

        mu  = mean(x, axis=-2)                 # (R, 1, D)
        var = mean((x - mu)**2, axis=-2)       # biased, as in the paper
        x_hat = (x - mu) / sqrt(var + eps)
        a = gamma * x_hat + beta

    Evaluation uses ``running_mean`` and ``running_var`` in place of ``mu`` and
    ``var``. Backward (training), with ``B`` the batch size::

        dgamma = sum(dout * x_hat, axis=-2);  dbeta = sum(dout, axis=-2)
        dx_hat = dout * gamma
        dx = (B * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)) / (B * sqrt(var + eps))

    Parameters
    ----------
    num_features : int
        ``D``, the width of the input.
    momentum : float, default 0.1
        Weight of the current batch in the running statistics, in ``(0, 1]``.
    eps : float, default 1e-5
        Added to the variance before the square root.
    runs : int, optional
        Number of stacked runs: parameters and buffers get a leading ``R`` axis.
    dtype : {"float64", "float32"}, default "float64"

    Attributes
    ----------
    params : dict
        ``"gamma"`` (ones) and ``"beta"`` (zeros): ``(1, D)`` or ``(R, 1, D)``.
    buffers : dict
        ``"running_mean"`` (zeros) and ``"running_var"`` (ones), shaped like the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> bn = bp.BatchNorm(2)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> bn.forward(x, train=True).round(3)  # each feature: mean 0, variance 1 over the batch
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.buffers["running_mean"]  # moved a tenth of the way (momentum 0.1) to the batch mean
    array([[0.2, 2. ]])
    """

    def __init__(
        self,
        num_features: int,
        *,
        momentum: float = 0.1,
        eps: float = 1e-5,
        runs: int | None = None,
        dtype: str | np.dtype = "float64",
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        self.momentum = check_positive_float("momentum", momentum)
        if self.momentum > 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        self.eps = check_positive_float("eps", eps)
        lead = () if runs is None else (check_positive_int("runs", runs),)
        dt = check_dtype(dtype)
        shape = (*lead, 1, self.num_features)
        self.params = {"gamma": np.ones(shape, dt), "beta": np.zeros(shape, dt)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(shape, dt), "running_var": np.ones(shape, dt)}

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        """``x``: ``(B, D)`` or ``(R, B, D)`` -> same shape (``(R, B, D)`` if the layer has runs)."""
        if train:
            mu = x.mean(axis=-2, keepdims=True)  # (R, 1, D)
            xc = x - mu  # (R, B, D)
            var = (xc * xc).mean(axis=-2, keepdims=True)  # (R, 1, D)
            n = x.shape[-2]
            m = self.momentum
            # In place: the buffers keep their dtype and shape whatever precision x has.
            self.buffers["running_mean"] *= 1.0 - m
            self.buffers["running_mean"] += m * mu
            self.buffers["running_var"] *= 1.0 - m
            self.buffers["running_var"] += m * var * (n / max(n - 1, 1))  # unbiased (one sample: var is 0)
        else:
            xc = x - self.buffers["running_mean"]
            var = self.buffers["running_var"]
        self._inv_std = inv_std = 1.0 / np.sqrt(var + self.eps)  # (R, 1, D)
        self._x_hat = x_hat = xc * inv_std  # (R, B, D)
        self._train = train
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x_hat, inv_std = self._x_hat, self._inv_std
        # Written into the gradient arrays, not replacing them: they are views of the network's vector.
        self.grads["gamma"][...] = _sum_to(dout * x_hat, self.params["gamma"].ndim)  # (R, 1, D)
        self.grads["beta"][...] = _sum_to(dout, self.params["beta"].ndim)  # (R, 1, D)
        dx_hat = dout * self.params["gamma"]  # (R, B, D)
        if not self._train:  # fixed statistics: a per-feature affine map
            return dx_hat * inv_std
        n = dout.shape[-2]
        return inv_std / n * (
            n * dx_hat
            - dx_hat.sum(axis=-2, keepdims=True)
            - x_hat * (dx_hat * x_hat).sum(axis=-2, keepdims=True)
        )

    def check_state(self, state: Mapping[str, Any], prefix: str = "") -> None:
        """``Layer.check_state``, and a running variance is never negative (its square root is taken)."""
        super().check_state(state, prefix)
        if (np.asarray(state["running_var"]) < 0).any():
            low = float(np.min(state["running_var"]))
            raise ValueError(f"state {prefix + 'running_var'!r} holds a negative variance ({low:.3g}); "
                             "a variance is >= 0")

    def to_config(self) -> dict:
        return {"type": "BatchNorm", "num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}

    @classmethod
    def from_config(cls, config: dict, *, runs: int | None = None, dtype: str | np.dtype = "float64") -> BatchNorm:
        return cls(**_arguments(config), runs=runs, dtype=dtype)

    @classmethod
    def state_shapes(cls, config: dict, *, runs: int | None = None) -> dict[str, tuple[int, ...]]:
        shape = (*(() if runs is None else (runs,)), 1, config["num_features"])
        return dict.fromkeys(("gamma", "beta", "running_mean", "running_var"), shape)


def _sum_to(g: np.ndarray, ndim: int) -> np.ndarray:
    """Sum ``g`` over the batch axis, and over a runs axis the parameter does not have."""
    g = g.sum(axis=-2, keepdims=True)  # (R, 1, D)
    return g.sum(axis=0) if g.ndim > ndim else g
