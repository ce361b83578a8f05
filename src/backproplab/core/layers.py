"""Layers: a dense (affine) map and element-wise activations, each with its backward pass.

The activation functions live here, the hidden layers' and the output's
(``sigmoid``, ``softmax``, ``identity``: ``OUTPUTS``, which ``backproplab.core.losses``
pairs each with its loss), and so does each activation's formula in words
(``Layer.formula``), which the worked trace prints.

Every layer follows the core contract of ``DESIGN.md``:

- ``params`` and ``grads`` are dicts of arrays with the same keys and shapes
  (empty for parameter-free layers);
- ``forward(x, *, train)`` returns the output and keeps what ``backward`` needs;
- ``backward(dout)`` returns ``dx`` and *overwrites* ``grads``;
- a layer's arrays are its own: nothing replaces them behind its back.

Shapes use ``R`` (runs), ``B`` (batch), ``D_in``/``D_out`` (features). A layer
serves one network or ``R`` stacked networks with one code path: matmuls
broadcast over a leading runs axis, transposes are ``swapaxes(-1, -2)`` and batch
reductions run over ``axis=-2``.

Activation derivatives are written from the layer's *output* where the math
allows it (``sigmoid: a * (1 - a)``, ``tanh: 1 - a**2``), as scikit-learn does,
so the forward pass keeps one array and the backward pass computes no
transcendental function (Rumelhart, Hinton & Williams 1986).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .._checks import check_choice, check_dtype, check_positive_float, check_positive_int
from ._kernels import matmul, relu, stack_runs_last, sum_over_batch
from .init import get_initializer


# --- activation functions: the hidden layers below and the output activations (paired with losses) ---
def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, for any ``z``.

    Where ``exp(-z)`` overflows (``z < -709`` in float64, ``z < -88`` in float32)
    it is ``inf`` and the result ``0``, which is what the true value (at most
    the smallest subnormal) rounds to; where it underflows (large ``z``) it is
    ``0`` and the result ``1``, also right. Both are silenced, not avoided.
    This form keeps full relative precision in the negative tail, where
    ``0.5 + 0.5 * tanh(z / 2)`` loses it (``sigmoid(-20) = 2.06e-9``: the tanh
    form is 9e-9 off, relative, in float64 and gives ``0`` in float32), and in
    float64 it is faster: NumPy vectorises ``exp`` there but not ``tanh`` (the
    hidden layer of the report's 1,000 stacked XOR networks, B2: 48 against 66
    us a step, 32,000 values).
    """
    e = np.multiply(z, -1.0)  # -z as a new float array (a scalar for a scalar): the steps below work on it
    with np.errstate(over="ignore", under="ignore"):  # exp(800) is inf, exp(-800) is 0: both are right here
        if not isinstance(e, np.ndarray):
            return 1.0 / (1.0 + np.exp(e))
        np.exp(e, out=e)
    e += 1.0
    np.divide(1.0, e, out=e)
    return e


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any ``z`` (shifted by the row maximum)."""
    e = z - z.max(axis=-1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def identity(z: np.ndarray) -> np.ndarray:
    """The identity: regression outputs are the logits."""
    return z


#: Output activations by name; ``Network.predict_proba`` applies one of these.
OUTPUTS = {"sigmoid": sigmoid, "softmax": softmax, "identity": identity}


class Layer:
    """Base class: a differentiable map with optional parameters.

    Examples
    --------
    A layer of one's own: ``forward`` keeps what ``backward`` needs, ``backward``
    returns ``dx``; ``gradcheck`` compares it with finite differences.

    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> class Softplus(bp.Layer):  # a = log(1 + exp(z)); da/dz = sigmoid(z)
    ...     def forward(self, x, *, train=True):
    ...         self._x = x
    ...         return np.logaddexp(0.0, x)
    ...     def backward(self, dout):
    ...         return dout / (1.0 + np.exp(-self._x))
    >>> X, y = logic_table("xor")
    >>> net = bp.Network([bp.Dense(2, 4), Softplus(), bp.Dense(4, 1)])
    >>> Softplus().params, bp.gradcheck(net, X, y).passed
    ({}, True)
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    #: State that is saved with the model but not trained (batch norm's running statistics).
    buffers: dict[str, np.ndarray]
    #: The map and its derivative in words, ``(text, LaTeX)`` pairs of ``(map, derivative)``: what
    #: ``backproplab.explain.trace`` prints beside the numbers this layer computes (None: none written).
    formula: ClassVar[tuple[str, str] | None] = None
    formula_latex: ClassVar[tuple[str, str] | None] = None

    def __init__(self) -> None:
        self.params = {}
        self.grads = {}
        self.buffers = {}

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward_params(self, dout: np.ndarray) -> None:
        """Write ``grads`` only; the gradient w.r.t. the input is not needed.

        ``Network.backward(..., input_grad=False)`` calls this on the first layer
        with parameters. This default runs ``backward`` and drops ``dx``; a layer
        for which ``dx`` costs real work (``Dense``) skips computing it.
        """
        self.backward(dout)

    # --- the state door ------------------------------------------------------------------
    def state_dict(self, *, generators: bool = False) -> dict[str, Any]:
        """The layer's own arrays by key: ``params`` then ``buffers`` (not copies).

        With ``generators``, also the state of each random generator the layer draws
        from, as ``"rng.0"``, ``"rng.1"``, ... (``bit_generator.state`` dicts): what a
        checkpoint needs to draw the same dropout masks after a resume. A model file
        keeps the arrays only.
        """
        state: dict[str, Any] = {**self.params, **self.buffers}
        if generators:
            state.update((f"rng.{k}", g.bit_generator.state) for k, g in enumerate(self.generators()))
        return state

    def generators(self) -> list[np.random.Generator]:
        """The random generators the layer draws from (none here; ``Dropout`` has one per seed).

        A layer of one's own that draws random numbers returns its generators here, so
        that checkpoints and gradient checks hold its randomness fixed.
        """
        return []

    def check_state(self, state: Mapping[str, Any], prefix: str = "") -> None:
        """Raise unless ``state`` could be loaded: the keys and shapes of ``state_dict()``, finite real numbers.

        Generator states (``"rng.k"``) may be given, all of them or none. ``prefix`` is
        put before each key in messages (the network passes ``"3."``). A layer with
        more rules (batch norm's variance is never negative) adds them.

        Raises
        ------
        TypeError
            If ``state`` is not a mapping, or an entry is not an array of real numbers.
        ValueError
            If a key is missing or unexpected, a shape differs, a value is NaN or
            infinite, or a generator state does not fit the generator.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict of arrays as state_dict() returns, got {type(state).__name__}")
        own = self.state_dict(generators=any(str(k).startswith("rng.") for k in state))
        if state.keys() != own.keys():
            missing = sorted(prefix + k for k in own.keys() - state.keys())
            extra = sorted(prefix + str(k) for k in state.keys() - own.keys())
            raise ValueError(f"state names differ: missing {missing}, unexpected {extra}")
        for key, value in state.items():
            name = prefix + key
            if key.startswith("rng."):
                _check_generator_state(name, self.generators()[int(key[4:])], value)
                continue
            if np.shape(value) != own[key].shape:
                raise ValueError(f"state {name!r} has shape {np.shape(value)}, expected {own[key].shape}")
            kind = np.asarray(value).dtype.kind
            if kind not in "biuf":
                raise TypeError(f"state {name!r} must hold real numbers, got dtype {np.asarray(value).dtype}")
            if kind == "f" and not np.isfinite(value).all():
                raise ValueError(f"state {name!r} holds NaN or infinite values; a network's state is finite")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` into the layer (arrays keep their identity; generators take their states).

        Checked first (``check_state``): nothing is written unless all of it fits.
        """
        self.check_state(state)
        self._load(state)

    def _load(self, state: Mapping[str, Any]) -> None:
        """Write a checked ``state``: values into the layer's own arrays, states into its generators."""
        generators = self.generators()
        for key, value in state.items():
            if key.startswith("rng."):
                generators[int(key[4:])].bit_generator.state = value
            else:
                (self.params if key in self.params else self.buffers)[key][...] = value

    def to_config(self) -> dict:
        """Return the constructor arguments that rebuild this layer's shape (not its values)."""
        return {"type": type(self).__name__}

    @classmethod
    def from_config(cls, config: dict, *, runs: int | None = None, dtype: str | np.dtype = "float64") -> Layer:
        """Build a layer from ``to_config()``'s dict; ``runs`` and ``dtype`` are those of its network.

        Parameters get fresh values (load a state dict to set them).
        """
        return cls(**_arguments(config))

    @classmethod
    def state_shapes(cls, config: dict, *, runs: int | None = None) -> dict[str, tuple[int, ...]]:
        """Shapes of the ``params`` and ``buffers`` that ``from_config(config, runs=runs)`` would allocate.

        Model files check their arrays against these before building anything, so
        a crafted header cannot make the reader allocate more than the file holds.
        """
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Affine map ``z = x @ W + b``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of input and output features.
    init : str, default "he_normal"
        Weight initialisation scheme, a key of ``backproplab.core.init.INITIALIZERS``.
        Biases start at zero.
    rng : numpy.random.Generator or sequence of Generator, optional
        Source of the initial weights. A sequence of ``R`` generators builds ``R``
        stacked runs, run ``r`` drawn from ``rng[r]``, so each run is identical to a
        single network built from the same generator. Default: ``default_rng(0)``.
    runs : int, optional
        With a single generator: draw ``runs`` stacked weight matrices from it.
    dtype : {"float64", "float32"}, default "float64"

    Attributes
    ----------
    params : dict
        ``"W"``: ``(D_in, D_out)`` or ``(R, D_in, D_out)``;
        ``"b"``: ``(1, D_out)`` or ``(R, 1, D_out)``. Stacked arrays are stored
        runs-last (the runs axis fastest in memory; ``backproplab.core._kernels``):
        the same shapes and values, other strides.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> layer = bp.Dense(2, 3, rng=np.random.default_rng(0))
    >>> x = np.array([[1.0, 0.0]])
    >>> bool(np.allclose(layer.forward(x), x @ layer.params["W"] + layer.params["b"]))  # z = x W + b
    True
    >>> dx = layer.backward(np.ones((1, 3)))  # dL/dz = 1 for every unit
    >>> layer.grads["W"]  # x^T dout: the row of the zero input gets no gradient
    array([[1., 1., 1.],
           [0., 0., 0.]])
    >>> bool(np.allclose(dx, layer.params["W"].sum(axis=1)))  # dout W^T
    True
    """

    def __init__(
        self,
        fan_in: int,
        fan_out: int,
        *,
        init: str = "he_normal",
        rng: np.random.Generator | Sequence[np.random.Generator] | None = None,
        runs: int | None = None,
        dtype: str | np.dtype = "float64",
    ) -> None:
        super().__init__()
        self.fan_in = check_positive_int("fan_in", fan_in)
        self.fan_out = check_positive_int("fan_out", fan_out)
        self.init = init
        initializer = get_initializer(init)
        dt = check_dtype(dtype)
        shape = (self.fan_in, self.fan_out)
        if rng is None:
            rng = np.random.default_rng(0)
        many = isinstance(rng, Sequence) and len(rng) > 0 and all(isinstance(g, np.random.Generator) for g in rng)
        if not (isinstance(rng, np.random.Generator) or many):
            raise TypeError(f"rng must be a numpy.random.Generator or a non-empty sequence of them, got {rng!r:.60}")
        if isinstance(rng, np.random.Generator):
            lead = () if runs is None else (check_positive_int("runs", runs),)
            W = initializer(rng, (*lead, *shape), self.fan_in, self.fan_out)  # (R, D_in, D_out)
            b = np.zeros((*lead, 1, self.fan_out))
        else:
            W = np.stack([initializer(g, shape, self.fan_in, self.fan_out) for g in rng])  # (R, D_in, D_out)
            b = np.zeros((len(rng), 1, self.fan_out))
        self.params = {"W": W.astype(dt), "b": b.astype(dt)}
        if W.ndim == 3:  # stacked runs: stored runs-last, so that every pass of a step runs over contiguous runs
            self.params = {key: stack_runs_last(value) for key, value in self.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        """``x``: ``(B, D_in)`` or ``(R, B, D_in)`` -> ``z``: ``(B, D_out)`` or ``(R, B, D_out)``."""
        self._x = x
        z = matmul(x, self.params["W"])  # x @ W: (R, B, D_in) @ (R, D_in, D_out) -> (R, B, D_out)
        z += self.params["b"]  # z = x @ W + b, the sum written in place (one array fewer)
        return z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout``: gradient w.r.t. ``z``; writes ``grads`` and returns the gradient w.r.t. ``x``."""
        self.backward_params(dout)
        return matmul(dout, self.params["W"].swapaxes(-1, -2))  # (R, B, D_out) @ (R, D_out, D_in) -> (R, B, D_in)

    def backward_params(self, dout: np.ndarray) -> None:
        """Write ``grads["W"]`` and ``grads["b"]`` from ``dout`` without computing ``dx``.

        The gradients are written into the same arrays at every call (like
        PyTorch's ``.grad``): a wide layer's ``dW`` is megabytes, and a fresh
        one per step costs page faults that outweigh the arithmetic around it.
        """
        x = self._x
        matmul(x.swapaxes(-1, -2), dout, out=self.grads["W"])  # dW = x.T @ dout: (R, D_in, B) @ (R, B, D_out)
        sum_over_batch(dout, out=self.grads["b"])  # db = dout.sum(-2, keepdims=True): (R, 1, D_out)

    def to_config(self) -> dict:
        return {"type": "Dense", "fan_in": self.fan_in, "fan_out": self.fan_out, "init": self.init}

    @classmethod
    def from_config(cls, config: dict, *, runs: int | None = None, dtype: str | np.dtype = "float64") -> Dense:
        return cls(**_arguments(config), runs=runs, dtype=dtype)

    @classmethod
    def state_shapes(cls, config: dict, *, runs: int | None = None) -> dict[str, tuple[int, ...]]:
        lead = () if runs is None else (runs,)
        return {"W": (*lead, config["fan_in"], config["fan_out"]), "b": (*lead, 1, config["fan_out"])}


