"""Each optimizer against its closed-form single step, a scalar reference over many steps, and the runs axis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.core.optim import SGD, Adam, AdamW, RMSprop, get_optimizer


def _one_step(opt, p0, g):
    p = np.array(p0, dtype=np.float64)
    opt.step({"w": p}, {"w": np.array(g, dtype=np.float64)})
    return p


P0 = np.array([[0.5, -1.5, 2.0]])
G = np.array([[0.3, -0.2, 4.0]])


def test_sgd_first_step():
    np.testing.assert_allclose(_one_step(SGD(0.1), P0, G), P0 - 0.1 * G)


def test_heavy_ball_first_step_equals_sgd_then_accumulates():
    opt = SGD(0.1, momentum=0.9)
    p = _one_step(opt, P0, G)
    np.testing.assert_allclose(p, P0 - 0.1 * G)
    opt.step({"w": p}, {"w": G})  # v = 0.9 g + g
    np.testing.assert_allclose(p, P0 - 0.1 * G - 0.1 * 1.9 * G)


def test_nesterov_first_step():
    np.testing.assert_allclose(_one_step(SGD(0.1, 0.9, nesterov=True), P0, G), P0 - 0.1 * (1 + 0.9) * G)


def test_rmsprop_first_step():
    rho, eps = 0.9, 1e-8
    s = (1 - rho) * G**2
    np.testing.assert_allclose(_one_step(RMSprop(0.01, rho, eps), P0, G), P0 - 0.01 * G / (np.sqrt(s) + eps))


def test_adam_first_step_moves_every_entry_by_lr():
    # Bias correction makes m_hat = g and v_hat = g**2, so the step is lr * sign(g) (up to eps).
    p = _one_step(Adam(0.01, eps=1e-300), P0, G)
    np.testing.assert_allclose(p, P0 - 0.01 * np.sign(G))


def test_adamw_first_step_decays_then_steps():
    lr, wd = 0.01, 0.1
    p = _one_step(AdamW(lr, eps=1e-300, weight_decay=wd), P0, G)
    np.testing.assert_allclose(p, P0 * (1 - lr * wd) - lr * np.sign(G))


def test_coupled_weight_decay_adds_l2_gradient():
    wd = 0.05
    for make in (lambda: SGD(0.1, 0.9), lambda: RMSprop(0.01), lambda: Adam(0.01)):
        opt_a = make()
        opt_a.weight_decay = wd
        opt_b = make()
        np.testing.assert_allclose(_one_step(opt_a, P0, G), _one_step(opt_b, P0, G + wd * P0))


def test_weight_decay_acts_after_clipping():
    # clip_value bounds the loss gradient only; the decay term is added afterwards.
    p = _one_step(SGD(1.0, clip_value=0.1, weight_decay=0.5), P0, G)
    np.testing.assert_allclose(p, P0 - (np.clip(G, -0.1, 0.1) + 0.5 * P0))


def _scalar_reference(name, g_seq, p, lr, **kw):
    """The update rules again, written on Python floats, one parameter entry at a time."""
    m = v = 0.0
    for t, g in enumerate(g_seq, start=1):
        if name == "sgd":
            p -= lr * g
        elif name == "momentum":
            v = kw["momentum"] * v + g
            p -= lr * v
        elif name == "nesterov":
            v = kw["momentum"] * v + g
            p -= lr * (g + kw["momentum"] * v)
        elif name == "rmsprop":
            v = kw["rho"] * v + (1 - kw["rho"]) * g * g
            p -= lr * g / (math.sqrt(v) + 1e-8)
        elif name in ("adam", "adamw"):
            if name == "adamw":
                p -= lr * kw["weight_decay"] * p
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            p -= lr * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return p


CASES = {
    "sgd": (lambda: SGD(0.05), {}),
    "momentum": (lambda: SGD(0.05, momentum=0.8), {"momentum": 0.8}),
    "nesterov": (lambda: SGD(0.05, momentum=0.8, nesterov=True), {"momentum": 0.8}),
    "rmsprop": (lambda: RMSprop(0.05, rho=0.9), {"rho": 0.9}),
    "adam": (lambda: Adam(0.05), {}),
    "adamw": (lambda: AdamW(0.05, weight_decay=0.1), {"weight_decay": 0.1}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ten_steps_match_scalar_reference(name):
    make, kw = CASES[name]
    rng = np.random.default_rng(1)
    g_seq = rng.standard_normal((10, 2, 3))
    p = rng.standard_normal((2, 3))
    expected = np.vectorize(lambda i, j: _scalar_reference(name, g_seq[:, i, j], p[i, j], 0.05, **kw))(
        *np.indices(p.shape)
    )
    opt = make()
    for g in g_seq:
        opt.step({"w": p}, {"w": g})
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)
    assert opt.t == 10


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(CASES)), runs=st.integers(1, 4), rows=st.integers(1, 4), cols=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_stacked_runs_equal_separate_runs(name, runs, rows, cols, seed):
    make, _ = CASES[name]
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((runs, rows, cols))
    gs = rng.standard_normal((3, runs, rows, cols))
    stacked, opt = p.copy(), make()
    separate = [p[r].copy() for r in range(runs)]
    opts = [make() for _ in range(runs)]
    for g in gs:
        opt.step({"w": stacked}, {"w": g})
        for r in range(runs):
            opts[r].step({"w": separate[r]}, {"w": g[r]})
    np.testing.assert_allclose(stacked, np.stack(separate), rtol=1e-13, atol=1e-15)


def test_step_never_modifies_the_gradients():
    g = G.copy()
    Adam(0.1, weight_decay=0.1, clip_norm=0.5).step({"w": P0.copy()}, {"w": g})
    np.testing.assert_array_equal(g, G)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(0.1, momentum=1.0), "momentum"),
        (lambda: SGD(0.1, momentum=-0.1), "momentum"),
        (lambda: SGD(0.1, nesterov=True), "nesterov"),
        (lambda: RMSprop(0.1, rho=1.5), "rho"),
        (lambda: Adam(0.1, beta1=1.0), "beta1"),
        (lambda: Adam(0.1, beta2=-1), "beta2"),
        (lambda: Adam(0.1, eps=0), "eps"),
        (lambda: AdamW(0.1, weight_decay=-1), "weight_decay"),
        (lambda: Adam(-1.0), "lr"),
        (lambda: get_optimizer("adagrad", 0.1), "adagrad"),
    ],
)
def test_bad_hyper_parameters_fail_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_get_optimizer_short_names():
    nesterov = get_optimizer("nesterov", 0.1)
    assert isinstance(nesterov, SGD) and nesterov.nesterov and nesterov.momentum == 0.9
    assert get_optimizer("momentum", 0.1, momentum=0.5).momentum == 0.5
    assert isinstance(get_optimizer("adamw", 0.1), AdamW)
    assert "beta1=0.9" in repr(get_optimizer("adam", 0.1))
