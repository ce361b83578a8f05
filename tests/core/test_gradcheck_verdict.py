"""gradcheck's verdict on every kind of network: correct ones pass, injected backward bugs fail.

The networks cover what ``mlp`` builds: dropout, batch norm, ReLU (with its kink),
softmax and a runs axis, alone and together. Each bug is a wrong backward pass
injected into the layer class (a subclass swapped in, or a wrapped method), so
the forward pass, and with it the numerical gradient, stays right.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.layers import ACTIVATIONS, Dense, LeakyReLU, ReLU, Sigmoid
from backproplab.core.network import loss_and_gradients
from backproplab.core.regularization import BatchNorm, Dropout

XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float), np.array([0, 1, 1, 0])

#: Correct networks that once cried wolf, and the plain ones, by name: mlp options.
NETWORKS = {
    "plain": {},
    "dropout": {"dropout": 0.3},
    "batch_norm": {"batch_norm": True},
    "relu": {"activation": "relu"},
    "softmax": {"output": "softmax"},
    "runs": {"runs": 2},
    "everything": {"activation": "relu", "dropout": 0.3, "batch_norm": True, "output": "softmax", "runs": 2},
}


def network(options: dict, seed: int = 0) -> tuple[bp.Network, np.ndarray, np.ndarray]:
    """A 4-6-6-3 network with ``options`` (a square 6x6 weight for the transposed-gradient bug) and 12 rows."""
    net = bp.mlp([4, 6, 6, 3], seed=seed, **{"output": "sigmoid", **options})
    rng = np.random.default_rng(seed + 100)
    X = rng.normal(size=(12, 4))
    y = rng.integers(0, 3, 12) if net.output == "softmax" else rng.integers(0, 2, (12, 3))
    return net, X, y


def _mode(cls):
    """Record the forward mode, so a bug can act in training mode only."""
    def forward(self, x, *, train=True):
        self._bug_train = train
        return cls.forward(self, x, train=train)
    return forward


class DropoutUnscaledBackward(Dropout):
    """Backward multiplies by the 0/1 mask only: the 1 / (1 - rate) scaling is left out."""

    forward = _mode(Dropout)

    def backward(self, dout):
        dx = super().backward(dout)
        return dx * (1.0 - self.rate) if self._bug_train else dx


class BatchNormMissingTerm(BatchNorm):
    """Training-mode backward without the term through the variance, ``- x_hat * sum(dx_hat * x_hat)``."""

    def forward(self, x, *, train=True):
        self._bug_x, self._bug_train = x, train
        return super().forward(x, train=train)

    def backward(self, dout):
        dx = super().backward(dout)
        if not self._bug_train:
            return dx
        x = self._bug_x
        xc = x - x.mean(axis=-2, keepdims=True)
        inv_std = 1.0 / np.sqrt((xc * xc).mean(axis=-2, keepdims=True) + self.eps)
        x_hat = xc * inv_std
        return dx + inv_std * x_hat * (dout * self.params["gamma"] * x_hat).mean(axis=-2, keepdims=True)


def _wrong_activation(monkeypatch):
    """Every hidden activation's derivative 1.5 times too large."""
    for cls in ACTIVATIONS.values():
        original = cls.backward
        monkeypatch.setattr(cls, "backward", lambda self, dout, original=original: 1.5 * original(self, dout))


def _transposed_weight_gradient(monkeypatch):
    original = Dense.backward_params

    def backward_params(self, dout):
        original(self, dout)
        dW = self.grads["W"]
        if dW.shape[-1] == dW.shape[-2]:  # the bug only type-checks on square weights
            dW[...] = dW.swapaxes(-1, -2).copy()

    monkeypatch.setattr(Dense, "backward_params", backward_params)


def _bias_summed_over_wrong_axis(monkeypatch):
    original = Dense.backward_params

    def backward_params(self, dout):
        original(self, dout)
        # Over the features as well as the batch: every unit gets the layer's total.
        self.grads["b"][...] = dout.sum(axis=(-2, -1), keepdims=True)

    monkeypatch.setattr(Dense, "backward_params", backward_params)


def _swap(net: bp.Network, base: type, bug: type) -> None:
    for layer in net.layers:
        if type(layer) is base:
            layer.__class__ = bug


#: bug name -> (what the network must hold for the bug to exist, how to inject it)
BUGS = {
    "activation derivative": (None, lambda mp, net: _wrong_activation(mp)),
    "batch norm term": ("batch_norm", lambda mp, net: _swap(net, BatchNorm, BatchNormMissingTerm)),
    "dropout scaling": ("dropout", lambda mp, net: _swap(net, Dropout, DropoutUnscaledBackward)),
    "transposed dW": (None, lambda mp, net: _transposed_weight_gradient(mp)),
    "bias axis": (None, lambda mp, net: _bias_summed_over_wrong_axis(mp)),
}
CASES = [(bug, name) for bug, (needs, _) in BUGS.items() for name, options in NETWORKS.items()
         if needs is None or options.get(needs)]


