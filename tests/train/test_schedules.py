"""Learning-rate schedules: their formulas, and the rate fit actually uses in each epoch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.optim import SGD
from backproplab.data import logic_table
from backproplab.train.loop import Callback
from backproplab.train.schedules import (
    SCHEDULES,
    CosineDecay,
    ExponentialDecay,
    InverseScaling,
    Plateau,
    ReduceOnPlateau,
    StepDecay,
)


def test_step_decay_formula():
    s = StepDecay(step_size=3, gamma=0.5)
    assert [s.lr_at(e, 1.0) for e in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def test_exponential_decay_formula():
    s = ExponentialDecay(0.9)
    for e in range(5):
        assert s.lr_at(e, 2.0) == pytest.approx(2.0 * 0.9**e)


def test_cosine_decay_endpoints_midpoint_and_floor():
    s = CosineDecay(t_max=10, min_factor=0.1)
    assert s.lr_at(0, 1.0) == pytest.approx(1.0)
    assert s.lr_at(5, 1.0) == pytest.approx(0.1 + 0.9 * 0.5)
    assert s.lr_at(10, 1.0) == pytest.approx(0.1)
    assert s.lr_at(25, 1.0) == pytest.approx(0.1)
    rates = [s.lr_at(e, 1.0) for e in range(11)]
    assert all(a > b for a, b in itertools.pairwise(rates))


class RecordLR(Callback):
    """Records the learning rate in force during each epoch (read at its end, before a schedule changes it)."""

    def __init__(self):
        self.rates = []

    def on_epoch_end(self, state):
        self.rates.append(state.optimizer.lr)


@pytest.mark.parametrize(
    "schedule", [StepDecay(2, 0.5), ExponentialDecay(0.8), CosineDecay(4), InverseScaling(0.5, scale=3)]
)
def test_fit_uses_lr_at_epoch_and_restores_base(schedule):
    X, y = logic_table("xor")
    net = bp.mlp([2, 3, 1], seed=0)
    opt = SGD(0.4)
    record = RecordLR()
    bp.fit(net, X, y, optimizer=opt, epochs=6, progress=False, callbacks=[record, schedule])
    assert record.rates == pytest.approx([schedule.lr_at(e, 0.4) for e in range(6)])
    assert opt.lr == 0.4


def test_schedule_changes_the_trained_weights_like_manual_lr_changes():
    X, y = logic_table("and")
    a, b = bp.mlp([2, 4, 1], seed=3), bp.mlp([2, 4, 1], seed=3)
    bp.fit(a, X, y, optimizer=SGD(0.5), epochs=3, progress=False, callbacks=[ExponentialDecay(0.5)])
    for e in range(3):  # the same three epochs, the rate set by hand
        bp.fit(b, X, y, optimizer=SGD(0.5 * 0.5**e), epochs=1, progress=False)
    for name, p in a.params.items():
        np.testing.assert_allclose(p, b.params[name], rtol=1e-13)


def test_lr_at_without_base_raises():
    with pytest.raises(ValueError, match="base_lr"):
        CosineDecay(3).lr_at(1)


@pytest.mark.parametrize(
    ("make", "match"),
    [(lambda: StepDecay(0), "step_size"), (lambda: ExponentialDecay(-1), "gamma"),
     (lambda: CosineDecay(5, min_factor=2), "min_factor"), (lambda: CosineDecay(0), "t_max"),
     (lambda: InverseScaling(-0.5), "power_t"), (lambda: InverseScaling(0.5, scale=0), "scale"),
     (lambda: Plateau(0), "patience"), (lambda: Plateau(-np.inf), "patience"), (lambda: Plateau(3, -1), "min_delta"),
     (lambda: Plateau(3, mode="up"), "mode"), (lambda: ReduceOnPlateau(divisor=0.5), "divisor")],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_registry_names():
    assert set(SCHEDULES) == {"step", "exponential", "cosine"}
    assert math.isclose(SCHEDULES["cosine"](2).lr_at(1, 1.0), 0.5)


def test_inverse_scaling_is_scikit_learns_invscaling():
    """scikit-learn's SGD sets lr = lr0 / (t + 1) ** power_t after each epoch, t = samples seen so far."""
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    theirs = SGDOptimizer([np.zeros(1)], 0.1, "invscaling", power_t=0.3)
    n, mine = 37, InverseScaling(0.3, scale=37)
    for epoch in range(1, 6):
        theirs.iteration_ends(epoch * n)
        assert mine.lr_at(epoch, 0.1) == pytest.approx(theirs.learning_rate, rel=1e-15)
        assert InverseScaling(0.3).lr_at(epoch * n, 0.1) == pytest.approx(theirs.learning_rate, rel=1e-15)
    assert InverseScaling(0.0).lr_at(1000, 0.1) == 0.1  # power 0: constant


def test_plateau_counts_like_scikit_learn():
    p = Plateau(patience=2, min_delta=0.1)
    # 1.0 improves on inf; 0.95 is better but by < 0.1: counts and becomes the best; 0.8 improves on 0.95 by 0.15
    assert [p.update(v) for v in (1.0, 0.95, 0.8, 0.75, 0.74, 0.9)] == [False, False, False, False, False, True]
    assert p.best == 0.74 and p.count == 3
    p.reset()
    assert p.count == 0 and p.best == 0.74
    score = Plateau(patience=1, min_delta=0.01, mode="max")
    assert [score.update(v) for v in (0.5, 0.6, 0.6, 0.6)] == [False, False, False, True]
    flat = Plateau(patience=1, min_delta=0.0)
    assert not any(flat.update(1.0) for _ in range(5)) and flat.count == 0  # with no margin, equal is no stall
    forever = Plateau(patience=np.inf)
    assert not any(forever.update(1.0) for _ in range(1000))


def test_reduce_on_plateau_divides_then_stops():
    class Opt:
        lr = 1e-5

    opt, r = Opt(), ReduceOnPlateau(patience=1, min_delta=1e-3)
    stops = [r.observe(1.0, opt) for _ in range(7)]
    # the count exceeds 1 on the 3rd epoch (1.0 then two stalls): 1e-5 -> 2e-6, again 2 epochs later -> 4e-7,
    # and 2 epochs later the rate is below min_lr=1e-6: stop
    assert stops == [False, False, False, False, False, False, True]
    assert opt.lr == pytest.approx(1e-5 / 25, rel=1e-15)


def test_reduce_on_plateau_in_fit_lowers_the_rate_and_restores_it():
    X, y = logic_table("xor")
    record, opt = RecordLR(), SGD(1e-9)  # too small to make progress: every epoch is a plateau
    reduce = ReduceOnPlateau(patience=2, min_delta=1e-3, min_lr=1e-12)
    bp.fit(bp.mlp([2, 3, 1], seed=0), X, y, optimizer=opt, epochs=8, progress=False, callbacks=[reduce, record])
    assert record.rates[:3] == [1e-9] * 3 and record.rates[3] == pytest.approx(2e-10)
    assert opt.lr == 1e-9
    assert set(reduce.state_dict()) == {"best", "count"}
