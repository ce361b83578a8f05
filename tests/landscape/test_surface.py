"""Planes, lines and directions: every value equals a direct loss_and_gradients at its point (to 1e-12)."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import logic_table
from backproplab.landscape import (
    flatten,
    interpolate,
    pca_directions,
    plane,
    project,
    random_directions,
    unflatten,
)
from backproplab.landscape.points import as_direction

X, y = logic_table("xor")


def loss_at(net: bp.Network, theta: np.ndarray, X=X, y=y, loss=None) -> float:
    """The loss at flat point ``theta`` by the plain route: a fresh network, load_state_dict, loss_and_gradients."""
    copy = bp.Network.from_config({**net.to_config(), "runs": None})
    copy.load_state_dict(unflatten(copy, theta))
    value, _ = bp.loss_and_gradients(copy, X, y, loss, train=False)
    return float(value)


@pytest.mark.parametrize(("output", "targets"), [("sigmoid", y), ("softmax", y), ("identity", y.astype(float))])
def test_plane_values_equal_direct_evaluations(output, targets):
    net = bp.mlp([2, 8, 2 if output == "softmax" else 1], output=output, seed=4)
    before = net.state_dict(copy=True)
    d1, d2 = random_directions(net, seed=7)
    p = plane(net, X, targets, d1, d2, span=1.5, steps=11)
    assert p.loss.shape == p.accuracy.shape == (11, 11)
    theta = flatten(net)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 11, size=(8, 2)):
        point = theta + p.alphas[j] * d1 + p.betas[i] * d2
        assert abs(p.loss[i, j] - loss_at(net, point, y=targets)) < 1e-12
    assert np.ptp(p.loss) > 1e-2  # the plane is not flat: the check above could fail
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())
    if output == "identity":
        assert np.isnan(p.accuracy).all()
    else:
        assert set(np.unique(p.accuracy)) <= {0.0, 0.25, 0.5, 0.75, 1.0}


def test_plane_accepts_directions_shaped_like_the_parameters():
    net = bp.mlp([2, 3, 1], seed=0)
    d1, d2 = random_directions(net, seed=1, biases="copy")
    flat = plane(net, X, y, d1, d2, span=1.0, steps=5)
    shaped = plane(net, X, y, unflatten(net, d1), unflatten(net, d2), span=1.0, steps=5)
    np.testing.assert_array_equal(flat.loss, shaped.loss)


def test_plane_on_the_runs_axis_is_each_runs_own():
    nets = bp.mlp([2, 4, 1], seed=10, runs=3)
    d1, d2 = random_directions(nets, seed=2)
    p = plane(nets, X, y, d1, d2, span=0.5, steps=7)
    assert p.loss.shape == (3, 7, 7)
    for r in range(3):
        single = bp.mlp([2, 4, 1], seed=10 + r)
        q = plane(single, X, y, d1[r], d2[r], span=0.5, steps=7)
        np.testing.assert_allclose(p.loss[r], q.loss, rtol=0, atol=1e-12)


def test_plane_evaluates_in_small_chunks_alike(monkeypatch):
    import backproplab.landscape.points as points

    net = bp.mlp([2, 8, 1], seed=0)
    d1, d2 = random_directions(net, seed=0)
    whole = plane(net, X, y, d1, d2, steps=9)
    monkeypatch.setattr(points, "chunk_size", lambda *a, **k: 7)  # 81 points: 11 chunks, the last one padded
    np.testing.assert_array_equal(plane(net, X, y, d1, d2, steps=9).loss, whole.loss)


def test_interpolate_values_equal_direct_evaluations():
    a, b = bp.mlp([2, 8, 1], seed=0), bp.mlp([2, 8, 1], seed=1)
    line = interpolate(a, b, X, y, steps=21)
    ta, tb = flatten(a), flatten(b)
    for k in (0, 3, 10, 20):
        t = line.ts[k]
        assert abs(line.loss[k] - loss_at(a, (1 - t) * ta + t * tb)) < 1e-12
    assert line.loss[0] == pytest.approx(loss_at(a, ta), abs=1e-12)
    assert line.loss[-1] == pytest.approx(loss_at(b, tb), abs=1e-12)


def test_interpolate_on_the_runs_axis():
    a, b = bp.mlp([2, 4, 1], seed=0, runs=2), bp.mlp([2, 4, 1], seed=5, runs=2)
    line = interpolate(a, b, X, y, steps=5)
    single = interpolate(bp.mlp([2, 4, 1], seed=1), bp.mlp([2, 4, 1], seed=6), X, y, steps=5)
    np.testing.assert_allclose(line.loss[1], single.loss, rtol=0, atol=1e-12)


def test_filter_normalised_directions_follow_li_et_al():
    net = bp.mlp([2, 8, 3, 1], seed=0)
    d1, d2 = random_directions(net, seed=3)
    parts = unflatten(net, d1)
    for name, w in net.params.items():
        if name.endswith(".W"):  # each unit's incoming weights (a column) has the weights' column norm
            np.testing.assert_allclose(np.linalg.norm(parts[name], axis=0), np.linalg.norm(w, axis=0))
        else:
            assert not parts[name].any()
    assert not np.allclose(d1, d2)
    np.testing.assert_array_equal(random_directions(net, seed=3)[0], d1)  # seeded
    copied = unflatten(net, random_directions(net, seed=3, biases="copy")[0])
    np.testing.assert_array_equal(copied["0.b"], net.params["0.b"])


def test_pca_directions_recover_a_planar_path():
    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.normal(size=(20, 2)))[0].T
    t = np.linspace(0, 1, 30)[:, None]
    path = 3 * (1 - t) * u + np.sin(4 * t) * v  # ends at the origin, lies in span(u, v)
    d1, d2, explained = pca_directions(path)
    assert explained.sum() == pytest.approx(1.0)
    assert abs(d1 @ d2) < 1e-12 and np.linalg.norm(d1) == pytest.approx(1.0)
    coords = project(path, path[-1], d1, d2)
    back = path[-1] + coords[:, :1] * d1 + coords[:, 1:] * d2
    np.testing.assert_allclose(back, path, atol=1e-12)
    assert coords[0, 0] >= 0 and coords[0, 1] >= 0


def test_as_direction_shares_a_flat_direction_across_runs():
    nets = bp.mlp([2, 3, 1], seed=0, runs=4)
    d = as_direction(nets, np.ones(13))
    assert d.shape == (4, 13)
