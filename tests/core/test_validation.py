"""Bad input is refused before any work, with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


def fit(net=None, X=X, y=Y, **kwargs):
    kwargs.setdefault("epochs", 2)
    kwargs.setdefault("progress", False)
    return bp.fit(net or bp.mlp([2, 3, 1]), X, y, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"y": [0, 1, 1]}, ValueError, "X has 4 samples but y has 3"),
        ({"X": np.ones((4, 3))}, ValueError, "X has 3 features but the network expects 2"),
        ({"X": np.ones(2)}, ValueError, r"pass a 2-D array"),
        ({"X": np.ones((2, 4, 2))}, ValueError, r"X must be 2-D"),
        ({"X": [[0, np.nan], [0, 1], [1, 0], [1, 1]]}, ValueError, r"X contains NaN.*\(first at index \(0, 1\)\)"),
        ({"X": [[0, np.inf], [0, 1], [1, 0], [1, 1]]}, ValueError, "X contains NaN or infinity"),
        ({"y": [0, 1, np.nan, 0]}, ValueError, "y contains NaN or infinity"),
        ({"y": [0, 1, 2, 0]}, ValueError, r"labels in \{0, 1\}"),
        ({"y": [-1, 1, 1, 0]}, ValueError, r"labels in \{0, 1\}"),
        ({"X": np.empty((0, 2)), "y": []}, ValueError, "X is empty"),
        ({"X": [["a", "b"]] * 4}, TypeError, "X must be numeric"),
        ({"X": X + 1j}, TypeError, "X must be real"),
        ({"X": [[0, 1], [1]]}, ValueError, "rectangular"),
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
        ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'; known: binary_cross_entropy, cross_entropy, mse"),
        ({"loss": "mse"}, ValueError, "pairs with a 'identity' output"),
        ({"optimizer": "sgd"}, TypeError, "optimizer must be a backproplab Optimizer"),
        ({"callbacks": [print]}, TypeError, "callbacks must be Callback instances"),
    ],
)
def test_fit_refuses_bad_input_before_any_work(kwargs, error, message):
    net = bp.mlp([2, 3, 1])
    before = net.copy_params()
    with pytest.raises(error, match=message):
        fit(net, **kwargs)
    for name, p in net.params.items():  # nothing was trained
        np.testing.assert_array_equal(p, before[name])


def test_softmax_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match=r"integer labels in 0\.\.2.*\[5\.0\]"):
        fit(bp.mlp([2, 3, 3], output="softmax"), y=[0, 1, 5, 2])


def test_per_run_inputs_must_match_the_runs():
    with pytest.raises(ValueError, match="X has 2 runs on its first axis but the network has 3"):
        fit(bp.mlp([2, 3, 1], runs=3), X=np.ones((2, 4, 2)))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sizes": [2]}, ValueError, "at least an input and an output"),
        ({"sizes": "2-8-1"}, TypeError, "sizes must be a sequence"),
        ({"sizes": [2, 0, 1]}, ValueError, r"sizes\[1\] must be an integer >= 1, got 0"),
        ({"activation": "swish"}, ValueError, "unknown activation 'swish'; known: identity, leaky_relu, relu, sigm"),
        ({"output": "relu"}, ValueError, "unknown output 'relu'; known: identity, sigmoid, softmax"),
        ({"init": "zeros"}, ValueError, "unknown init 'zeros'; known: glorot_normal, glorot_uniform, he_normal, he_"),
        ({"dtype": "float16"}, ValueError, r"dtype must be one of \('float32', 'float64'\)"),
        ({"runs": 0}, ValueError, "runs must be an integer >= 1"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": [1, 2], "runs": 3}, ValueError, "runs=3 but 2 seeds"),
    ],
)
def test_mlp_refuses_bad_arguments(kwargs, error, message):
    args = {"sizes": [2, 3, 1], **kwargs}
    with pytest.raises(error, match=message):
        bp.mlp(**args)


def test_predict_checks_its_input():
    net = bp.mlp([2, 3, 1])
    with pytest.raises(ValueError, match="X has 5 features but the network expects 2"):
        net.predict(np.ones((1, 5)))
    with pytest.raises(ValueError, match="NaN"):
        net.predict_proba([[np.nan, 0]])


def test_loss_and_gradients_checks_its_input():
    with pytest.raises(TypeError, match="net must be a backproplab Network"):
        bp.loss_and_gradients("net", X, Y)
    with pytest.raises(ValueError, match="y has 2 columns but the network has 1 outputs"):
        bp.loss_and_gradients(bp.mlp([2, 3, 1]), X, np.ones((4, 2)))