@pytest.mark.parametrize("name", NETWORKS)
def test_correct_networks_pass_in_every_mode(name):
    net, X, y = network(NETWORKS[name])
    result = bp.gradcheck(net, X, y)
    assert result.passed, result
    assert sum(result.failed.values()) == 0
    expected = ("train", "eval") if {"dropout", "batch_norm"} & set(NETWORKS[name]) else ("train",)
    assert result.modes == expected
    assert len(result.details) == len(expected) * len(net.params)
    assert "PASSED" in repr(result)


@pytest.mark.parametrize(("bug", "name"), CASES)
def test_injected_backward_bugs_fail(monkeypatch, bug, name):
    net, X, y = network(NETWORKS[name])
    BUGS[bug][1](monkeypatch, net)
    result = bp.gradcheck(net, X, y)
    assert not result.passed, result
    assert sum(result.failed.values()) > 0
    assert repr(result).startswith("GradcheckResult(FAILED")


def test_dropout_bug_shows_in_training_mode_only(monkeypatch):
    # The check runs the function training differentiates (a mask) and the evaluation network (no mask).
    net, X, y = network({"dropout": 0.5})
    _swap(net, Dropout, DropoutUnscaledBackward)
    result = bp.gradcheck(net, X, y)
    failed = {mode: sum(d.failed for d in result.details if d.mode == mode) for mode in result.modes}
    assert failed["train"] > 0 and failed["eval"] == 0


def test_the_issue_dropout_network_passes_and_its_mask_is_applied():
    X, y = XOR
    net = bp.mlp([2, 8, 1], dropout=0.5, seed=0)
    result = bp.gradcheck(net, X, y)
    assert result.passed and result.max_error < 1e-9, result
    # Training mode really is masked: its gradient differs from evaluation mode's.
    train_grads = loss_and_gradients(net, X, y, train=True)[1]
    eval_grads = loss_and_gradients(net, X, y, train=False)[1]
    assert not np.allclose(train_grads["0.W"], eval_grads["0.W"])
    assert bp.gradcheck(net, X, y, train=True).modes == ("train",)
    assert bp.gradcheck(net, X, y, train=False).modes == ("eval",)


def test_batch_norm_bias_is_judged_by_the_absolute_tolerance():
    # A bias feeding batch norm has a true gradient of zero: both estimates are rounding noise, whose
    # relative error reads up to 1; the absolute part of the rule passes it, and says so.
    X, y = XOR
    net = bp.mlp([2, 8, 1], batch_norm=True, seed=0)
    result = bp.gradcheck(net, X, y)
    assert result.passed, result
    train_bias = next(d for d in result.details if d.name == "0.b" and d.mode == "train")
    # relative error above the rule's rtol (1e-6), absolute error far below its atol (1e-9)
    assert train_bias.error > 1e-6 and train_bias.max_abs_error < 1e-11
    assert result.rule == "|a - n| <= 1e-09 + 1e-06 * (|a| + |n|)" and result.rule in repr(result)
    assert not bp.gradcheck(net, X, y, atol=0).passed  # the same noise, judged relatively


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_entries_at_a_kink_are_counted_and_not_judged(activation):
    # Input (0, 0) with zero biases puts every first-layer unit exactly on the kink: moving a bias by
    # +-eps crosses it, moving a weight (multiplied by 0 there, by 1 elsewhere) does not.
    X, y = XOR
    net = bp.mlp([2, 8, 1], activation=activation, seed=0)
    result = bp.gradcheck(net, X, y)
    assert result.passed, result
    assert result.kinks == {"0.W": 0, "0.b": 8, "2.W": 0, "2.b": 0}
    assert result.n_kinks == 8 and "8 entries at a kink, not judged" in repr(result)


def test_kinks_do_not_hide_a_wrong_relu_derivative(monkeypatch):
    X, y = XOR
    net = bp.mlp([2, 8, 1], activation="relu", seed=0)
    monkeypatch.setattr(ReLU, "backward", lambda self, dout: dout)  # forgot the mask
    monkeypatch.setattr(LeakyReLU, "backward", lambda self, dout: dout)
    result = bp.gradcheck(net, X, y)
    assert not result.passed and result.failed["0.W"] > 0


def test_an_entry_whose_step_crosses_a_kink_is_found():
    # One unit, one row: z = w * 1 + b with b = -w, exactly 0; the step of w or b crosses it.
    net = bp.Network([bp.Dense(1, 1), ReLU(), bp.Dense(1, 1)], output="identity")
    net.params["0.b"][...] = -net.params["0.W"]
    net.params["2.W"][...] = 1.0
    result = bp.gradcheck(net, np.ones((1, 1)), np.ones((1, 1)))
    assert result.kinks == {"0.W": 1, "0.b": 1, "2.W": 0, "2.b": 0}  # 2.W's step moves no ReLU input
    assert result.passed


