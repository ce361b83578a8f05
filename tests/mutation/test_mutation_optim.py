"""Optimizers: clipping on both sides of its threshold, every argument taking effect, defaults as documented."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from backproplab.core.optim import SGD, Adam, AdamW, RMSprop, clip_scale, get_optimizer, global_norm


def _run(opt, steps, p0=(0.5, -1.0, 2.0)):
    """``opt`` applied to one parameter over a sequence of gradients; returns the final parameter."""
    p = np.array([p0], dtype=np.float64)
    for g in steps:
        opt.step({"w": p}, {"w": np.array([g], dtype=np.float64)})
    return p


# Gradients of very different sizes, the smallest near eps = 1e-8 so that eps shows in the step.
STEPS = [(0.3, -2e-8, 4.0), (-0.1, 1e-8, 0.5), (0.2, 3e-8, -1.0)]


# --- clipping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("norm", [0.3, 0.5])
def test_clip_norm_leaves_a_gradient_at_or_below_the_threshold_alone(norm):
    g = np.array([[0.6, 0.8]]) * norm  # global norm `norm`
    p = _run(SGD(1.0, clip_norm=0.5), [g[0]], p0=(0.0, 0.0))
    np.testing.assert_allclose(p, -g, rtol=1e-15)


def test_clip_norm_scales_a_gradient_above_the_threshold_down_to_it():
    g = np.array([1.2, 1.6])  # norm 2
    p = _run(SGD(1.0, clip_norm=0.5), [g], p0=(0.0, 0.0))
    np.testing.assert_allclose(p, [-g / 4], rtol=1e-15)
    assert np.linalg.norm(p) == pytest.approx(0.5)


def test_clip_norm_of_a_zero_gradient_is_a_zero_step():
    p = _run(SGD(1.0, clip_norm=0.5), [(0.0, 0.0)], p0=(1.0, 2.0))
    np.testing.assert_array_equal(p, [[1.0, 2.0]])


def test_clip_norm_per_run_below_and_above_a_threshold_under_one():
    # run 0: norm 0.25 < 0.5, untouched; run 1: norm 2.5, scaled by 0.2
    grads = {"a": np.array([[[0.15]], [[1.5]]]), "b": np.array([[[0.2]], [[2.0]]])}
    np.testing.assert_allclose(global_norm(grads), [0.25, 2.5])
    scale = clip_scale(grads, 0.5)
    assert scale.shape == (2, 1, 1)
    np.testing.assert_allclose(scale.ravel(), [1.0, 0.2])
    p = {"a": np.zeros((2, 1, 1)), "b": np.zeros((2, 1, 1))}
    SGD(1.0, clip_norm=0.5).step(p, grads)
    np.testing.assert_allclose(p["a"].ravel(), [-0.15, -0.3])
    np.testing.assert_allclose(p["b"].ravel(), [-0.2, -0.4])


def test_global_norm_and_clip_scale_without_runs_are_plain_floats():
    grads = {"a": np.array([[0.3, 0.0]]), "b": np.array([[0.4]])}
    assert global_norm(grads) == pytest.approx(0.5)
    assert isinstance(global_norm(grads), float)
    assert clip_scale(grads, 1.0) == 1.0
    assert clip_scale(grads, 0.1) == pytest.approx(0.2)
    assert isinstance(clip_scale(grads, 0.1), float)


def test_global_norm_mixes_run_parameters_with_each_run():
    grads = {"a": np.array([[[3.0, 0.0]], [[0.0, 0.0]]]), "b": np.array([[[4.0]], [[1.0]]])}
    np.testing.assert_allclose(global_norm(grads), [5.0, 1.0])


def test_clip_value_leaves_small_entries_and_bounds_large_ones_on_both_sides():
    # step 1: (0.49, -0.49) pass, 0.7 becomes 0.5; step 2: -3 becomes -0.5, +-0.5 (on the bound) pass
    p = _run(SGD(1.0, clip_value=0.5), [(0.49, -0.49, 0.7), (-3.0, 0.5, -0.5)], p0=(0.0, 0.0, 0.0))
    np.testing.assert_allclose(p, [[-0.49 + 0.5, 0.49 - 0.5, -0.5 + 0.5]], atol=1e-16)


def test_clip_value_acts_before_clip_norm():
    # clipped to (0.5, 0.5, 0.1) first (norm 0.7141), then scaled to norm 0.5
    g = np.array([3.0, -4.0, 0.1])
    p = _run(SGD(1.0, clip_value=0.5, clip_norm=0.5), [g], p0=(0.0, 0.0, 0.0))
    clipped = np.array([0.5, -0.5, 0.1])
    np.testing.assert_allclose(p, [-clipped * 0.5 / np.linalg.norm(clipped)], rtol=1e-14)


# --- every argument takes effect -------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda **o: SGD(0.1, **o),
        lambda **o: SGD(0.1, momentum=0.5, **o),
        lambda **o: RMSprop(0.1, **o),
        lambda **o: Adam(0.1, **o),
        lambda **o: AdamW(0.1, **o),
    ],
    ids=["sgd", "momentum", "rmsprop", "adam", "adamw"],
)
def test_clipping_options_reach_every_optimizer(make):
    big = [(3.0, -4.0, 0.1), (-2.0, 0.2, 6.0)]
    # clipping as an option == the same rule fed gradients clipped by hand
    by_hand = [np.clip(g, -0.5, 0.5) for g in big]
    np.testing.assert_allclose(_run(make(clip_value=0.5), big), _run(make(), by_hand), rtol=1e-14)
    scaled = [np.asarray(g) * min(1.0, 1.0 / np.linalg.norm(g)) for g in big]
    np.testing.assert_allclose(_run(make(clip_norm=1.0), big), _run(make(), scaled), rtol=1e-14)


@pytest.mark.parametrize(
    "make", [lambda **o: SGD(0.1, **o), lambda **o: RMSprop(0.1, **o), lambda **o: Adam(0.1, **o)],
    ids=["sgd", "rmsprop", "adam"],
)
def test_coupled_weight_decay_reaches_every_optimizer(make):
    wd, p0 = 0.3, np.array([0.5, -1.0, 2.0])
    decayed = _run(make(weight_decay=wd), STEPS[:1], p0=p0)
    np.testing.assert_allclose(decayed, _run(make(), [np.array(STEPS[0]) + wd * p0], p0=p0), rtol=1e-14)


def test_adamw_decay_is_decoupled_and_reaches_the_parameters():
    lr, wd, p0 = 0.1, 0.3, np.array([0.5, -1.0, 2.0])
    tiny = [(1e-30, -1e-30, 1e-30)]  # a near-zero gradient: the step is the decay alone (plus eps noise)
    p = _run(AdamW(lr, weight_decay=wd, eps=1.0), tiny, p0=p0)
    np.testing.assert_allclose(p, [p0 * (1 - lr * wd)], rtol=1e-12)
    # default decay 0.01 (documented)
    np.testing.assert_allclose(_run(AdamW(lr, eps=1.0), tiny, p0=p0), [p0 * (1 - lr * 0.01)], rtol=1e-12)
    # clipping reaches AdamW, and its decay is not clipped
    p = _run(AdamW(lr, weight_decay=wd, clip_value=1e-40, eps=1e-300), [(5.0, -5.0, 5.0)], p0=p0)
    np.testing.assert_allclose(p, [p0 * (1 - lr * wd) - lr * np.array([1, -1, 1])], rtol=1e-12)


def _reference(name, steps, lr, p0=(0.5, -1.0, 2.0), momentum=0.0, nesterov=False, rho=0.99,
               beta1=0.9, beta2=0.999, eps=1e-8, wd=0.0):
    """The documented update rules on Python floats, one entry at a time."""
    out = []
    for j, p in enumerate(p0):
        m = v = 0.0
        for t, gs in enumerate(steps, start=1):
            g = gs[j]
            if name == "sgd":
                v = momentum * v + g
                p -= lr * ((g + momentum * v) if nesterov else (v if momentum else g))
            elif name == "rmsprop":
                v = rho * v + (1 - rho) * g * g
                p -= lr * g / (v**0.5 + eps)
            else:
                p -= lr * wd * p if name == "adamw" else 0.0
                m = beta1 * m + (1 - beta1) * g
                v = beta2 * v + (1 - beta2) * g * g
                p -= lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)) ** 0.5 + eps)
        out.append(p)
    return np.array([out])


@pytest.mark.parametrize(
    ("opt", "ref"),
    [
        (lambda: SGD(0.1), {"name": "sgd", "lr": 0.1}),
        (lambda: SGD(0.1, momentum=0.5), {"name": "sgd", "lr": 0.1, "momentum": 0.5}),
        (lambda: SGD(0.1, 0.7, nesterov=True), {"name": "sgd", "lr": 0.1, "momentum": 0.7, "nesterov": True}),
        # the defaults: RMSprop(lr=0.001, rho=0.99, eps=1e-8)
        (lambda: RMSprop(), {"name": "rmsprop", "lr": 0.001}),
        (lambda: RMSprop(0.02, rho=0.5, eps=1e-7), {"name": "rmsprop", "lr": 0.02, "rho": 0.5, "eps": 1e-7}),
        # the defaults: Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8)
        (lambda: Adam(), {"name": "adam", "lr": 0.001}),
        (lambda: Adam(0.02, 0.5, 0.7, 1e-7), {"name": "adam", "lr": 0.02, "beta1": 0.5, "beta2": 0.7, "eps": 1e-7}),
        # the defaults: AdamW(lr=0.001, ..., weight_decay=0.01)
        (lambda: AdamW(), {"name": "adamw", "lr": 0.001, "wd": 0.01}),
        (lambda: AdamW(0.02, 0.5, 0.7, 1e-7, weight_decay=0.2),
         {"name": "adamw", "lr": 0.02, "beta1": 0.5, "beta2": 0.7, "eps": 1e-7, "wd": 0.2}),
    ],
    ids=["sgd", "momentum", "nesterov", "rmsprop-defaults", "rmsprop", "adam-defaults", "adam", "adamw-defaults",
         "adamw"],
)
def test_three_steps_follow_the_documented_rule_with_the_given_or_default_arguments(opt, ref):
    ref = dict(ref)
    expected = _reference(ref.pop("name"), STEPS, **ref)
    optimizer = opt()
    np.testing.assert_allclose(_run(optimizer, STEPS), expected, rtol=1e-13, atol=1e-16)
    assert optimizer.t == 3


def test_default_arguments_are_the_documented_ones():
    assert (SGD(0.1).momentum, SGD(0.1).nesterov, SGD(0.1).weight_decay) == (0.0, False, 0.0)
    assert (SGD(0.1).clip_norm, SGD(0.1).clip_value) == (None, None)
    assert (RMSprop().lr, RMSprop().rho, RMSprop().eps) == (0.001, 0.99, 1e-8)
    assert (Adam().lr, Adam().beta1, Adam().beta2, Adam().eps, Adam().weight_decay) == (0.001, 0.9, 0.999, 1e-8, 0.0)
    assert (AdamW().lr, AdamW().weight_decay) == (0.001, 0.01)


def test_get_optimizer_short_names_and_options():
    momentum = get_optimizer("momentum", 0.2)
    assert type(momentum) is SGD and (momentum.lr, momentum.momentum, momentum.nesterov) == (0.2, 0.9, False)
    nesterov = get_optimizer("nesterov", 0.2, momentum=0.5, clip_norm=2.0)
    assert (nesterov.momentum, nesterov.nesterov, nesterov.clip_norm) == (0.5, True, 2.0)
    adam = get_optimizer("adam", 0.3, beta1=0.8, weight_decay=0.1)
    assert type(adam) is Adam and (adam.lr, adam.beta1, adam.weight_decay) == (0.3, 0.8, 0.1)
    for name, cls in [("sgd", SGD), ("rmsprop", RMSprop), ("adamw", AdamW)]:
        assert type(get_optimizer(name, 0.1)) is cls
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; known: adam, adamw, momentum, nesterov"):
        get_optimizer("adagrad", 0.1)


# --- validation at the boundaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(1e-300),
        lambda: SGD(0.1, momentum=0.0),
        lambda: SGD(0.1, momentum=0.999999),
        lambda: SGD(0.1, momentum=1e-9, nesterov=True),
        lambda: SGD(0.1, weight_decay=0.0, clip_norm=1e-300, clip_value=1e-300),
        lambda: RMSprop(0.1, rho=0.0, eps=1e-300),
        lambda: Adam(0.1, beta1=0.0, beta2=0.0, eps=1e-300),
        lambda: AdamW(0.1, weight_decay=0.0),
    ],
)
def test_values_just_inside_the_allowed_ranges_are_accepted(make):
    make()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(0.0), "lr"),
        (lambda: SGD(0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda: SGD(0.1, momentum=-1e-12), "momentum"),
        (lambda: SGD(0.1, weight_decay=-1e-12), "weight_decay"),
        (lambda: SGD(0.1, clip_norm=0.0), "clip_norm"),
        (lambda: SGD(0.1, clip_value=0.0), "clip_value"),
        (lambda: SGD(0.1, momentum=0.0, nesterov=True), "nesterov"),
        (lambda: RMSprop(0.1, rho=1.0), "rho"),
        (lambda: RMSprop(0.1, eps=0.0), "eps"),
        (lambda: Adam(0.1, beta1=1.0), "beta1"),
        (lambda: Adam(0.1, beta2=1.0), "beta2"),
        (lambda: AdamW(0.1, eps=0.0), "eps"),
    ],
)
def test_values_just_outside_the_allowed_ranges_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- state per parameter, large arrays -----------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda: SGD(0.1, momentum=0.9), lambda: SGD(0.1, momentum=0.9, nesterov=True), lambda: RMSprop(0.1),
     lambda: Adam(0.1), lambda: AdamW(0.1)],
    ids=["momentum", "nesterov", "rmsprop", "adam", "adamw"],
)
def test_each_parameter_keeps_its_own_state(make):
    rng = np.random.default_rng(0)
    p0 = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 3))}  # same shapes: state must not be shared
    gs = [{k: rng.normal(size=(2, 3)) for k in p0} for _ in range(3)]
    together, opt = {k: v.copy() for k, v in p0.items()}, make()
    for g in gs:
        opt.step(together, g)
    for k in p0:
        alone, single = p0[k].copy(), make()
        for g in gs:
            single.step({k: alone}, {k: g[k]})
        np.testing.assert_allclose(together[k], alone, rtol=1e-15, err_msg=k)


def test_sgd_on_large_arrays_of_changing_shape_and_dtype():
    # arrays of 4096 entries and more take a different path (a scratch buffer kept between steps)
    opt = SGD(0.5)
    rng = np.random.default_rng(0)
    for shape, dtype in [((64, 64), np.float64), ((64, 64), np.float64), ((65, 64), np.float64),
                         ((65, 64), np.float32), ((63, 65), np.float64), ((2, 2), np.float64)]:
        p, g = rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)
        params = {"w": p.copy(), "v": p[::-1].copy()}
        opt.step(params, {"w": g, "v": g[::-1]})
        np.testing.assert_allclose(params["w"], p - np.asarray(0.5, dtype) * g, rtol=1e-6 if dtype == np.float32 else 0)
        np.testing.assert_allclose(params["v"], (p - np.asarray(0.5, dtype) * g)[::-1],
                                   rtol=1e-6 if dtype == np.float32 else 0)
        assert params["w"].dtype == dtype
    assert opt.t == 6


def test_steps_are_counted_for_every_optimizer():
    for opt in (SGD(0.1), SGD(0.1, momentum=0.5), RMSprop(), Adam(), AdamW()):
        for _ in range(4):
            opt.step({"w": np.ones((1, 2))}, {"w": np.ones((1, 2))})
        assert opt.t == 4, opt


def test_sgd_on_a_large_array_allocates_nothing_after_its_first_step():
    # The point of the scratch buffer (Optimizer._scaled): a wide layer's step makes no new array of
    # its size, so the allocator does not hand megabytes back and fault them in again at every step.
    # Two such arrays of different shapes: each keeps its own buffer.
    opt = SGD(0.1)
    p, g = {"w": np.zeros(100_000), "v": np.zeros(90_000)}, {"w": np.ones(100_000), "v": np.ones(90_000)}
    opt.step(p, g)  # the first step allocates the buffers
    tracemalloc.start()
    try:
        opt.step(p, g)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 72_000  # a tenth of the smaller array
    np.testing.assert_allclose(p["w"], -0.2)
    np.testing.assert_allclose(p["v"], -0.2)


def test_sgd_scratch_buffer_follows_the_dtype_of_the_gradient():
    # float32 then float64 under one name and one shape: the float64 step must not go through float32.
    opt = SGD(1.0)
    for dtype in (np.float32, np.float64):
        p = np.zeros(5000, dtype)
        opt.step({"w": p}, {"w": np.full(5000, 1 + 1e-12, dtype)})
        assert p.dtype == dtype and p[0] == -np.asarray(1 + 1e-12, dtype)


def test_optimizer_state_uses_pytorchs_names():
    # Checkpoints save `state` by these names (files written before must load): PyTorch's names.
    expected = {SGD(0.1, momentum=0.5): {"velocity"}, RMSprop(): {"square_avg"}, Adam(): {"m", "v"},
                AdamW(): {"m", "v"}, SGD(0.1): set()}
    for opt, names in expected.items():
        opt.step({"w": np.ones(3)}, {"w": np.ones(3)})
        assert set(opt.state.get("w", {})) == names, opt


def test_clip_norm_on_one_dimensional_parameters():
    # Optimizers take any dict of arrays (the docstrings' examples use 1-D ones): norm 5, clipped to 1.
    p = {"w": np.zeros(2), "b": np.zeros(1)}
    SGD(1.0, clip_norm=1.0).step(p, {"w": np.array([3.0, 0.0]), "b": np.array([4.0])})
    np.testing.assert_allclose(np.concatenate([p["w"], p["b"]]), [-0.6, 0.0, -0.8])


def test_repr_names_each_optimizers_hyper_parameters():
    assert repr(RMSprop(0.01, rho=0.9)) == "RMSprop(lr=0.01, rho=0.9, eps=1e-08)"
    assert repr(Adam(0.1, weight_decay=0.5)) == "Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.5)"
    nesterov = SGD(0.1, 0.9, nesterov=True, clip_norm=1.0)
    assert repr(nesterov) == "SGD(lr=0.1, momentum=0.9, nesterov=True, clip_norm=1.0)"
