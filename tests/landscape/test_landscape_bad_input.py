"""Bad input to the library: one clear error naming the parameter and the value, before any work."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import logic_table
from backproplab.landscape import hessian, interpolate, plane, random_directions, spectrum

X, y = logic_table("xor")


@pytest.mark.parametrize(("d1", "message"), [
    (np.zeros(32), r"d1 has shape \(32,\); expected \(33,\)"),
    (np.zeros((2, 33)), r"d1 has shape \(2, 33\); expected \(33,\)"),
    ({"0.W": np.zeros((2, 8))}, r"d1 must name the parameters \['0.W', '0.b', '2.W', '2.b'\]"),
    ({"0.W": np.zeros((8, 2)), "0.b": np.zeros((1, 8)), "2.W": np.zeros((8, 1)), "2.b": np.zeros((1, 1))},
     r"d1\['0.W'\] has shape \(8, 2\), expected \(2, 8\)"),
    (np.full(33, np.nan), "d1 holds NaN"),
])
def test_a_direction_of_the_wrong_shape_is_refused(d1, message):
    net = bp.mlp([2, 8, 1], seed=0)
    with pytest.raises(ValueError, match=message):
        plane(net, X, y, d1, np.zeros(33))


def test_a_100k_parameter_hessian_is_refused_with_an_estimate_before_any_work(monkeypatch):
    net = bp.mlp([784, 126, 10], output="softmax", seed=0)  # 100,180 parameters: 80 GB of Hessian
    assert net.n_params > 100_000

    def never(*args, **kwargs):
        raise AssertionError("evaluated points before refusing")

    monkeypatch.setattr(sys.modules["backproplab.landscape.hessian"], "evaluate", never)
    with pytest.raises(ValueError, match=r"Hessian of a network with 100,180 parameters .* needs 80\.3 GB"):
        hessian(net, np.zeros((2, 784)), [0, 1], max_bytes=24 * 2**30)
    with pytest.raises(ValueError, match=r"needs 80\.3 GB but only"):
        hessian(net, np.zeros((2, 784)), [0, 1])  # the memory available now is far less than 80 GB


def test_a_plane_too_large_for_the_memory_is_refused():
    net = bp.mlp([2, 8, 1], seed=0)
    d1, d2 = random_directions(net)
    with pytest.raises(ValueError, match=r"steps must be at most 1001"):
        plane(net, X, y, d1, d2, steps=5000)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"span": -1.0}, "span"), ({"span": float("nan")}, "span"), ({"steps": 1}, "steps"), ({"steps": 2.5}, "steps"),
])
def test_plane_refuses_bad_span_and_steps(kwargs, message):
    net = bp.mlp([2, 8, 1], seed=0)
    d1, d2 = random_directions(net)
    with pytest.raises((ValueError, TypeError), match=message):
        plane(net, X, y, d1, d2, **kwargs)


def test_interpolate_refuses_another_architecture_and_bad_data():
    with pytest.raises(ValueError, match="net_b must be a Network of net_a's architecture"):
        interpolate(bp.mlp([2, 8, 1]), bp.mlp([2, 4, 1]), X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        interpolate(bp.mlp([2, 8, 1]), bp.mlp([2, 8, 1]), np.zeros((4, 3)), y)


def test_hessian_refuses_a_bad_step_and_spectrum_a_non_square_matrix():
    with pytest.raises(ValueError, match="step"):
        hessian(bp.mlp([2, 2, 1]), X, y, step=0)
    with pytest.raises(ValueError, match=r"hessian needs a float64 network .* this one is float32"):
        hessian(bp.mlp([2, 2, 1], dtype="float32"), X, y)
    with pytest.raises(ValueError, match=r"H must be square, \(P, P\) or \(R, P, P\), got shape \(2, 3\)"):
        spectrum(np.zeros((2, 3)))
