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


# --- one door for every piece of state (issue 21, part 2) -------------------------------------
def test_no_module_reads_or_writes_another_objects_vars():
    from pathlib import Path

    src = Path(bp.__file__).parent
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py") if "vars(" in p.read_text()]
    assert offenders == []


@pytest.mark.parametrize("seed", [3, [3, 4]])
def test_dropout_generators_go_through_the_door(seed):
    X = np.ones((5, 3))
    net = bp.mlp([3, 4, 1], dropout=0.5, seed=seed)
    state = net.state_dict(generators=True)
    assert [k for k in state if ".rng." in k] == [f"2.rng.{k}" for k in range(1 if isinstance(seed, int) else 2)]
    assert "2.rng.0" not in net.state_dict(), "a model file keeps arrays only"
    first = net.forward(X, train=True)
    assert not np.array_equal(first, net.forward(X, train=True)), "a new mask"
    net.load_state_dict(state)
    assert np.array_equal(first, net.forward(X, train=True)), "the generators went back"


def test_a_bad_generator_state_is_refused_naming_it_before_anything_is_written():
    net = bp.mlp([3, 4, 1], dropout=0.5)
    state = net.state_dict(copy=True, generators=True)
    state["0.W"] += 1
    state["2.rng.0"] = {"bit_generator": "PCG64", "state": "nonsense"}
    with pytest.raises(ValueError, match=r"state '2\.rng\.0' is not a usable generator state"):
        net.load_state_dict(state)
    assert not np.array_equal(net.params["0.W"], state["0.W"])


def test_the_optimizer_door_refuses_what_it_cannot_hold():
    opt = bp.SGD(0.1, momentum=0.9)
    with pytest.raises(TypeError, match="optimizer state must be a dict with keys 't' and 'buffers'"):
        opt.load_state_dict(None)
    with pytest.raises(ValueError, match="'t' must be an int >= 0"):
        opt.load_state_dict({"t": -1, "buffers": {}})
    with pytest.raises(TypeError, match=r"0\.W/velocity must hold real numbers"):
        opt.load_state_dict({"t": 1, "buffers": {"0.W": {"velocity": np.array(["x"])}}})
    opt.load_state_dict({"t": 3, "buffers": {"0.W": {"velocity": np.ones(2)}}})
    assert opt.t == 3 and np.array_equal(opt.state_dict()["buffers"]["0.W"]["velocity"], np.ones(2))


def test_gradcheck_leaves_the_network_and_its_generators_as_they_were():
    X, y = np.random.default_rng(0).normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    net = bp.mlp([3, 4, 1], dropout=0.5, batch_norm=True, seed=[1, 2])
    before = net.state_dict(copy=True, generators=True)
    assert bp.gradcheck(net, X, y).passed
    after = net.state_dict(generators=True)
    assert before.keys() == after.keys()
    assert all(np.array_equal(v, after[k]) if isinstance(v, np.ndarray) else v == after[k] for k, v in before.items())


def test_a_single_run_copy_draws_the_masks_of_that_run_alone():
    X = np.ones((5, 3))
    stacked = bp.mlp([3, 4, 1], dropout=0.5, seed=[5, 6, 7])
    one = stacked.single_run_copy(1)
    alone = bp.mlp([3, 4, 1], dropout=0.5, seed=6)
    assert one.runs is None and one.to_config() == alone.to_config()
    assert np.array_equal(one.forward(X, train=True), alone.forward(X, train=True))
    with pytest.raises(ValueError, match=r"run must be an int in \[0, 3\), got 3"):
        stacked.single_run_copy(3)


def test_fit_refuses_a_network_whose_weights_are_already_not_finite():
    from backproplab.data import logic_table

    X, y = logic_table("xor")
    net = bp.mlp([2, 4, 1])
    net.params["0.W"][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^net cannot be trained: state '0\.W' holds NaN or infinite values"):
        bp.fit(net, X, y, epochs=3, batch_size=2, progress=False)
