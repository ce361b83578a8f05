"""``fit(batch_order=...)``: another library's row order replayed, epoch by epoch."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    return X, (X[:, 0] > 0).astype(float)


def test_a_fixed_order_equals_training_on_the_rows_in_that_order():
    X, y = data()
    perm = np.random.default_rng(1).permutation(10)
    seen = []

    def order(epoch):
        seen.append(epoch)
        return perm

    a, b = bp.mlp([3, 4, 1], seed=0), bp.mlp([3, 4, 1], seed=0)
    ha = bp.fit(a, X, y, epochs=3, batch_size=4, batch_order=order, progress=False)
    hb = bp.fit(b, X[perm], y[perm], epochs=3, batch_size=4, shuffle=False, progress=False)
    assert seen == [1, 2, 3]
    np.testing.assert_array_equal(ha.loss, hb.loss)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def test_none_means_the_rows_in_their_own_order():
    X, y = data()
    a, b = bp.mlp([3, 4, 1], seed=0), bp.mlp([3, 4, 1], seed=0)
    bp.fit(a, X, y, epochs=2, batch_size=4, batch_order=lambda epoch: None, progress=False)
    bp.fit(b, X, y, epochs=2, batch_size=4, shuffle=False, progress=False)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    c = bp.mlp([3, 4, 1], seed=0)
    bp.fit(c, X, y, epochs=2, batch_size=4, progress=False)  # shuffled: a different path
    assert not all(np.array_equal(a.params[k], c.params[k]) for k in a.params)


def test_bad_batch_order_is_refused_before_any_work(tmp_path):
    X, y = data()
    net = bp.mlp([3, 4, 1], seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(TypeError, match="batch_order must be a function of the epoch, got list"):
        bp.fit(net, X, y, batch_order=[0, 1], progress=False)
    with pytest.raises(ValueError, match="batch_order cannot be combined with checkpoint"):
        bp.fit(net, X, y, batch_order=lambda e: None, checkpoint=tmp_path / "c.ckpt", progress=False)
    assert all(np.array_equal(before[k], net.params[k]) for k in before)
    assert not list(tmp_path.iterdir())
