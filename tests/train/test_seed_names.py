"""Each seed says what it seeds: ``fit(shuffle_seed=)``, ``gradcheck(sample_seed=)``; the old ``seed=`` still works."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import logic_table


def test_fit_shuffle_seed_and_its_earlier_name_give_the_same_run():
    X, y = logic_table("xor")
    a, b = bp.mlp([2, 4, 1], seed=0), bp.mlp([2, 4, 1], seed=0)
    ha = bp.fit(a, X, y, epochs=20, batch_size=1, shuffle_seed=5, progress=False)
    with pytest.warns(DeprecationWarning, match=r"fit\(seed=...\) is now fit\(shuffle_seed=...\)"):
        hb = bp.fit(b, X, y, epochs=20, batch_size=1, seed=5, progress=False)
    assert np.array_equal(ha.loss, hb.loss) and np.array_equal(a.params["0.W"], b.params["0.W"])
    c = bp.mlp([2, 4, 1], seed=0)
    hc = bp.fit(c, X, y, epochs=20, batch_size=1, shuffle_seed=6, progress=False)
    assert not np.array_equal(ha.loss, hc.loss), "the seed reaches the shuffling"


def test_gradcheck_sample_seed_and_its_earlier_name_draw_the_same_entries():
    X, y = logic_table("xor")
    net = bp.mlp([2, 8, 1], seed=0)
    new = bp.gradcheck(net, X, y, max_checks=3, sample_seed=4)
    with pytest.warns(DeprecationWarning, match=r"gradcheck\(seed=...\) is now gradcheck\(sample_seed=...\)"):
        old = bp.gradcheck(net, X, y, max_checks=3, seed=4)
    assert new.worst_index == old.worst_index and new.errors == old.errors


@pytest.mark.parametrize("call", ["fit", "gradcheck"])
def test_both_names_at_once_are_refused(call):
    X, y = logic_table("xor")
    net = bp.mlp([2, 4, 1])
    with pytest.raises(TypeError, match=r"takes (shuffle|sample)_seed or its earlier name seed, not both"):
        if call == "fit":
            bp.fit(net, X, y, epochs=1, shuffle_seed=1, seed=2, progress=False)
        else:
            bp.gradcheck(net, X, y, sample_seed=1, seed=2)
