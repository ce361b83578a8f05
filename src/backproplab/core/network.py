"""A network: an ordered list of layers with named parameters, and ``mlp`` to build one.

Parameters are named ``"{layer index}.{key}"`` (``"0.W"``, ``"0.b"``, ``"2.W"``, ...)
in one stable order, the order of the layers, so optimizers, gradient checks,
model files and the explorer all walk the same list.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .._checks import (
    as_float_array,
    check_bool,
    check_choice,
    check_dtype,
    check_positive_float,
    check_positive_int,
    check_seed,
    is_int,
)
from . import _html
from . import layers as _layers
from ._archive import write_archive
from .layers import ACTIVATIONS, OUTPUTS, Dense, Layer
from .losses import Loss, get_loss
from .regularization import BatchNorm, Dropout

#: Every layer class by its ``to_config()["type"]``: ``Network.from_config`` looks them up here.
LAYERS: dict[str, type[Layer]] = {cls.__name__: cls for cls in (Dense, *ACTIVATIONS.values(), Dropout, BatchNorm)}

#: Model files (``save``; read by ``backproplab.files.io.load_model``): the state dict, the architecture in the header.
MODEL_FORMAT, MODEL_FORMAT_VERSION = "backproplab-model", 1


class Network:
    """An ordered list of layers whose last layer produces logits.

    Parameters
    ----------
    layers : sequence of Layer
        Applied in order by ``forward``, in reverse by ``backward``.
    output : {"sigmoid", "softmax", "identity"}, default "sigmoid"
        Output activation that ``predict_proba`` applies to the logits; the loss
        pairs with it (see ``backproplab.core.losses``).

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> net = bp.Network([bp.Dense(2, 8), bp.Tanh(), bp.Dense(8, 3)], output="softmax")
    >>> list(net.params), net.n_params  # 2*8 + 8 + 8*3 + 3
    (['0.W', '0.b', '2.W', '2.b'], 51)
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> net.forward(X).shape, net.predict_proba(X).sum(axis=1)  # logits (B, K); probabilities sum to one
    ((2, 3), array([1., 1.]))
    >>> net.backward(np.ones((2, 3))).shape  # dL/dx: (B, D_in)
    (2, 2)

    The architecture and the state dict rebuild the same network:

    >>> copy = bp.Network.from_config(net.to_config())
    >>> copy.load_state_dict(net.state_dict())
    >>> bool(np.array_equal(copy.forward(X), net.forward(X)))
    True
    """

    def __init__(self, layers: Sequence[Layer], output: str = "sigmoid") -> None:
        self.layers = list(layers)
        if not self.layers or not all(isinstance(layer, Layer) for layer in self.layers):
            raise TypeError("layers must be a non-empty sequence of Layer instances")
        self.output = check_choice("output", output, OUTPUTS)
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        if not dense:
            raise ValueError("a network needs at least one Dense layer")
        for a, b in pairwise(dense):
            if a.fan_out != b.fan_in:
                raise ValueError(
                    f"layer sizes do not chain: a Dense with {a.fan_out} outputs feeds one with {b.fan_in} inputs"
                )
        runs = {layer.params["W"].shape[0] if layer.params["W"].ndim == 3 else None for layer in dense}
        if len(runs) != 1:
            raise ValueError(f"all Dense layers must share one runs axis, got runs {sorted(map(str, runs))}")
        self.runs: int | None = runs.pop()
        self.n_inputs = dense[0].fan_in
        self.n_outputs = dense[-1].fan_out
        self.dtype = dense[0].params["W"].dtype
        # (name, layer, key) of every parameter, computed once: `params` and `grads` are read
        # at every training step, and rebuilding the names there cost more than a small update.
        named = list(enumerate(self.layers))
        self._slots = [(f"{i}.{key}", layer, key) for i, layer in named for key in layer.params]
        self._buffer_slots = [(f"{i}.{key}", layer, key) for i, layer in named for key in layer.buffers]
        # Layers before the first one with parameters need no backward pass when the
        # gradient w.r.t. the input is not asked for (see `backward`).
        self._first_trained = next(i for i, layer in enumerate(self.layers) if layer.params)

    # --- the two passes -------------------------------------------------------------
    def forward(self, x: np.ndarray, *, train: bool = False) -> np.ndarray:
        """Logits for ``x``: ``(B, D_in)`` or ``(R, B, D_in)`` -> ``(B, K)`` or ``(R, B, K)``."""
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout`` (gradient w.r.t. the logits); fills every layer's ``grads``.

        Returns the gradient w.r.t. the network's input, ``(B, D_in)`` or
        ``(R, B, D_in)``; with ``input_grad=False`` (what training uses) it is not
        computed and None is returned: the first Dense layer then skips its
        ``dout @ W.T``, which for a wide input is a quarter of a step's work.
        """
        if input_grad:
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
            return dout
        first = self._first_trained
        for layer in self.layers[:first:-1]:  # from the last layer down to first + 1
            dout = layer.backward(dout)
        self.layers[first].backward_params(dout)
        return None

    # --- named parameters -------------------------------------------------------------
    @property
    def params(self) -> dict[str, np.ndarray]:
        """Parameters by name, in layer order. The arrays are the network's own (not copies)."""
        return {name: layer.params[key] for name, layer, key in self._slots}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Saved but untrained state (batch norm's running statistics), named like ``params``."""
        return {name: layer.buffers[key] for name, layer, key in self._buffer_slots}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last ``backward``, keyed like ``params``.

        The arrays are the layers' own and may be overwritten in place by the
        next ``backward``: copy them to keep them.
        """
        return {name: layer.grads[key] for name, layer, key in self._slots}

    def state_dict(self, *, copy: bool = False, generators: bool = False) -> dict[str, Any]:
        """Everything that makes this network what it is, by name: ``params`` then ``buffers``.

        The one door through which checkpoints, early stopping, model files, the
        recorder, the divergence rollback and gradient checks read a network's state.
        The arrays are the layers' own unless ``copy`` is set (then they are a
        snapshot). With ``generators``, also each layer's random generator states
        (``"2.rng.0"``: dropout's), which a checkpoint keeps and a model file does not.
        """
        state: dict[str, Any] = {name: layer.params[key] for name, layer, key in self._slots}
        state.update((name, layer.buffers[key]) for name, layer, key in self._buffer_slots)
        if copy:
            state = {name: a.copy() for name, a in state.items()}
        if generators:  # bit_generator.state is a new dict at every read: a snapshot already
            for i, layer in enumerate(self.layers):
                state.update((f"{i}.{key}", value) for key, value in layer.state_dict(generators=True).items()
                             if key.startswith("rng."))
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` (names and shapes as ``state_dict()``) into the network's own arrays.

        Every layer checks its part first (``Layer.check_state``: every name
        present, every shape matching, finite real values, no negative variance)
        and nothing is written unless all of ``state`` passes. The arrays keep
        their identity: values are copied into them (cast to the network's dtype).
        Generator states (``state_dict(generators=True)``) may be given, all or none.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping or an entry does not hold real numbers.
        ValueError
            If a name is missing or unexpected, or an entry has another shape or an impossible value.

        Examples
        --------
        >>> import numpy as np
        >>> import backproplab as bp
        >>> net = bp.mlp([2, 3, 1])
        >>> state = net.state_dict(copy=True)
        >>> state["0.b"][0, 1] = np.nan
        >>> net.load_state_dict(state)
        Traceback (most recent call last):
        ...
        ValueError: state '0.b' holds NaN or infinite values; a network's state is finite
        """
        parts = self.check_state(state)
        for layer, part in zip(self.layers, parts, strict=True):  # written once every part passed
            layer._load(part)

    def check_state(self, state: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Raise as ``load_state_dict`` would, writing nothing; return ``state`` split by layer (keys without index).

        ``fit`` checks a network's own state with it before any work: weights that
        are already NaN cannot be trained, nor rolled back to.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of arrays as state_dict() returns, got {type(state).__name__}")
        generators = any(str(name).split(".", 2)[1:2] == ["rng"] for name in state)
        if state.keys() != (own := self.state_dict(generators=generators)).keys():
            missing, extra = sorted(own.keys() - state.keys()), sorted(map(str, state.keys() - own.keys()))
            raise ValueError(f"state names differ: missing {missing}, unexpected {extra}")
        parts = [{key: state[f"{i}.{key}"] for key in layer.state_dict(generators=generators)}
                 for i, layer in enumerate(self.layers)]
        for i, (layer, part) in enumerate(zip(self.layers, parts, strict=True)):
            layer.check_state(part, prefix=f"{i}.")
        return parts

    def copy(self, dtype: Any = None) -> Network:
        """An independent copy: the same layers with the same state (parameters, buffers, generator states).

        ``dtype`` gives the copy's parameters another precision: ``gradcheck``
        perturbs a copy in ``np.longdouble``, never the network it was given.

        Examples
        --------
        >>> import numpy as np
        >>> import backproplab as bp
        >>> net = bp.mlp([2, 3, 1], dropout=0.5)
        >>> twin = net.copy()
        >>> X = np.ones((4, 2))
        >>> bool(np.array_equal(net.forward(X, train=True), twin.forward(X, train=True)))  # the same next mask
        True
        >>> twin.params["0.W"] += 1.0  # the copy's own arrays
        >>> bool(np.array_equal(net.params["0.W"], twin.params["0.W"]))
        False
        """
        twin = _copy.deepcopy(self)
        if dtype is not None:  # the network sets its layers' parameter dicts, the contract's public attribute
            for layer in twin.layers:
                layer.params = {key: value.astype(dtype, order="C") for key, value in layer.params.items()}
        return twin

    def single_run_copy(self, run: int | None = None) -> Network:
        """A network of this architecture without a runs axis, holding run ``run``'s parameters and buffers.

        A per-run list of seeds (dropout's) becomes run ``run``'s seed: the copy's
        generators start afresh from it, as run ``run`` alone would have started.
        ``run`` is ignored for a network without a runs axis.

        Examples
        --------
        >>> import numpy as np
        >>> import backproplab as bp
        >>> nets = bp.mlp([2, 3, 1], seed=7, runs=4)
        >>> one = nets.single_run_copy(2)
        >>> one.runs, bool(np.array_equal(one.params["0.W"], bp.mlp([2, 3, 1], seed=9).params["0.W"]))
        (None, True)
        """
        if self.runs is not None and not (is_int(run) and 0 <= run < self.runs):
            raise ValueError(f"run must be an int in [0, {self.runs}), got {run!r}")
        pick = 0 if run is None else int(run)
        config = self.to_config()
        layers = [{**c, "seed": c["seed"][pick]} if isinstance(c.get("seed"), list) else c for c in config["layers"]]
        one = Network.from_config({**config, "runs": None, "layers": layers})
        one.load_state_dict({name: a[pick] if self.runs else a for name, a in self.state_dict().items()})
        return one

    def set_params(self, params: Mapping[str, Any]) -> None:
        """Copy values into the parameters (same names and shapes required): ``load_state_dict`` with the buffers kept.

        A shorthand through the state door, with its checks (finite values, names, shapes).
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of arrays as net.params, got {type(params).__name__}")
        self.load_state_dict({**params, **self.buffers})

    def copy_params(self) -> dict[str, np.ndarray]:
        """An independent copy of the parameters: ``state_dict(copy=True)`` without the buffers."""
        return {name: a for name, a in self.state_dict(copy=True).items() if name in self.params}

    @property
    def n_params(self) -> int:
        """Number of scalar parameters of one run."""
        return sum(v[0].size if self.runs else v.size for v in self.params.values())

    # --- inference --------------------------------------------------------------------
    def check_input(self, X: Any, name: str = "X") -> np.ndarray:
        """Validate ``X`` and return it as an array of the network's dtype."""
        X = as_float_array(name, X, self.dtype)
        if X.ndim == 1 and self.n_inputs == X.shape[0]:
            raise ValueError(
                f"{name} has shape {X.shape}; pass a 2-D array (n_samples, {self.n_inputs}), e.g. X[None, :]"
            )
        allowed = (2, 3) if self.runs else (2,)
        if X.ndim not in allowed:
            raise ValueError(f"{name} must be {' or '.join(f'{d}-D' for d in allowed)}, got shape {X.shape}")
        if X.shape[-1] != self.n_inputs:
            raise ValueError(f"{name} has {X.shape[-1]} features but the network expects {self.n_inputs}")
        if X.ndim == 3 and X.shape[0] != self.runs:
            raise ValueError(f"{name} has {X.shape[0]} runs on its first axis but the network has {self.runs}")
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        """Output activation of the logits: ``(B, K)`` or ``(R, B, K)``.

        Raises ``ValueError`` if the forward pass overflows (inputs of 1e300 do) for a
        network without a runs axis; with one, like ``fit``, a run that overflows
        reports NaN and the others their values.
        """
        X = self.check_input(X)
        with np.errstate(over="ignore", invalid="ignore"):
            p = OUTPUTS[self.output](self.forward(X))  # in evaluation mode, forward's default
        if self.runs is None and not np.isfinite(p).all():
            raise ValueError(
                f"the network's output overflowed (X holds values up to {np.abs(X).max():.3g}); "
                "scale or standardise the inputs"
            )
        return p

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (sigmoid: ``p >= 0.5``; softmax: arg max) or regression values.

        A single sigmoid output gives labels ``(B,)`` (``(R, B)`` with runs).
        """
        p = self.predict_proba(X)
        if self.output == "softmax":
            return p.argmax(axis=-1)
        if self.output == "sigmoid":
            labels = (p >= 0.5).astype(np.int64)
            return labels[..., 0] if self.n_outputs == 1 else labels
        return p

    # --- files ------------------------------------------------------------------------
    def save(self, path: str | Any) -> Any:
        """Write the model file: architecture and ``state_dict()``, atomically; ``backproplab.load`` reads it.

        Returns the path written (``.npz`` is *not* appended: the name is yours).
        """
        state = self.state_dict()
        header = {
            "architecture": self.to_config(),
            "params": {name: list(p.shape) for name, p in self.params.items()},
            "buffers": {name: list(b.shape) for name, b in self.buffers.items()},
        }
        return write_archive(path, MODEL_FORMAT, MODEL_FORMAT_VERSION, header, state)

    # --- description ------------------------------------------------------------------
    def to_config(self) -> dict:
        """Architecture as plain data (no parameter values)."""
        return {
            "output": self.output,
            "runs": self.runs,
            "dtype": self.dtype.name,
            "layers": [layer.to_config() for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict) -> Network:
        """A network of the architecture ``to_config()`` described, with fresh parameters."""
        runs, dtype = config["runs"], config["dtype"]
        layers = [LAYERS[layer["type"]].from_config(layer, runs=runs, dtype=dtype) for layer in config["layers"]]
        return cls(layers, output=config["output"])

    def _repr_html_(self) -> str:
        """Jupyter's display: a table of the layers with their output shapes and parameter counts."""
        return _html.safe(lambda: _html.network_html(self), self)

    def __repr__(self) -> str:
        runs = f", runs={self.runs}" if self.runs else ""
        body = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Network([\n  {body}\n], output={self.output!r}{runs}, dtype={self.dtype.name!r})"


def _seeds(seed: int | Sequence[int], runs: int | None) -> list[int] | int:
    """Seed of each run: run ``r`` of ``runs=R, seed=s`` uses seed ``s + r``."""
    seeds = check_seed(seed)
    if isinstance(seeds, int):
        return seeds if runs is None else [seeds + r for r in range(runs)]
    if runs is not None and runs != len(seeds):
        raise ValueError(f"runs={runs} but {len(seeds)} seeds were given")
    return seeds


def mlp(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output: str = "sigmoid",
    init: str = "he_normal",
    seed: int | Sequence[int] = 0,
    runs: int | None = None,
    dtype: str = "float64",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> Network:
    """Build a multi-layer perceptron in one line.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, input first: ``[2, 8, 1]`` is the report's XOR network.
    activation : str, default "sigmoid"
        Hidden activation, a key of ``backproplab.core.layers.ACTIVATIONS``.
    output : {"sigmoid", "softmax", "identity"}, default "sigmoid"
        Output activation (paired with binary cross-entropy, cross-entropy, MSE).
    init : str, default "he_normal"
        Weight initialisation, a key of ``backproplab.core.init.INITIALIZERS``.
    seed : int or sequence of int, default 0
        Seed of the initial weights. With ``runs=R`` run ``r`` uses ``seed + r``, so
        run ``r`` is identical to ``mlp(..., seed=seed + r)``; a sequence gives each
        run's seed explicitly.
    runs : int, optional
        Number of stacked networks (the runs axis). ``None`` builds one network
        without a runs axis.
    dtype : {"float64", "float32"}, default "float64"
    dropout : float, default 0
        If > 0, a ``Dropout(dropout)`` after every hidden activation, its masks
        seeded from ``seed`` (per run) and the hidden layer's index.
    batch_norm : bool, default False
        Put a ``BatchNorm`` between every hidden ``Dense`` and its activation.

    Each hidden layer is ``Dense -> [BatchNorm] -> activation -> [Dropout]``.

    Examples
    --------
    >>> net = mlp([2, 8, 1], seed=1)
    >>> list(net.params)
    ['0.W', '0.b', '2.W', '2.b']
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths like [2, 8, 1], got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {list(sizes)}")
    sizes = [check_positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    if runs is not None:
        runs = check_positive_int("runs", runs)
    if seed is None:
        raise TypeError("seed must be a non-negative int or a sequence of them, got None: every network is seeded, "
                        "so that a run can be repeated (seed=0 is the default)")
    if not isinstance(seed, (int, np.integer)) and runs is None:
        runs = len(_seeds(seed, None))
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("output", output, OUTPUTS)
    batch_norm = check_bool("batch_norm", batch_norm)
    if check_positive_float("dropout", dropout, allow_zero=True) >= 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    dt = check_dtype(dtype)
    seeds = _seeds(seed, runs)
    rng = np.random.default_rng(seeds) if isinstance(seeds, int) else [np.random.default_rng(s) for s in seeds]
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(Dense(fan_in, fan_out, init=init, rng=rng, dtype=dt))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(BatchNorm(fan_out, runs=runs, dtype=dt))
            layers.append(_layers.activation(activation))
            if dropout:
                layers.append(Dropout(dropout, seed=seeds, stream=i))
    return Network(layers, output=output)



def check_data(net: Network, X: Any, y: Any, loss: str | Loss | None = None) -> tuple[np.ndarray, np.ndarray, Loss]:
    """Validate a data set against a network and a loss, before any work starts.

    Returns
    -------
    X : ndarray, ``(B, D_in)`` or ``(R, B, D_in)``, in the network's dtype.
    Y : ndarray, ``(B, K)`` or ``(R, B, K)``, targets prepared for the loss
        (integer labels become one-hot rows for cross-entropy).
    loss : Loss
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a backproplab Network, got {type(net).__name__}")
    loss = get_loss(loss, net.output)
    X = net.check_input(X)
    Y = loss.prepare_targets(y, net.n_outputs, net.dtype, x_ndim=X.ndim)
    if Y.shape[-2] != X.shape[-2]:
        raise ValueError(f"X has {X.shape[-2]} samples but y has {Y.shape[-2]}")
    if Y.ndim == 3 and Y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} runs but y has {Y.shape[0]}")
    return X, Y, loss


def loss_and_gradients(
    net: Network, X: Any, y: Any, loss: str | Loss | None = None, *, train: bool = True
) -> tuple[np.ndarray | float, dict[str, np.ndarray]]:
    """The loss on ``(X, y)`` and its gradient w.r.t. every parameter, as values.

    Parameters
    ----------
    net : Network
    X : array-like, ``(B, D_in)`` or ``(R, B, D_in)``
    y : array-like
        Targets: ``(B,)`` or ``(B, K)`` (binary labels, class labels, one-hot
        rows, regression values), with a leading ``R`` axis if ``X`` has one.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    train : bool, default True
        Forward in training mode (matters for dropout and batch norm only).

    Returns
    -------
    loss : float, or ``(R,)`` array with a runs axis
    grads : dict
        Copies of the gradients, keyed and shaped like ``net.params``.

    Examples
    --------
    Backpropagation's gradient of one weight, against a central difference:

    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> loss, grads = bp.loss_and_gradients(net, X, y)
    >>> grads["0.W"].shape
    (2, 8)
    >>> W, h = net.params["0.W"], 1e-6  # the network's own array
    >>> W[1, 3] += h
    >>> up, _ = bp.loss_and_gradients(net, X, y)
    >>> W[1, 3] -= 2 * h
    >>> down, _ = bp.loss_and_gradients(net, X, y)
    >>> bool(abs((up - down) / (2 * h) - grads["0.W"][1, 3]) < 1e-8)
    True
    """
    X, Y, loss_fn = check_data(net, X, y, loss)
    z = net.forward(X, train=train)
    net.backward(loss_fn.gradient(z, Y))
    return loss_fn.value(z, Y), {name: g.copy() for name, g in net.grads.items()}