class Sigmoid(Layer):
    """``a = 1 / (1 + exp(-z))``; ``da/dz = a * (1 - a)``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import Sigmoid
    >>> layer = Sigmoid()
    >>> layer.forward(np.array([[0.0, 2.0]]))
    array([[0.5       , 0.88079708]])
    >>> layer.backward(np.ones((1, 2)))  # a * (1 - a): at most 1/4
    array([[0.25      , 0.10499359]])
    """

    formula = ("sigmoid(z) = 1 / (1 + exp(-z))", "a * (1 - a)")
    formula_latex = (r"\sigma(z) = 1 / (1 + e^{-z})", r"a (1 - a)")

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        self._a = a = sigmoid(x)  # in its stable form, shared with the output activation
        return a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        a = self._a
        # (1 - a) * a * dout built in place on one new array: a temporary for (1 - a) as
        # large as the layer's output costs more in allocation than in arithmetic.
        dx = 1.0 - a
        dx *= a
        dx *= dout
        return dx


class Tanh(Layer):
    """``a = tanh(z)``; ``da/dz = 1 - a**2``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import Tanh
    >>> layer = Tanh()
    >>> layer.forward(np.array([[0.0, 1.0]]))
    array([[0.        , 0.76159416]])
    >>> layer.backward(np.ones((1, 2)))  # 1 - a**2: 1 at zero, four times sigmoid's
    array([[1.        , 0.41997434]])
    """

    formula = ("tanh(z)", "1 - a**2")
    formula_latex = (r"\tanh(z)", r"1 - a^2")

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        self._a = a = np.tanh(x)
        return a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        a = self._a
        return dout * (1.0 - a * a)


