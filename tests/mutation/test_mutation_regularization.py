"""Dropout and BatchNorm: every argument takes effect, running statistics over many steps, batch size 1."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.regularization import BatchNorm, Dropout


def _bn_reference(batches, momentum, eps):
    """Running statistics and the last output of a batch norm, one feature at a time in Python floats."""
    d = batches[0].shape[1]
    mean, var = [0.0] * d, [1.0] * d
    for x in batches:
        n = x.shape[0]
        for j in range(d):
            col = [float(v) for v in x[:, j]]
            mu = sum(col) / n
            biased = sum((v - mu) ** 2 for v in col) / n
            unbiased = biased * n / (n - 1) if n > 1 else biased
            mean[j] = (1 - momentum) * mean[j] + momentum * mu
            var[j] = (1 - momentum) * var[j] + momentum * unbiased
    last = batches[-1]
    mu, biased = last.mean(axis=0), last.var(axis=0)
    return np.array([mean]), np.array([var]), (last - mu) / np.sqrt(biased + eps)


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0])
def test_batch_norm_running_statistics_over_several_steps_match_a_hand_computation(momentum):
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc, scale, (n, 3)) for loc, scale, n in [(2.0, 3.0, 8), (-1.0, 0.5, 5), (0.5, 2.0, 2),
                                                                    (4.0, 1.0, 6)]]
    layer = BatchNorm(3) if momentum == 0.1 else BatchNorm(3, momentum=momentum)  # 0.1 is the documented default
    for x in batches:
        out = layer.forward(x, train=True)
    mean, var, x_hat = _bn_reference(batches, momentum, 1e-5)
    np.testing.assert_allclose(layer.buffers["running_mean"], mean, rtol=1e-13)
    np.testing.assert_allclose(layer.buffers["running_var"], var, rtol=1e-13)
    np.testing.assert_allclose(out, x_hat, rtol=1e-12, atol=1e-13)  # gamma 1, beta 0 at the start
    # evaluation then normalises by those statistics
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(x, train=False), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)


def test_batch_norm_eps_takes_effect_and_defaults_to_1e_5():
    x = np.array([[0.0, 1.0], [2e-3, 1.0 + 2e-2]])  # variances 1e-6 and 1e-4, near eps
    for eps, layer in [(1e-5, BatchNorm(2)), (1e-3, BatchNorm(2, eps=1e-3))]:
        mu, var = x.mean(axis=0), x.var(axis=0)
        np.testing.assert_allclose(layer.forward(x, train=True), (x - mu) / np.sqrt(var + eps), rtol=1e-12)


def test_batch_norm_in_training_with_a_batch_of_one():
    layer = BatchNorm(3, momentum=0.5)
    layer.params["gamma"][...] = [[2.0, 3.0, 4.0]]
    layer.params["beta"][...] = [[0.5, -0.5, 1.0]]
    x = np.array([[1.0, -2.0, 7.0]])
    with np.errstate(all="raise"):  # no division by n - 1 = 0
        out = layer.forward(x, train=True)
        dx = layer.backward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(out, [[0.5, -0.5, 1.0]])  # x - mean is 0: only beta is left
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.5 * x)
    # a single sample has variance 0 (its unbiased estimate is undefined and taken as 0)
    np.testing.assert_allclose(layer.buffers["running_var"], [[0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(dx, np.zeros((1, 3)))  # the output does not depend on x
    np.testing.assert_array_equal(layer.grads["beta"], [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(layer.grads["gamma"], [[0.0, 0.0, 0.0]])


def test_batch_norm_backward_in_evaluation_is_the_affine_map():
    layer = BatchNorm(2, eps=1e-3)
    layer.params["gamma"][...] = [[2.0, -1.0]]
    layer.buffers["running_var"][...] = [[4.0, 0.25]]
    layer.forward(np.ones((3, 2)), train=False)
    dout = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(layer.backward(dout), dout * [[2.0, -1.0]] / np.sqrt([[4.001, 0.251]]), rtol=1e-14)


def test_batch_norm_runs_keep_their_own_statistics_and_dtype():
    rng = np.random.default_rng(1)
    layer = BatchNorm(2, runs=3, momentum=0.4, dtype="float32")
    assert layer.params["gamma"].shape == layer.buffers["running_var"].shape == (3, 1, 2)
    x = rng.normal(size=(3, 5, 2)).astype(np.float32)
    layer.forward(x, train=True)
    for r in range(3):
        mean, var, _ = _bn_reference([x[r].astype(np.float64)], 0.4, 1e-5)
        np.testing.assert_allclose(layer.buffers["running_mean"][r], mean, rtol=1e-5)
        np.testing.assert_allclose(layer.buffers["running_var"][r], var, rtol=1e-5)
    for arrays in (layer.params, layer.grads, layer.buffers):
        assert all(a.dtype == np.float32 for a in arrays.values())
    assert layer.to_config() == {"type": "BatchNorm", "num_features": 2, "momentum": 0.4, "eps": 1e-5}


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: BatchNorm(0), "num_features"),
        (lambda: BatchNorm(2, momentum=0.0), "momentum"),
        (lambda: BatchNorm(2, momentum=1.0 + 1e-12), r"momentum must be in \(0, 1\]"),
        (lambda: BatchNorm(2, eps=0.0), "eps"),
        (lambda: BatchNorm(2, runs=0), "runs"),
        (lambda: Dropout(1.0), r"rate must be in \[0, 1\)"),
        (lambda: Dropout(-1e-12), "rate"),
        (lambda: Dropout(0.5, stream=-1), "stream"),
        (lambda: Dropout(0.5, seed=-1), "seed"),
        (lambda: Dropout(0.5, seed=[0, -1]), r"seed\[1\]"),
        (lambda: Dropout(0.5, seed=[]), "empty"),
    ],
)
def test_values_just_outside_the_allowed_ranges_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("seed", ["1", b"1", 1.0, True, None])
def test_dropout_seed_of_the_wrong_type_is_refused(seed):
    with pytest.raises(TypeError, match="seed"):
        Dropout(0.5, seed=seed)


def test_values_just_inside_the_allowed_ranges_are_accepted():
    BatchNorm(1, momentum=1.0, eps=1e-300, runs=1)
    BatchNorm(1, momentum=1e-300)
    Dropout(0.0, seed=0, stream=0)
    Dropout(0.999999, seed=[0], stream=0)


# --- Dropout -----------------------------------------------------------------------------------


def _expected_mask(seed, stream, rate, shape):
    keep = 1.0 - rate
    return (np.random.default_rng([seed, stream]).random(shape) < keep) / keep


@pytest.mark.parametrize(("rate", "seed", "stream"), [(0.5, 0, 0), (0.2, 3, 0), (0.7, 3, 2)])
def test_dropout_mask_comes_from_default_rng_of_seed_and_stream(rate, seed, stream):
    layer = Dropout(rate, seed=seed, stream=stream) if rate != 0.5 else Dropout(seed=seed, stream=stream)
    x = np.full((6, 5), 2.0)
    mask = _expected_mask(seed, stream, rate, x.shape)
    np.testing.assert_array_equal(layer.forward(x, train=True), 2.0 * mask)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), mask)
    assert layer.to_config() == {"type": "Dropout", "rate": rate, "seed": seed, "stream": stream}


def test_dropout_defaults_are_rate_one_half_seed_zero_stream_zero():
    x = np.ones((40, 10))
    np.testing.assert_array_equal(Dropout().forward(x, train=True), _expected_mask(0, 0, 0.5, x.shape))


def test_dropout_with_one_seed_per_run_draws_each_runs_mask_alone():
    layer = Dropout(0.4, seed=[5, 9], stream=1)
    x = np.ones((4, 3))  # shared by both runs
    out = layer.forward(x, train=True)
    assert out.shape == (2, 4, 3)
    for r, seed in enumerate([5, 9]):
        np.testing.assert_array_equal(out[r], _expected_mask(seed, 1, 0.4, (4, 3)))
        alone = Dropout(0.4, seed=seed, stream=1).forward(x, train=True)
        np.testing.assert_array_equal(out[r], alone)


def test_dropout_reuse_mask_keeps_the_mask_until_the_shape_changes():
    x = np.ones((8, 6))
    fresh, reused = Dropout(0.5, seed=1), Dropout(0.5, seed=1, reuse_mask=True)
    first = reused.forward(x, train=True)
    np.testing.assert_array_equal(fresh.forward(x, train=True), first)
    assert not np.array_equal(fresh.forward(x, train=True), first)  # a new draw each forward
    np.testing.assert_array_equal(reused.forward(x, train=True), first)  # the same mask again
    assert reused.forward(np.ones((3, 6)), train=True).shape == (3, 6)  # another shape: a new mask


@pytest.mark.parametrize("shape", [(5, 4), (3, 5, 4)])
def test_dropout_with_one_seed_per_run_reuses_its_mask_for_shared_and_stacked_inputs(shape):
    # The mask is (R, B, D) with per-run seeds whatever the input's shape: reuse_mask must recognise it.
    layer = Dropout(0.5, seed=[1, 2, 3], reuse_mask=True)
    x = np.ones(shape)
    first = layer.forward(x, train=True)
    assert first.shape == (3, 5, 4)
    np.testing.assert_array_equal(layer.forward(x, train=True), first)


def test_dropout_with_rate_zero_or_in_evaluation_is_the_identity_both_ways():
    x = np.arange(6.0).reshape(2, 3)
    for layer, train in [(Dropout(0.0), True), (Dropout(0.5), False)]:
        assert layer.forward(x, train=train) is x
        assert layer.backward(x) is x


def test_dropout_keeps_float32():
    out = Dropout(0.5).forward(np.ones((4, 4), np.float32), train=True)
    assert out.dtype == np.float32


def test_dropout_mask_drawn_for_an_extended_precision_input_stays_float64():
    # gradcheck evaluates in np.longdouble: a mask kept from such a forward (reuse_mask) must not turn
    # the float64 forwards after it into long double ones.
    layer = Dropout(0.5, seed=3, reuse_mask=True)
    x = np.ones((4, 4))
    extended = layer.forward(x.astype(np.longdouble), train=True)
    assert extended.dtype == np.longdouble
    again = layer.forward(x, train=True)
    assert again.dtype == np.float64 and np.array_equal(again, extended.astype(np.float64))


# --- through mlp -------------------------------------------------------------------------------------


def test_mlp_dropout_builds_one_layer_per_hidden_layer_with_the_rate_and_its_own_stream():
    net = bp.mlp([3, 5, 4, 1], dropout=0.3, seed=7)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Sigmoid", "Dropout", "Dense", "Sigmoid", "Dropout", "Dense"]
    drops = [net.layers[2], net.layers[5]]
    assert [d.to_config() for d in drops] == [
        {"type": "Dropout", "rate": 0.3, "seed": 7, "stream": 0},
        {"type": "Dropout", "rate": 0.3, "seed": 7, "stream": 1},
    ]
    # the two layers draw different masks for the same input
    x = np.ones((10, 5))
    m0, m1 = (d.forward(x, train=True) for d in drops)
    np.testing.assert_array_equal(m0, _expected_mask(7, 0, 0.3, x.shape))
    np.testing.assert_array_equal(m1, _expected_mask(7, 1, 0.3, x.shape))


def test_mlp_dropout_with_runs_seeds_each_run():
    net = bp.mlp([2, 4, 1], dropout=0.25, seed=3, runs=2)
    assert net.layers[2].to_config()["seed"] == [3, 4]
    assert bp.mlp([2, 4, 1], dropout=0.0).layers[-1].to_config()["type"] == "Dense"
    assert len(bp.mlp([2, 4, 1]).layers) == 3  # no dropout by default


def test_mlp_batch_norm_sits_between_dense_and_activation_with_runs_and_dtype():
    net = bp.mlp([2, 4, 3, 1], batch_norm=True, runs=2, dtype="float32", activation="tanh")
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "BatchNorm", "Tanh", "Dense", "BatchNorm", "Tanh", "Dense"]
    assert net.layers[1].params["gamma"].shape == (2, 1, 4)
    assert net.layers[4].buffers["running_mean"].shape == (2, 1, 3)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert len(bp.mlp([2, 4, 1]).buffers) == 0  # no batch norm by default


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\)"),
        ({"dropout": -0.1}, ValueError, "dropout"),
        ({"batch_norm": "yes"}, TypeError, "batch_norm"),
        ({"runs": 0}, ValueError, "runs"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": [1, 2], "runs": 3}, ValueError, "runs=3"),
        ({"seed": [1, -2]}, ValueError, "seed"),
        ({"seed": []}, ValueError, "seed"),
        ({"seed": "1"}, TypeError, "seed"),
        ({"seed": None}, TypeError, "seed must be a non-negative int"),
        ({"activation": "swish"}, ValueError, "activation"),
        ({"output": "tanh"}, ValueError, "output"),
        ({"dtype": "float16"}, ValueError, "dtype"),
    ],
)
def test_mlp_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        bp.mlp([2, 3, 1], **kwargs)


@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [([2], ValueError, "at least"), ([2, 0, 1], ValueError, r"sizes\[1\]"), ("21", TypeError, "sizes"),
     (5, TypeError, "sizes")],
)
def test_mlp_refuses_bad_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        bp.mlp(sizes)


def test_mlp_smallest_arguments_are_accepted():
    net = bp.mlp([1, 1], dropout=0.999, runs=1, seed=[0])
    assert net.runs == 1 and len(net.layers) == 1


def test_batch_norm_without_runs_sums_its_gradients_over_the_runs_of_its_input():
    # a layer without a runs axis shared by R stacked runs (evaluation: fixed statistics)
    rng = np.random.default_rng(3)
    layer = BatchNorm(2)
    layer.buffers["running_mean"][...] = [[0.5, -1.0]]
    layer.buffers["running_var"][...] = [[2.0, 0.5]]
    x, dout = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    layer.forward(x, train=False)
    layer.backward(dout)
    x_hat = (x - [[0.5, -1.0]]) / np.sqrt(np.array([[2.0, 0.5]]) + 1e-5)
    np.testing.assert_allclose(layer.grads["gamma"], (dout * x_hat).sum(axis=(0, 1))[None, :], rtol=1e-13)
    np.testing.assert_allclose(layer.grads["beta"], dout.sum(axis=(0, 1))[None, :], rtol=1e-13)
    assert layer.grads["gamma"].shape == (1, 2)


def test_batch_norm_forward_defaults_to_training():
    layer = BatchNorm(2)
    layer.forward(np.array([[1.0, 2.0], [3.0, 6.0]]))  # no train= given
    np.testing.assert_allclose(layer.buffers["running_mean"], [[0.2, 0.4]])
