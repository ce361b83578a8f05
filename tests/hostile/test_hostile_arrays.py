"""Hostile data at every public entry point that takes arrays or hyper-parameters.

Each test throws malformed input (``hostile.BAD_ARRAYS``: NaN/inf, empty, ragged,
object/str/complex/bytes/datetime dtypes, non-arrays; wrong shapes; absurd
hyper-parameters) and asserts a documented error with a message, raised before
any work: the network's parameters are untouched. Extreme but valid numbers may
be trained on; then the result must be finite or a ``DivergenceError``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import backproplab as bp
from backproplab.core import optim
from backproplab.core.regularization import BatchNorm, Dropout
from backproplab.train import schedules
from hostile import BAD_ARRAYS, BAD_SCALARS, HUGE, WRONG_SHAPES, bad_scalars, outcome, refused

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y4 = np.array([0, 1, 1, 0])
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def nets() -> dict[str, bp.Network]:
    return {
        "binary": bp.mlp([2, 3, 1], seed=0),
        "runs": bp.mlp([2, 3, 1], seed=0, runs=2),
        "softmax": bp.mlp([2, 3, 3], output="softmax", seed=0),
        "regression": bp.mlp([2, 3, 2], output="identity", seed=0),
        "regularised": bp.mlp([2, 3, 1], seed=0, dropout=0.2, batch_norm=True),
    }


#: Entry points taking (net, X, y).
XY_ENTRY_POINTS = {
    "fit": lambda net, X, y: bp.fit(net, X, y, epochs=2, batch_size=2, progress=False),
    "loss_and_gradients": lambda net, X, y: bp.loss_and_gradients(net, X, y),
    "gradcheck": lambda net, X, y: bp.gradcheck(net, X, y, max_checks=2),
    "fit_validation": lambda net, X, y: bp.fit(net, X4, Y4, epochs=1, progress=False, validation=(X, y)),
}

#: Entry points taking (net, X).
X_ENTRY_POINTS = {
    "predict": lambda net, X: net.predict(X),
    "predict_proba": lambda net, X: net.predict_proba(X),
}


def good_y(net: bp.Network) -> np.ndarray:
    return np.zeros((4, 2)) if net.output == "identity" else Y4


def unchanged(net: bp.Network, before: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(before[k], v) for k, v in net.params.items())


@pytest.mark.parametrize("entry", sorted(XY_ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(nets()))
@FAST
@given(X=BAD_ARRAYS)
def test_bad_X_is_refused_before_any_work(entry, kind, X):
    net = nets()[kind]
    before = net.copy_params()
    refused(XY_ENTRY_POINTS[entry], net, X, good_y(net))
    assert unchanged(net, before)


@pytest.mark.parametrize("entry", sorted(XY_ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(nets()))
@FAST
@given(y=st.one_of(BAD_ARRAYS, st.sampled_from([[0, 1, 1], [0, 1, 1, 0, 1], [[0, 1, 1, 0]], np.zeros((2, 4, 1, 1))])))
def test_bad_y_is_refused_before_any_work(entry, kind, y):
    net = nets()[kind]
    before = net.copy_params()
    refused(XY_ENTRY_POINTS[entry], net, X4, y)
    assert unchanged(net, before)


@pytest.mark.parametrize("y", [[0, 2, 1, 0], [-1, 0, 1, 1], [0.5, 1, 1, 3]])
@pytest.mark.parametrize("kind", ["binary", "softmax"])
def test_labels_outside_the_classes_are_refused(kind, y):
    net = nets()[kind]
    err = refused(bp.fit, net, X4, [*y[:3], 7], epochs=1, progress=False)
    assert "y" in str(err) or "label" in str(err)


@pytest.mark.parametrize("entry", sorted(XY_ENTRY_POINTS) + sorted(X_ENTRY_POINTS))
@FAST
@given(X=WRONG_SHAPES)
def test_wrong_shapes_are_refused(entry, X):
    net = nets()["binary"]
    if entry in X_ENTRY_POINTS:
        refused(X_ENTRY_POINTS[entry], net, X)
    else:
        refused(XY_ENTRY_POINTS[entry], net, X, np.zeros(X.shape[-2] if X.ndim > 1 else 2))


@pytest.mark.parametrize("entry", sorted(X_ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(nets()))
@FAST
@given(X=BAD_ARRAYS)
def test_bad_X_is_refused_by_prediction(entry, kind, X):
    refused(X_ENTRY_POINTS[entry], nets()[kind], X)


@FAST
@given(scale=HUGE, kind=st.sampled_from(sorted(nets())))
def test_huge_values_train_or_diverge_cleanly(scale, kind):
    net = nets()[kind]
    result = outcome(bp.fit, net, X4 * scale, good_y(net), epochs=3, batch_size=2, progress=False)
    if isinstance(result, BaseException):
        assert isinstance(result, bp.DivergenceError), result
    assert all(np.isfinite(p).all() for p in net.params.values())
    assert np.isfinite(net.predict_proba(X4)).all()


@FAST
@given(scale=HUGE, kind=st.sampled_from(sorted(nets())), seed=st.integers(0, 50), entry=st.sampled_from(
    sorted(X_ENTRY_POINTS)))
def test_huge_inputs_predict_finite_values_or_are_refused(scale, kind, seed, entry):
    net = nets()[kind]
    for p in net.params.values():
        p[...] = np.random.default_rng(seed).normal(size=p.shape)
    result = outcome(X_ENTRY_POINTS[entry], net, X4 * scale)
    if isinstance(result, BaseException):
        assert isinstance(result, ValueError) and "overflow" in str(result)
    elif net.runs is None:
        assert np.isfinite(result).all()


@FAST
@given(
    X=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), elements=st.floats(-1e6, 1e6)),
    y=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.floats(-3, 3)),
    kind=st.sampled_from(sorted(nets())),
)
def test_random_shapes_either_work_or_are_refused(X, y, kind):
    net = nets()[kind]
    result = outcome(bp.loss_and_gradients, net, X, y)
    if not isinstance(result, BaseException):
        loss, grads = result
        assert np.isfinite(loss).all()
        assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in net.params.items()}


# --- hyper-parameters and constructors -----------------------------------------------------
def fit_with(**kwargs):
    return lambda: bp.fit(bp.mlp([2, 3, 1]), X4, Y4, progress=False, **{"epochs": 1, **kwargs})


#: fit's arguments, and whether 0 and None are invalid for each.
FIT_ARGUMENTS = {
    "epochs": (True, True),
    "batch_size": (True, True),
    "shuffle_seed": (False, True),
    "shuffle": (True, True),
    "progress": (True, True),
    "optimizer": (True, False),
    "loss": (True, False),
    "callbacks": (True, True),
    "checkpoint_every": (True, False),
    "validation": (True, False),
    "early_stopping": (True, False),
}
NOT_A_FLAG = st.sampled_from(["", "nope", [1, 2], {}, 1.5, object(), "False", np.float64(1)])


@pytest.mark.parametrize("name", sorted(FIT_ARGUMENTS))
@FAST
@given(value=st.one_of(BAD_SCALARS, NOT_A_FLAG))
def test_fit_refuses_bad_arguments(tmp_path_factory, name, value):
    if name == "callbacks" and isinstance(value, (list, dict, str)) and not value:
        return  # an empty collection of callbacks is fine
    if value is True and name in ("early_stopping", "shuffle", "progress"):
        return  # valid: a flag, and early_stopping=True means the default EarlyStopping
    extra = {"checkpoint": tmp_path_factory.mktemp("ckpt") / "c.npz"} if name == "checkpoint_every" else {}
    refused(fit_with(**{name: value}, **extra))


@pytest.mark.parametrize("name", sorted(FIT_ARGUMENTS))
def test_fit_refuses_zero_and_none_where_they_make_no_sense(name):
    zero, none = FIT_ARGUMENTS[name]
    if zero:
        refused(fit_with(**{name: 0}))
    if none:
        refused(fit_with(**{name: None}))


SIZES = st.one_of(
    st.lists(st.integers(-3, 0), min_size=2, max_size=4).map(lambda s: [2, *s]),
    st.sampled_from([[], [2], [2, 3.5, 1], ["2", "1"], "2-3-1", None, 7, [2, None], [2, [3], 1], [2, True, 1]]),
)


@FAST
@given(sizes=SIZES)
def test_mlp_refuses_bad_sizes(sizes):
    refused(bp.mlp, sizes)


@pytest.mark.parametrize(
    "name", ["activation", "output", "init", "seed", "runs", "dtype", "dropout", "batch_norm"]
)
@FAST
@given(value=st.one_of(BAD_SCALARS, st.sampled_from(["", "nope", "float16", "int32", [], [-1], 2.0, "0.5"])))
def test_mlp_refuses_bad_options(name, value):
    if (name, value) in (("seed", [1]), ("batch_norm", True)):
        return  # valid: one run's seed; the flag
    refused(bp.mlp, [2, 3, 1], **{name: value})


def test_absurd_widths_fail_with_a_clear_error():
    # NumPy's own MemoryError names the size it could not allocate; nothing else is raised.
    with pytest.raises((MemoryError, ValueError), match=r"allocate|too large|size"):
        bp.mlp([2, 10**15, 1])


@given(layers=st.sampled_from([None, [], [1, 2], "Dense", [bp.Sigmoid()], [bp.Dense(2, 3), bp.Dense(4, 1)],
                               [bp.Dense(2, 3, runs=2), bp.Dense(3, 1)], [bp.Dense(2, 3), "relu"]]),
       output=st.sampled_from(["sigmoid", "nope", None, 3]))
@FAST
def test_network_refuses_bad_layers(layers, output):
    refused(bp.Network, layers, output=output)


#: Constructor arguments, and whether 0 / None are invalid for each (besides BAD_SCALARS).
CONSTRUCTORS = {
    "Dense.fan_in": (lambda v: bp.Dense(v, 2), True, True),
    "Dense.fan_out": (lambda v: bp.Dense(2, v), True, True),
    "Dense.init": (lambda v: bp.Dense(2, 2, init=v), True, True),
    "Dense.runs": (lambda v: bp.Dense(2, 2, runs=v), True, False),
    "Dense.dtype": (lambda v: bp.Dense(2, 2, dtype=v), True, False),
    "Dense.rng": (lambda v: bp.Dense(2, 2, rng=v), True, False),
    "LeakyReLU.alpha": (lambda v: bp.LeakyReLU(v), False, True),
    "Dropout.rate": (lambda v: Dropout(v), False, True),
    "Dropout.seed": (lambda v: Dropout(0.5, seed=v), False, True),
    "BatchNorm.num_features": (lambda v: BatchNorm(v), True, True),
    "BatchNorm.momentum": (lambda v: BatchNorm(2, momentum=v), True, True),
    "BatchNorm.eps": (lambda v: BatchNorm(2, eps=v), True, True),
    "SGD.lr": (lambda v: optim.SGD(v), True, True),
    "SGD.momentum": (lambda v: optim.SGD(0.1, momentum=v), False, True),
    "SGD.clip_norm": (lambda v: optim.SGD(0.1, clip_norm=v), True, False),
    "SGD.clip_value": (lambda v: optim.SGD(0.1, clip_value=v), True, False),
    "SGD.weight_decay": (lambda v: optim.SGD(0.1, weight_decay=v), False, True),
    "RMSprop.rho": (lambda v: optim.RMSprop(rho=v), False, True),
    "RMSprop.eps": (lambda v: optim.RMSprop(eps=v), True, True),
    "Adam.lr": (lambda v: optim.Adam(v), True, True),
    "Adam.beta1": (lambda v: optim.Adam(beta1=v), False, True),
    "Adam.beta2": (lambda v: optim.Adam(beta2=v), False, True),
    "AdamW.weight_decay": (lambda v: optim.AdamW(weight_decay=v), False, True),
    "get_optimizer.name": (lambda v: optim.get_optimizer(v, 0.1), True, True),
    "StepDecay.step_size": (lambda v: schedules.StepDecay(v), True, True),
    "StepDecay.gamma": (lambda v: schedules.StepDecay(2, v), True, True),
    "ExponentialDecay.gamma": (lambda v: schedules.ExponentialDecay(v), True, True),
    "CosineDecay.t_max": (lambda v: schedules.CosineDecay(v), True, True),
}


@pytest.mark.parametrize("target", sorted(CONSTRUCTORS))
@FAST
@given(data=st.data())
def test_constructors_refuse_bad_hyper_parameters(target, data):
    build, zero, none = CONSTRUCTORS[target]
    value = data.draw(bad_scalars(zero=zero, none=none), label="value")
    if target == "Dropout.seed" and value == [1]:
        return  # valid: one run's seed
    refused(build, value)


@pytest.mark.parametrize(("target", "value"), [("Dropout.rate", 1.0), ("SGD.momentum", 1.0), ("Adam.beta1", 1.0),
                                               ("RMSprop.rho", 1.0), ("BatchNorm.momentum", 1.5)])
def test_constructors_refuse_values_past_their_range(target, value):
    refused(CONSTRUCTORS[target][0], value)