class ReLU(Layer):
    """``a = max(z, 0)``; ``da/dz = 1 if z > 0 else 0`` (0 at the kink, as PyTorch).

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import ReLU
    >>> layer = ReLU()
    >>> layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 0., 2.]])
    >>> layer.backward(np.array([[5.0, 5.0, 5.0]]))  # passed where z > 0 only; the kink z = 0 gets 0
    array([[0., 0., 5.]])
    """

    formula = ("max(z, 0)", "1 if z > 0 else 0")
    formula_latex = (r"\max(z, 0)", r"[z > 0]")

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        self._a = a = relu(x)  # np.maximum(x, 0), in _kernels' faster loop
        return a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (self._a > 0)


class LeakyReLU(Layer):
    """``a = z if z > 0 else alpha * z``; ``da/dz = 1 if z > 0 else alpha``.

    Parameters
    ----------
    alpha : float, default 0.01
        Slope for negative inputs, ``0 <= alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import LeakyReLU
    >>> layer = LeakyReLU(alpha=0.1)
    >>> layer.forward(np.array([[-2.0, 3.0]]))
    array([[-0.2,  3. ]])
    >>> layer.backward(np.ones((1, 2)))  # a negative input still passes alpha of the gradient
    array([[0.1, 1. ]])
    """

    formula = ("z if z > 0 else alpha * z", "1 if z > 0 else alpha")
    formula_latex = (r"z \text{ if } z > 0 \text{ else } \alpha z", r"1 \text{ if } z > 0 \text{ else } \alpha")

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_positive_float("alpha", alpha, allow_zero=True)

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        self._positive = positive = x > 0
        return np.where(positive, x, self.alpha * x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self._positive, dout, self.alpha * dout)

    def to_config(self) -> dict:
        return {"type": "LeakyReLU", "alpha": self.alpha}