@pytest.mark.parametrize("size", [1e-3, 1e-6, 1e-7])
def test_a_gradient_10_percent_wrong_fails_at_any_size(monkeypatch, size):
    # MSE against targets a tiny step from the outputs makes every gradient about `size`.
    net = bp.mlp([3, 4, 2], activation="tanh", output="identity", seed=1)
    X = np.random.default_rng(0).normal(size=(6, 3))
    direction = np.random.default_rng(1).normal(size=(6, 2))
    z = net.forward(X, train=False)
    g = loss_and_gradients(net, X, z + direction)[1]
    y = z + direction * size / max(np.abs(v).max() for v in g.values())
    grads = loss_and_gradients(net, X, y)[1]
    assert size / 2 < max(np.abs(v).max() for v in grads.values()) < 2 * size
    assert bp.gradcheck(net, X, y).passed
    original = Dense.backward_params

    def ten_percent_off(self, dout):
        original(self, dout)
        self.grads["W"] *= 1.1

    monkeypatch.setattr(Dense, "backward_params", ten_percent_off)
    result = bp.gradcheck(net, X, y)
    assert not result.passed, result
    assert result.failed["0.W"] + result.failed["2.W"] > 0


def test_no_side_effects_on_params_grads_buffers_or_dropout_masks():
    net, X, y = network(NETWORKS["everything"])
    twin, _, _ = network(NETWORKS["everything"])
    loss_and_gradients(net, X, y)
    loss_and_gradients(twin, X, y)
    before = {"params": net.copy_params(), "grads": {k: g.copy() for k, g in net.grads.items()},
              "buffers": {k: b.copy() for k, b in net.buffers.items()}}
    arrays = net.params  # the network's own arrays, which gradcheck must not replace
    bp.gradcheck(net, X, y)
    for what, values in before.items():
        for name, value in values.items():
            np.testing.assert_array_equal(getattr(net, what)[name], value, err_msg=f"{what} {name}")
    assert all(net.params[name] is p for name, p in arrays.items())
    # The dropout generators continue where they were: the next training step equals the twin's.
    np.testing.assert_array_equal(net.forward(X, train=True), twin.forward(X, train=True))
    np.testing.assert_array_equal(net.buffers["1.running_mean"], twin.buffers["1.running_mean"])


def test_a_cached_dropout_mask_is_used_and_kept():
    # With reuse_mask the last training mask is reused: the check differentiates that mask, and keeps it.
    net, X, y = network({"dropout": 0.5})
    twin, _, _ = network({"dropout": 0.5})
    for model in (net, twin):
        for layer in model.layers:
            if isinstance(layer, Dropout):
                layer.reuse_mask = True
        loss_and_gradients(model, X, y)  # draws and caches a mask
    assert bp.gradcheck(net, X, y).passed
    np.testing.assert_array_equal(net.forward(X, train=True), twin.forward(X, train=True))


def test_the_playground_relu_check_passes():
    from backproplab.web.session import Session, Settings

    report = Session(Settings(activation="relu")).check_gradients()
    assert report["passed"] and "at a kink" in report["text"]


def test_max_rows_draws_a_seeded_mini_batch(monkeypatch):
    net, X, y = network({})
    seen = []
    original = Sigmoid.forward
    monkeypatch.setattr(Sigmoid, "forward", lambda self, x, *, train=True: seen.append(x.shape) or
                        original(self, x, train=train))
    assert bp.gradcheck(net, X, y, max_rows=5, max_checks=1).passed
    assert {shape[-2] for shape in seen} == {5}


@settings(max_examples=15, deadline=None)
@given(hidden=st.lists(st.integers(1, 5), min_size=1, max_size=2), activation=st.sampled_from(sorted(ACTIVATIONS)),
       dropout=st.sampled_from([0.0, 0.5]), batch_norm=st.booleans(), output=st.sampled_from(["sigmoid", "softmax"]),
       runs=st.sampled_from([None, 2]), rows=st.integers(2, 7), seed=st.integers(0, 2**16))
def test_correct_networks_of_any_shape_pass(hidden, activation, dropout, batch_norm, output, runs, rows, seed):
    k = 3 if output == "softmax" else 1
    net = bp.mlp([3, *hidden, k], activation=activation, output=output, dropout=dropout, batch_norm=batch_norm,
                 runs=runs, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    y = rng.integers(0, k, rows) if output == "softmax" else rng.integers(0, 2, rows)
    result = bp.gradcheck(net, X, y)
    assert result.passed or sum(result.checked.values()) * len(result.modes) == result.n_kinks, result


def test_each_run_is_differenced_on_its_own_loss():
    # Run 1's loss is ~1e8: in a sum of the runs' losses its rounding (~1e-11 even in extended precision,
    # 5e-5 after dividing by 2 eps) would swamp run 0's gradients. Run 0's entries move run 0's loss only.
    net = bp.mlp([3, 4, 1], activation="tanh", output="identity", seed=0, runs=2)
    X = np.repeat(np.random.default_rng(0).normal(size=(1, 5, 3)), 2, axis=0)  # (2, 5, 3)
    y = net.forward(X, train=False) + np.array([0.5, 1e4])[:, None, None]  # (2, 5, 1): per-run targets
    result = bp.gradcheck(net, X, y)
    assert result.passed, result
