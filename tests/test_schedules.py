"""Learning-rate schedules: their formulas, and the rate fit actually uses in each epoch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import logic_table
from backproplab.optim import SGD
from backproplab.schedules import SCHEDULES, CosineDecay, ExponentialDecay, StepDecay
from backproplab.training import Callback


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


@pytest.mark.parametrize("schedule", [StepDecay(2, 0.5), ExponentialDecay(0.8), CosineDecay(4)])
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
     (lambda: CosineDecay(5, min_factor=2), "min_factor"), (lambda: CosineDecay(0), "t_max")],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_registry_names():
    assert set(SCHEDULES) == {"step", "exponential", "cosine"}
    assert math.isclose(SCHEDULES["cosine"](2).lr_at(1, 1.0), 0.5)