class Identity(Layer):
    """``a = z``; ``da/dz = 1``.

    Examples
    --------
    Without a non-linearity, hidden layers add nothing: a network with identity
    activations (and zero biases, as initialised) is a linear map.

    >>> import numpy as np
    >>> import backproplab as bp
    >>> net = bp.mlp([2, 8, 8, 1], activation="identity", output="identity", seed=0)
    >>> X = np.array([[1.0, 0.0], [0.5, -2.0]])
    >>> bool(np.allclose(net.forward(3 * X), 3 * net.forward(X)))
    True
    >>> bp.Identity().backward(np.array([[1.5, -2.0]]))
    array([[ 1.5, -2. ]])
    """

    formula = ("z", "1")
    formula_latex = (r"z", r"1")

    def forward(self, x: np.ndarray, *, train: bool = True) -> np.ndarray:
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout


#: Hidden activations by name, for ``mlp(activation=...)`` and config files.
ACTIVATIONS: dict[str, type[Layer]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


def activation(name: str) -> Layer:
    """Build the activation layer registered under ``name``."""
    return ACTIVATIONS[check_choice("activation", name, ACTIVATIONS)]()


def _check_generator_state(name: str, generator: np.random.Generator, state: Any) -> None:
    """Raise ``ValueError`` unless ``state`` is a state of ``generator``'s kind (tried on a scratch one)."""
    try:
        type(generator.bit_generator)().state = state
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"state {name!r} is not a usable generator state ({type(exc).__name__}: {exc})") from None


def _arguments(config: dict) -> dict:
    """A layer's ``to_config()`` without its ``"type"``: the constructor's keyword arguments."""
    return {key: value for key, value in config.items() if key != "type"}
