"""The state door refuses what no network can hold (issue 20, item 10): checked before anything is written."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp


def net_with_batch_norm(runs=None):
    return bp.mlp([3, 4, 1], batch_norm=True, runs=runs, seed=0)


@pytest.mark.parametrize("state", [None, [("0.W", np.zeros((3, 4)))], "0.W", 3.0])
def test_a_state_that_is_not_a_dict_is_refused_with_a_type_error(state):
    net = net_with_batch_norm()
    with pytest.raises(TypeError, match=r"^state must be a dict of arrays as state_dict\(\) returns, got "):
        net.load_state_dict(state)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("entry", ["0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var", "3.W"])
@pytest.mark.parametrize("runs", [None, 2])
def test_non_finite_values_are_refused_naming_the_entry_and_nothing_is_written(entry, bad, runs):
    net = net_with_batch_norm(runs)
    before = net.state_dict(copy=True)
    state = net.state_dict(copy=True)
    for name in state:
        state[name] = state[name] + 0.5  # every entry changed: a partial write would show
    state[entry].flat[-1] = bad
    with pytest.raises(ValueError, match=rf"^state '{entry}' holds NaN or infinite values"):
        net.load_state_dict(state)
    assert all(np.array_equal(a, before[k]) for k, a in net.state_dict().items()), "nothing written"


@pytest.mark.parametrize("runs", [None, 2])
def test_a_negative_running_variance_is_refused(runs):
    net = net_with_batch_norm(runs)
    state = net.state_dict(copy=True)
    state["1.running_var"].flat[0] = -0.25
    state["0.W"] += 1.0
    with pytest.raises(ValueError, match=r"^state '1.running_var' holds a negative variance \(-0.25\)"):
        net.load_state_dict(state)
    assert not np.array_equal(net.params["0.W"], state["0.W"]), "nothing written"
    state["1.running_var"].flat[0] = 0.0  # zero is a variance (a constant feature); eps keeps the root finite
    net.load_state_dict(state)
    assert np.array_equal(net.params["0.W"], state["0.W"])


def test_the_layer_door_checks_the_same_rules():
    bn = bp.BatchNorm(2)
    with pytest.raises(ValueError, match="state 'running_var' holds a negative variance"):
        bn.load_state_dict({**bn.state_dict(), "running_var": -np.ones((1, 2))})
    with pytest.raises(TypeError, match="state 'gamma' must hold real numbers, got dtype <U1"):
        bn.load_state_dict({**bn.state_dict(), "gamma": np.array([["a", "b"]])})
    dense = bp.Dense(2, 3)
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \[\]"):
        dense.load_state_dict({"W": np.zeros((2, 3))})
    dense.load_state_dict({"W": np.ones((2, 3)), "b": np.ones((1, 3))})
    assert dense.params["W"].sum() == 6 and dense.state_dict()["W"] is dense.params["W"]


def test_a_refused_state_leaves_a_network_that_saves_and_loads(tmp_path):
    net = net_with_batch_norm()
    state = net.state_dict(copy=True)
    state["1.running_var"][...] = -1.0
    with pytest.raises(ValueError):
        net.load_state_dict(state)
    again = bp.load(net.save(tmp_path / "m.npz"))
    X = np.ones((2, 3))
    assert np.array_equal(again.predict_proba(X), net.predict_proba(X))
