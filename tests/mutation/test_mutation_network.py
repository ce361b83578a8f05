"""Network: predictions at their thresholds, the loss a caller names is the loss used, validation at the edges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.losses import BinaryCrossEntropy


class DoubledBCE(BinaryCrossEntropy):
    """A loss that pairs with a sigmoid output like the default, but is twice as large."""

    def value(self, z, y):
        return 2 * super().value(z, y)

    def gradient(self, z, y):
        return 2 * super().gradient(z, y)


def _net_and_data(**kwargs):
    rng = np.random.default_rng(0)
    return bp.mlp([3, 4, 1], seed=1, **kwargs), rng.normal(size=(6, 3)), rng.integers(0, 2, 6)


def test_loss_and_gradients_uses_the_loss_it_is_given():
    net, X, y = _net_and_data()
    value, grads = bp.loss_and_gradients(net, X, y)
    doubled, grads2 = bp.loss_and_gradients(net, X, y, DoubledBCE())
    assert doubled == pytest.approx(2 * value, rel=1e-14)
    for name, g in grads.items():
        np.testing.assert_allclose(grads2[name], 2 * g, rtol=1e-14)
        assert grads2[name] is not net.grads[name]  # copies, not the network's arrays


def test_gradcheck_checks_the_loss_it_is_given():
    class WrongGradient(BinaryCrossEntropy):
        def gradient(self, z, y):
            return 1.1 * super().gradient(z, y)

    net, X, y = _net_and_data()
    assert bp.gradcheck(net, X, y, loss=DoubledBCE()).passed
    assert not bp.gradcheck(net, X, y, loss=WrongGradient()).passed


def test_gradcheck_in_evaluation_mode_uses_the_running_statistics():
    net, X, y = _net_and_data(batch_norm=True)
    net.forward(X * 3 + 1, train=True)  # running statistics that differ from the batch's
    result = bp.gradcheck(net, X, y, train=False)
    assert result.passed and result.max_error < 1e-8, result


def test_gradcheck_in_plain_float64_is_coarser_than_in_extended_precision():
    net, X, y = _net_and_data(activation="tanh")
    extended, plain = bp.gradcheck(net, X, y), bp.gradcheck(net, X, y, extended=False)
    assert extended.passed and plain.passed
    assert extended.max_error < plain.max_error


def test_gradcheck_default_seed_is_zero():
    net, X, y = _net_and_data()
    default = bp.gradcheck(net, X, y, max_checks=2)
    assert default.worst_index == bp.gradcheck(net, X, y, max_checks=2, sample_seed=0).worst_index
    assert default.errors == bp.gradcheck(net, X, y, max_checks=2, sample_seed=0).errors


def test_predict_thresholds_at_one_half_inclusive():
    net = bp.Network([bp.Dense(1, 1)], output="sigmoid")
    net.set_params({"0.W": [[1.0]], "0.b": [[0.0]]})
    labels = net.predict([[-1e-9], [0.0], [1e-9]])  # p just under, at and just over 0.5
    np.testing.assert_array_equal(labels, [0, 1, 1])
    assert labels.dtype == np.int64 and labels.shape == (3,)
    two = bp.Network([bp.Dense(1, 2)], output="sigmoid")
    two.set_params({"0.W": [[1.0, -1.0]], "0.b": [[0.0, 0.0]]})
    np.testing.assert_array_equal(two.predict([[2.0], [-2.0]]), [[1, 0], [0, 1]])  # one label per output


def test_predict_with_runs_gives_one_label_row_per_run():
    net = bp.mlp([2, 3, 1], runs=2, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    labels = net.predict(X)
    assert labels.shape == (2, 5)
    np.testing.assert_array_equal(labels, (net.predict_proba(X)[..., 0] >= 0.5).astype(int))


def test_predict_proba_is_evaluation_mode():
    net, X, _ = _net_and_data(dropout=0.5, batch_norm=True)
    first = net.predict_proba(X)
    np.testing.assert_array_equal(net.predict_proba(X), first)  # no fresh dropout mask
    np.testing.assert_array_equal(net.buffers["1.running_mean"], 0.0)  # running statistics untouched
    np.testing.assert_allclose(first, 1 / (1 + np.exp(-net.forward(X))), rtol=1e-15)  # forward defaults to evaluation


def test_layer_forward_defaults_to_training():
    layer = bp.Dropout(0.5)
    x = np.ones((20, 20))
    assert (layer.forward(x) == 0).any()


def test_predict_proba_overflow_is_an_error_without_runs_and_nan_or_inf_with_them():
    one = bp.Network([bp.Dense(1, 1)], output="identity")
    one.set_params({"0.W": [[10.0]], "0.b": [[0.0]]})
    stacked = bp.Network([bp.Dense(1, 1, runs=2)], output="sigmoid")
    stacked.set_params({"0.W": [[[10.0]], [[-10.0]]], "0.b": np.zeros((2, 1, 1))})
    stacked_identity = bp.Network([bp.Dense(1, 1, runs=2)], output="identity")
    stacked_identity.set_params({"0.W": [[[10.0]], [[1e-300]]], "0.b": np.zeros((2, 1, 1))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning escapes either way
        with pytest.raises(ValueError, match=r"overflowed \(X holds values up to 1e\+308"):
            one.predict_proba([[1e308]])
        np.testing.assert_array_equal(stacked.predict_proba([[1e308]]), [[[1.0]], [[0.0]]])
        p = stacked_identity.predict_proba([[1e308]])
        assert np.isinf(p[0]).all() and np.isfinite(p[1]).all()
    assert one.predict_proba([[2.0]]) == 20.0


def test_set_params_refuses_other_names_and_shapes():
    net = bp.mlp([2, 3, 1])
    with pytest.raises(ValueError, match=r"state names differ: missing \['0.b', '2.W', '2.b'\], unexpected \[\]"):
        net.set_params({"0.W": np.zeros((2, 3))})
    params = net.copy_params()
    params["2.b"] = np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"state '2.b' has shape \(1, 2\), expected \(1, 1\)"):
        net.set_params(params)


def test_copy_params_is_independent_and_n_params_counts_one_run():
    net = bp.mlp([2, 3, 1], runs=4)
    copy = net.copy_params()
    copy["0.W"][...] = 7.0
    assert not (net.params["0.W"] == 7.0).any()
    assert net.n_params == 2 * 3 + 3 + 3 + 1
    assert bp.mlp([2, 3, 1]).n_params == 13


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros(3), r"pass a 2-D array \(n_samples, 3\)"),
        (np.zeros((2, 2, 3)), "must be 2-D, got shape"),
        (np.zeros((2, 4)), "has 4 features but the network expects 3"),
        (np.zeros((0, 3)), "empty"),
    ],
)
def test_check_input_refuses_misshapen_inputs(X, match):
    net, _, _ = _net_and_data()
    with pytest.raises(ValueError, match=match):
        net.predict(X)


def test_check_input_with_runs():
    net = bp.mlp([3, 2, 1], runs=2)
    assert net.check_input(np.zeros((2, 5, 3))).shape == (2, 5, 3)
    assert net.check_input(np.zeros((5, 3))).dtype == np.float64
    with pytest.raises(ValueError, match="has 3 runs on its first axis but the network has 2"):
        net.check_input(np.zeros((3, 5, 3)))
    with pytest.raises(ValueError, match="must be 2-D or 3-D"):
        net.check_input(np.zeros((1, 2, 5, 3)))


def test_check_data_refuses_mismatched_targets():
    net, X, y = _net_and_data()
    with pytest.raises(ValueError, match="X has 6 samples but y has 5"):
        bp.loss_and_gradients(net, X, y[:5])
    stacked = bp.mlp([3, 4, 1], runs=2)
    with pytest.raises(ValueError, match="X has 2 runs but y has 3"):
        bp.loss_and_gradients(stacked, np.zeros((2, 6, 3)), np.zeros((3, 6)))
    with pytest.raises(TypeError, match="net must be a backproplab Network, got list"):
        bp.loss_and_gradients([], X, y)


def test_network_construction_rules():
    with pytest.raises(TypeError, match="non-empty sequence of Layer"):
        bp.Network([])
    with pytest.raises(TypeError, match="non-empty sequence of Layer"):
        bp.Network([bp.Dense(2, 1), "relu"])
    with pytest.raises(ValueError, match="at least one Dense"):
        bp.Network([bp.Sigmoid()])
    with pytest.raises(ValueError, match="share one runs axis"):
        bp.Network([bp.Dense(2, 2, runs=2), bp.Dense(2, 1, runs=3)])
    with pytest.raises(ValueError, match="share one runs axis"):
        bp.Network([bp.Dense(2, 2, runs=2), bp.Dense(2, 1)])
    with pytest.raises(ValueError, match="output"):
        bp.Network([bp.Dense(2, 1)], output="relu")
    net = bp.Network([bp.Sigmoid(), bp.Dense(2, 3, runs=2), bp.Tanh(), bp.Dense(3, 1, runs=2)], output="identity")
    assert (net.n_inputs, net.n_outputs, net.runs, net.output, net.dtype) == (2, 1, 2, "identity", np.float64)
    assert bp.Network([bp.Dense(2, 1)]).output == "sigmoid"  # the documented default


def test_backward_without_the_input_gradient_gives_the_same_parameter_gradients():
    net = bp.Network([bp.Tanh(), bp.Dense(3, 4), bp.Sigmoid(), bp.Dense(4, 2)], output="identity")
    X = np.random.default_rng(0).normal(size=(5, 3))
    dout = np.random.default_rng(1).normal(size=(5, 2))
    net.forward(X, train=True)
    dx = net.backward(dout)
    full = {name: g.copy() for name, g in net.grads.items()}
    assert dx.shape == X.shape
    net.forward(X, train=True)
    assert net.backward(dout, input_grad=False) is None
    for name, g in net.grads.items():
        np.testing.assert_array_equal(g, full[name])


def test_repr_and_config_describe_the_architecture():
    net = bp.mlp([2, 3, 1], runs=2, dtype="float32")
    assert net.to_config() == {"output": "sigmoid", "runs": 2, "dtype": "float32", "layers": [
        {"type": "Dense", "fan_in": 2, "fan_out": 3, "init": "he_normal"}, {"type": "Sigmoid"},
        {"type": "Dense", "fan_in": 3, "fan_out": 1, "init": "he_normal"}]}
    assert repr(net).endswith("], output='sigmoid', runs=2, dtype='float32')")
    assert repr(bp.mlp([2, 1])).endswith("], output='sigmoid', dtype='float64')")


def test_mlp_default_seed_is_zero_and_a_seed_list_sets_the_runs():
    for name, p in bp.mlp([2, 3, 1]).params.items():
        np.testing.assert_array_equal(p, bp.mlp([2, 3, 1], seed=0).params[name])
    net = bp.mlp([2, 3, 1], seed=[4, 0], batch_norm=True, dropout=0.1)
    assert net.runs == 2
    assert net.layers[1].params["gamma"].shape == (2, 1, 3)
    np.testing.assert_array_equal(net.params["0.W"][1], bp.mlp([2, 3, 1], seed=0).params["0.W"])


@pytest.mark.parametrize("seed", [[True], [1.5], [0, -1], (), np.array([1.0])])
def test_mlp_refuses_seed_lists_that_are_not_non_negative_ints(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative int or a non-empty sequence of them"):
        bp.mlp([2, 3, 1], seed=seed)


def test_a_stacked_softmax_run_that_overflows_reports_nan_without_a_warning():
    net = bp.Network([bp.Dense(1, 2, runs=2)], output="softmax")
    net.set_params({"0.W": [[[10.0, 10.0]], [[1.0, -1.0]]], "0.b": np.zeros((2, 1, 2))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = net.predict_proba([[1e308]])  # run 0: both logits inf, inf - inf is NaN
    assert np.isnan(p[0]).all()
    np.testing.assert_allclose(p[1], [[1.0, 0.0]])


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((2, 4, 3)), np.zeros((2, 4)), "X has 3 features but the network expects 2"),
        (np.zeros((2, 4, 2)), np.zeros((2, 4, 3)), "y has 3 columns but the network has 1 outputs"),
        (np.zeros((2, 4, 2)), np.zeros((2, 4, 1, 1)),
         "y has shape (2, 4, 1, 1); for inputs with 3 axes it needs 2 (one value per sample) "
         "or 3 (one row per sample)"),
    ],
)
def test_shape_errors_with_a_runs_axis_name_the_right_numbers(X, y, message):
    # With a runs axis the numbers sit on other axes than without: the message must still read them right.
    with pytest.raises(ValueError) as info:
        bp.loss_and_gradients(bp.mlp([2, 3, 1], runs=2), X, y)
    assert str(info.value) == message
